import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { DemoApi } from "../../demo/src/demo-api";
import { ensureWebBuild } from "../../demo/src/web-build";

// The dashboard end to end on `npm run demo`: the real control plane (embedded PGlite), every
// Bookinfo instance behind its own trellis-proxy with mTLS, the ingress gateway, the load
// generator's traffic, and the dashboard's production build (`next start`) — driven in Debian's
// Chromium. A screenshot of each page goes to TRELLIS_SCREENSHOTS_DIR (default: a temporary
// directory, removed afterwards); `TRELLIS_SCREENSHOTS_DIR=docs/screenshots` refreshes the README's.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const webDir = path.join(repoRoot, "apps/web");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const VIEWER_PASSWORD = "a-long-viewer-password";

interface Ready {
  event: "ready";
  api: string;
  ingress: string;
  web: string;
  admin: { username: string; password: string };
}

describe("the dashboard on the running demo, in Chromium", { timeout: 420_000 }, () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "trellis-e2e-"));
  const shots = process.env.TRELLIS_SCREENSHOTS_DIR ? path.resolve(repoRoot, process.env.TRELLIS_SCREENSHOTS_DIR) : path.join(dataDir, "screenshots");
  let demo: ChildProcess;
  let ready: Ready;
  let admin: DemoApi;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  /**
   * A screenshot of the page as it is, after checking it fits the window's width (no sideways
   * scrolling) and that nothing jumped as its data arrived: the layout shift the browser
   * measured since the page loaded (CLS, shifts right after input excluded) is under 0.1,
   * the bound Chrome calls good.
   */
  const shoot = async (name: string) => {
    // Taken first, so a page that fails a check below is there to look at.
    const file = path.join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    assert.ok(statSync(file).size > 10_000, `${name}.png has a picture in it`);
    const wide = (await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")) as [number, number];
    assert.ok(wide[0] <= wide[1], `${name} fits ${wide[1]} px without scrolling sideways (it is ${wide[0]} px wide)`);
    const cls = (await page.evaluate("window.__layoutShift ?? -1")) as number;
    assert.ok(cls >= 0 && cls < 0.1, `${name}: layout shift ${cls} as the data arrived (moved: ${String(await page.evaluate("(window.__shifted || []).join(', ')"))})`);
  };
  const signIn = async (p: Page, username: string, password: string, next = "/") => {
    await p.goto(`${ready.web}/login?next=${encodeURIComponent(next)}`);
    await p.fill("input[name=username]", username);
    await p.fill("input[name=password]", password);
    await p.click("button[type=submit]");
    await p.waitForURL(`${ready.web}${next}`);
  };
  /** The version of reviews the product page showed, over `n` requests through the ingress. */
  const reviewsVersions = async (n: number) => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const html = await (await fetch(`${ready.ingress}/productpage`)).text();
      seen.add(/reviews (v\d)/.exec(html)?.[1] ?? "none");
    }
    return [...seen].sort();
  };

  before(async () => {
    mkdirSync(shots, { recursive: true });
    // Built here rather than inside the demo, so the time goes to this hook's budget, not the demo's start-up wait.
    await ensureWebBuild(webDir, path.join(repoRoot, "node_modules/next/dist/bin/next"));
    demo = spawn(process.execPath, ["--import", "tsx", "apps/demo/src/demo.ts", "--json", "--data-dir", path.join(dataDir, "demo"), "--api-port", "0", "--ingress-port", "0", "--tls-port", "0", "--bookstore-port", "0", "--web-port", "0", "--rate", "20"], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
    ready = await new Promise<Ready>((resolve, reject) => {
      let buf = "";
      const timer = setTimeout(() => reject(new Error("the demo was not ready within 180 s")), 180_000);
      demo.stdout!.on("data", (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          let e: { event?: string; error?: string };
          try {
            e = JSON.parse(line) as typeof e;
          } catch {
            continue;
          }
          if (e.event === "ready") {
            clearTimeout(timer);
            resolve(e as Ready);
          } else if (e.event === "failed") {
            clearTimeout(timer);
            reject(new Error(`the demo failed: ${e.error}`));
          }
        }
      });
      demo.once("exit", (code) => reject(new Error(`the demo exited (${code}) before it was ready`)));
    });
    admin = await DemoApi.signIn(ready.api, ready.admin.username, ready.admin.password);
    await admin.mutate("auth.users.create", { username: "vera", password: VIEWER_PASSWORD, role: "viewer" });
    // The ingress decides sampling for the load generator's requests: 20 % (not the default
    // 1 %), so a trace across the mesh is there to open within seconds even on a busy machine.
    type Svc = { kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> };
    const ingressService = await admin.query<Svc>("resources.get", { kind: "Service", namespace: "bookinfo", name: "ingress" });
    await admin.mutate("resources.write", { baseRevision: await admin.query<number>("revisions.head"), upserts: [{ ...ingressService, spec: { ...ingressService.spec, traceSampling: 20 } }], message: "e2e: sample 20 % of requests" });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Sums the page's layout shifts from its first paint on (Chromium's Layout Instability API).
    await context.addInitScript({
      content:
        "window.__layoutShift = 0; window.__shifted = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) { window.__layoutShift += e.value; for (const s of e.sources || []) if (s.node && s.node.nodeType === 1) window.__shifted.push(s.node.tagName + (s.node.dataset && s.node.dataset.testid ? '#' + s.node.dataset.testid : '') + ' ' + Math.round(e.value * 1000) / 1000); } }).observe({ type: 'layout-shift', buffered: true });",
    });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      const exited = new Promise((r) => demo.once("exit", r));
      demo.kill("SIGINT");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (demo.exitCode === null) demo.kill("SIGKILL");
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("anonymous visitors reach only the sign-in page, and the API answers them 401", async () => {
    for (const p of ["/", "/graph", "/services/bookinfo/productpage", "/workloads/bookinfo/productpage-v1", "/traces", "/proxies", "/history", "/tap"]) {
      await page.goto(`${ready.web}${p}`);
      await page.waitForURL((u) => u.pathname === "/login", { timeout: 15_000 });
      assert.equal(new URL(page.url()).searchParams.get("next"), p, `${p} asks to sign in and comes back after`);
    }
    assert.equal((await fetch(`${ready.web}/trpc/resources.list`)).status, 401);
    await shoot("login");
  });

  it("signed in, the overview shows Bookinfo's services with live traffic", async () => {
    await signIn(page, "admin", ready.admin.password);
    const row = page.getByTestId("service-bookinfo-productpage");
    await row.waitFor();
    // The rate column fills in from the live graph.
    await page.waitForFunction("/[0-9]/.test(document.querySelector('[data-testid=service-bookinfo-productpage] td:nth-child(3)')?.textContent ?? '')", undefined, { timeout: 30_000 });
    await shoot("overview");
  });

  it("the graph shows the demo's services with live request rates", async () => {
    await page.goto(`${ready.web}/graph`);
    await page.getByTestId("graph-status").filter({ hasText: /^([6-9]|[1-9][0-9]+) nodes · ([5-9]|[1-9][0-9]+) edges/ }).waitFor({ timeout: 30_000 });
    // Every edge the load generator drives carries a rate: ingress → productpage → details, reviews → ratings, and more.
    await page.fill("input[name=find]", "rps>0.1");
    await page.getByTestId("find-status").filter({ hasText: /([4-9]|[1-9][0-9]+) found/ }).waitFor({ timeout: 30_000 });
    await page.fill("input[name=find]", "name=productpage");
    await page.getByTestId("find-status").filter({ hasText: /^1 found/ }).waitFor();
    await page.fill("input[name=find]", "");
    await page.waitForTimeout(500);
    await shoot("graph");
  });

  it("productpage's service page charts its live traffic", async () => {
    await page.goto(`${ready.web}/services/bookinfo/productpage`);
    await page.waitForFunction("/[0-9.]+ req\\/s/.test(document.querySelector('[data-testid=signals-summary]')?.textContent ?? '')", undefined, { timeout: 30_000 });
    const rate = Number(/([0-9.]+) req\/s/.exec(await page.getByTestId("signals-summary").innerText())![1]);
    assert.ok(rate > 0, `productpage takes the load generator's traffic, saw ${rate} req/s`);
    for (const c of ["chart-rps", "chart-errors", "chart-latency"]) assert.ok((await page.getByTestId(c).locator("canvas").count()) > 0, `${c} drawn`);
    await page.getByTestId("workloads").filter({ hasText: "productpage-v1" }).waitFor();
    await page.getByTestId("applies").filter({ hasText: "AuthorizationPolicy" }).waitFor();
    await shoot("service");
  });

  it("productpage-v1's workload page: its proxy SYNCED with a certificate, and a config dump it runs", async () => {
    await page.getByTestId("workloads").getByRole("link", { name: "productpage-v1" }).click();
    await page.waitForURL(`${ready.web}/workloads/bookinfo/productpage-v1`);
    await page.getByTestId("workload-proxy").filter({ hasText: "SYNCED" }).waitFor();
    assert.match(await page.getByTestId("workload-proxy").innerText(), /certificate expires in \d+ h/);
    await page.getByTestId("config-dump-version").filter({ hasText: "in sync" }).waitFor();
    const outbound = page.getByTestId("dump-outbound");
    assert.match(await outbound.locator("summary").innerText(), /[1-9]\d* hosts: .*details\.bookinfo/);
    await outbound.locator("summary").click();
    assert.match(await outbound.locator("pre").innerText(), /"host": "reviews\.bookinfo"/);
    assert.match(await page.getByTestId("dump-inbound").locator("summary").innerText(), /mTLS STRICT/);
    await shoot("workload");
  });

  it("a trace of the demo's traffic opens as a waterfall across services", async () => {
    await page.goto(`${ready.web}/traces?service=productpage`);
    const results = page.getByTestId("trace-results");
    for (let i = 0; i < 40 && (await results.count()) === 0; i++) {
      await page.getByRole("button", { name: "Search" }).click();
      await page.waitForTimeout(1000);
    }
    await results.waitFor();
    await shoot("traces");
    // One that crosses the mesh: the demo's apps pass the trace headers on, as Bookinfo's do.
    const deep = results.locator("tbody tr").filter({ hasText: /productpage, .*reviews/ });
    for (let i = 0; i < 30 && (await deep.count()) === 0; i++) {
      await page.waitForTimeout(1000);
      await page.getByRole("button", { name: "Search" }).click();
    }
    await deep.first().locator("a").click();
    await page.waitForURL(/\/traces\/[0-9a-f]{32}$/);
    const spans = page.getByTestId("waterfall").getByRole("button");
    await spans.first().waitFor();
    // Proxies export spans in batches every few seconds: a fresh trace may still be missing its later spans.
    for (let i = 0; i < 10 && (await spans.count()) < 4; i++) {
      await page.waitForTimeout(1000);
      await page.reload();
      await spans.first().waitFor();
    }
    assert.ok((await spans.count()) >= 4, "ingress → productpage → reviews, client and server spans");
    // By keyboard: a span row takes focus and Enter opens its details.
    await spans.nth(1).focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("span-details").waitFor();
    await shoot("trace");
  });

  it("the proxy list shows every Bookinfo proxy SYNCED", async () => {
    await page.goto(`${ready.web}/proxies`);
    const row = page.getByTestId("proxy-bookinfo/reviews-v1");
    await row.waitFor();
    assert.match(await row.innerText(), /SYNCED/);
    await shoot("proxies");
  });

  it("the live tap streams the load generator's requests", async () => {
    await page.goto(`${ready.web}/tap`);
    await page.fill("input[name=destinationService]", "productpage");
    await page.getByRole("button", { name: "Start tap" }).click();
    await page.getByTestId("tap-events").filter({ hasText: "200" }).waitFor({ timeout: 20_000 });
    await shoot("tap");
    await page.getByRole("button", { name: /Stop/ }).click();
  });

  it("a rollback in history changes the live routing", async () => {
    // An operator sends every reviews request to v3 …
    type Route = { kind: string; metadata: { name: string; namespace: string }; spec: { http: { route: { weight: number; destination: { subset?: string } }[] }[] } };
    const route = await admin.query<Route>("resources.get", { kind: "Route", namespace: "bookinfo", name: "reviews" });
    const before = await admin.query<number>("revisions.head");
    const canary = structuredClone(route);
    for (const d of canary.spec.http[0]!.route) d.weight = d.destination.subset === "v3" ? 100 : 0;
    await admin.mutate("resources.write", { baseRevision: before, upserts: [canary], message: "all of reviews to v3" });
    const deadline = Date.now() + 20_000;
    while ((await reviewsVersions(5)).join() !== "v3") {
      assert.ok(Date.now() < deadline, "the canary reached the proxies");
      await new Promise((r) => setTimeout(r, 250));
    }
    // … and rolls it back from the dashboard.
    await page.goto(`${ready.web}/history`);
    await page.getByRole("button", { name: `Roll back to ${before}` }).click();
    await page.getByRole("button", { name: "Confirm rollback" }).click();
    await page.getByTestId(`revision-${before + 2}`).filter({ hasText: `rollback to revision ${before}` }).waitFor();
    const back = Date.now() + 20_000;
    while ((await reviewsVersions(5)).join() !== "v1") {
      assert.ok(Date.now() < back, "the rollback reached the proxies");
      await new Promise((r) => setTimeout(r, 250));
    }
    await shoot("history");
  });

  it("the traffic editor: reviews dragged from 100/0 to 50/50 shows its blast radius and the what-if before saving; saved, v2 gets traffic within 10 s", async () => {
    await page.goto(`${ready.web}/services/bookinfo/reviews`);
    await page.getByRole("link", { name: /Traffic: routes, canary, faults/ }).click();
    await page.waitForURL(`${ready.web}/services/bookinfo/reviews/traffic`);
    const weights = page.getByTestId("weights-0");
    await weights.waitFor();
    assert.equal(await page.getByTestId("weight-v1").innerText(), "100 %");
    // Drag v2's handle to the middle: v1 gives way, the total stays 100.
    const handle = page.getByRole("slider", { name: "weight of v2" });
    const box = (await handle.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    // A click lands within a step or two of the middle; the arrow keys (keyboard use) set it exactly.
    for (let i = 0; i < 5 && (await page.getByTestId("weight-v2").innerText()) !== "50 %"; i++) {
      const now = Number((await page.getByTestId("weight-v2").innerText()).replace(" %", ""));
      await handle.press(now < 50 ? "ArrowRight" : "ArrowLeft");
    }
    assert.equal(await page.getByTestId("weight-v2").innerText(), "50 %");
    assert.equal(await page.getByTestId("weight-v1").innerText(), "50 %");
    assert.equal(await page.getByTestId("weight-v3").innerText(), "0 %");
    // The preview: the callers of reviews get a new snapshot, with the weights in their diff.
    await page.getByTestId("blast-summary").filter({ hasText: /[1-9]\d* of \d+ proxies get a new snapshot/ }).waitFor({ timeout: 10_000 });
    const impact = page.getByTestId("impact-bookinfo/productpage-v1");
    await impact.locator("summary").click();
    assert.match(await impact.innerText(), /weight[\s\S]*100[\s\S]*50/);
    // The what-if, with the unsaved edit: half of productpage's requests would reach v2.
    const whatIf = page.getByTestId("what-if");
    await whatIf.locator("select[name=source]").selectOption("bookinfo/productpage-v1");
    await whatIf.getByRole("button", { name: "Evaluate" }).click();
    const answer = page.getByTestId("what-if-answer");
    await answer.waitFor();
    assert.match(await answer.innerText(), /reviews\.bookinfo \/ v1:9080\s+50 %[\s\S]*reviews\.bookinfo \/ v2:9080\s+50 %/);
    assert.match(await answer.innerText(), /allowed/);
    await page.fill("input[name=message]", "canary: reviews v2 at 50 %");
    await page.getByTestId("save").click();
    await page.getByTestId("save-status").filter({ hasText: /Saved as revision \d+/ }).waitFor();
    const saved = Date.now();
    await shoot("traffic");
    // Within 10 s of the save, the metrics show the split: the versioned-app graph of the last
    // 10 s has traffic from productpage to reviews v2 as well as v1 (the dashboard's graph API).
    type AppGraph = { edges: { source: string; target: string; traffic: { requests: number } | null }[] };
    const toReviews = async () => {
      const g = await admin.query<AppGraph>("graph.get", { kind: "app", windowSec: 10 });
      return new Set(g.edges.filter((e) => e.source.startsWith("app:bookinfo/productpage") && /^app:bookinfo\/reviews\/v[12]$/.test(e.target) && (e.traffic?.requests ?? 0) > 0).map((e) => e.target.slice(-2)));
    };
    let versions = new Set<string>();
    while (!(versions = await toReviews()).has("v2") || !versions.has("v1")) {
      assert.ok(Date.now() - saved < 10_000, `the split showed in the metrics within 10 s of the save (saw ${[...versions].join(", ") || "nothing"})`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const seenAfterMs = Date.now() - saved;
    assert.ok(seenAfterMs < 10_000);
    // Product pages come from v2 too, and reviews-v2's own page shows its traffic.
    for (let i = 0; i < 20 && !(await reviewsVersions(6)).includes("v2"); i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok((await reviewsVersions(12)).includes("v2"), "v2 answers product pages");
    await page.goto(`${ready.web}/workloads/bookinfo/reviews-v2`);
    await page.waitForFunction("/^(?!0\\.00 )[0-9.]+ req\\/s/.test(document.querySelector('[data-testid=signals-summary]')?.textContent ?? '')", undefined, { timeout: 15_000 });
    console.error(`# the 50/50 split showed in the metrics ${seenAfterMs} ms after the save`);
  });

  it("fault injection from the editor: a 50 % abort on reviews shows as errors on the graph's productpage → reviews edge", async () => {
    await page.goto(`${ready.web}/services/bookinfo/reviews/traffic`);
    await page.getByTestId("weights-0").waitFor();
    await page.fill("input[name=abort-0]", "503");
    await page.fill("input[name=abort-pct-0]", "50");
    await page.getByTestId("blast-summary").filter({ hasText: /proxies get a new snapshot/ }).waitFor({ timeout: 10_000 });
    await page.fill("input[name=message]", "fault: half of reviews calls abort");
    await page.getByTestId("save").click();
    await page.getByTestId("save-status").filter({ hasText: /Saved as revision \d+/ }).waitFor();
    // The edge's error rate over the last minute climbs past 10 % as the aborted calls come in.
    const deadline = Date.now() + 30_000;
    let rate = 0;
    while (Date.now() < deadline) {
      const g = await admin.query<{ edges: { id: string; traffic: { errorRate: number | null } | null }[] }>("graph.get", { kind: "service", windowSec: 10 });
      rate = g.edges.find((e) => e.id.startsWith("svc:bookinfo/productpage>svc:bookinfo/reviews"))?.traffic?.errorRate ?? 0;
      if (rate > 0.2) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(rate > 0.2, `productpage → reviews error rate ${rate}`);
    await page.goto(`${ready.web}/graph`);
    await page.getByTestId("graph-status").filter({ hasText: /edges/ }).waitFor();
    await page.fill("input[name=find]", "errors>10%");
    await page.getByTestId("find-status").filter({ hasText: /[1-9]\d* found/ }).waitFor({ timeout: 20_000 });
    await page.fill("input[name=find]", "");
    // And off again, from the editor.
    await page.goto(`${ready.web}/services/bookinfo/reviews/traffic`);
    await page.getByTestId("weights-0").waitFor();
    await page.fill("input[name=abort-0]", "");
    await page.getByTestId("blast-summary").filter({ hasText: /proxies get a new snapshot/ }).waitFor({ timeout: 10_000 });
    await page.fill("input[name=message]", "fault off");
    await page.getByTestId("save").click();
    await page.getByTestId("save-status").filter({ hasText: /Saved as revision \d+/ }).waitFor();
  });

  it("an automated canary whose canary fails more than the stable subset rolls back by itself", async () => {
    // reviews-v3 starts failing 60 % of its calls (the demo apps follow knobs/<workload>.json).
    const knobs = path.join(dataDir, "demo", "knobs", "reviews-v3.json");
    writeFileSync(knobs, JSON.stringify({ failureRate: 0.6 }));
    try {
      await page.goto(`${ready.web}/canaries?route=bookinfo%2Freviews`);
      await page.locator("select[name=canary]").selectOption("v3");
      await page.locator("select[name=stable]").selectOption("v1");
      await page.fill("input[name=step]", "20");
      await page.fill("input[name=interval]", "5");
      await page.fill("input[name=min]", "5");
      await page.getByRole("button", { name: "Start canary" }).click();
      const run = page.locator("[data-testid^=canary-]").filter({ hasText: "v3 of reviews.bookinfo" }).first();
      await run.getByTestId("canary-state").filter({ hasText: "running" }).waitFor();
      // One interval of traffic on v3 is enough for the gate to see it; the rollback needs no one.
      await run.getByTestId("canary-state").filter({ hasText: "rolled back" }).waitFor({ timeout: 45_000 });
      assert.match(await run.getByTestId("canary-weight").innerText(), /v1 100 % · v3 0 % · error rate [\d.]+ % on the canary against [\d.]+ % on stable/);
      await shoot("canaries");
      type Route = { spec: { http: { route: { weight: number; destination: { subset?: string } }[] }[] } };
      const route = await admin.query<Route>("resources.get", { kind: "Route", namespace: "bookinfo", name: "reviews" });
      assert.deepEqual(route.spec.http[0]!.route.map((d) => [d.destination.subset, d.weight]), [["v1", 100], ["v2", 0], ["v3", 0]]);
    } finally {
      rmSync(knobs, { force: true });
    }
  });

  it("security: a DENY policy built in the editor is refused by the what-if before it is saved, and once saved the tap shows the 403s", async () => {
    await page.goto(`${ready.web}/security`);
    await page.getByTestId("mtls-bookinfo-details").waitFor();
    // The observed mTLS share sits beside each service's mode.
    await page.waitForFunction("/100\\.0 %/.test(document.querySelector('[data-testid=mtls-bookinfo-details]')?.textContent ?? '')", undefined, { timeout: 15_000 });
    await page.getByRole("button", { name: "New policy" }).click();
    await page.fill("input[name=policy-name]", "deny-details");
    await page.locator("select[name=policy-target]").selectOption("details");
    await page.locator("select[name=policy-action]").selectOption("DENY");
    await page.fill("input[name=to-paths-0]", "/details/*");
    await page.getByTestId("blast-summary").filter({ hasText: /1 of \d+ proxies get a new snapshot/ }).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId("impact-bookinfo/details-v1").count(), 1, "only details' proxy changes");
    // What-if, with the unsaved policy: productpage's call to details is denied.
    const whatIf = page.getByTestId("what-if");
    await whatIf.locator("select[name=source]").selectOption("bookinfo/productpage-v1");
    await whatIf.locator("input[name=authority]").fill("details:9080");
    await whatIf.locator("input[name=path]").fill("/details/0");
    await whatIf.getByRole("button", { name: "Evaluate" }).click();
    const answer = page.getByTestId("what-if-answer");
    await answer.filter({ hasText: "denied" }).waitFor();
    assert.match(await answer.innerText(), /403[\s\S]*denied by AuthorizationPolicy\/bookinfo\/deny-details/);
    await shoot("security");
    // And on the traffic of the last minutes: productpage's calls to details would now be refused.
    await page.getByTestId("traffic-impact").getByRole("button", { name: "Check the change" }).click();
    const flow = page.getByTestId("flow-bookinfo/productpage>bookinfo/details");
    await flow.waitFor({ timeout: 10_000 });
    assert.match(await flow.innerText(), /newly denied[\s\S]*GET \/details\/0[\s\S]*refused — denied by AuthorizationPolicy\/bookinfo\/deny-details/);
    // Without the edit, the same request is allowed: nothing was saved yet.
    await whatIf.getByLabel("with the unsaved edit").uncheck();
    await whatIf.getByRole("button", { name: "Evaluate" }).click();
    await answer.filter({ hasText: /^allowed/ }).waitFor();
    await page.getByRole("button", { name: "Keep in the change" }).click();
    await page.fill("input[name=message]", "deny details' API");
    await page.getByTestId("save").click();
    await page.getByTestId("save-status").filter({ hasText: /Saved as revision \d+/ }).waitFor();
    // The tap on details shows the 403s as the load generator's pages call it.
    await page.goto(`${ready.web}/tap`);
    await page.fill("input[name=destinationService]", "details");
    await page.getByRole("button", { name: "Start tap" }).click();
    await page.getByTestId("tap-events").locator("td.num", { hasText: /^403$/ }).first().waitFor({ timeout: 20_000 });
    await page.getByRole("button", { name: /Stop/ }).click();
    // Policies suggested from the traffic seen are offered for a preview, never written by themselves.
    const head = await admin.query<number>("revisions.head");
    await page.goto(`${ready.web}/security`);
    await page.getByRole("button", { name: "Suggest policies" }).click();
    await page.getByTestId("suggest-notes").waitFor({ timeout: 15_000 });
    assert.match(await page.getByTestId("security-change").innerText(), /create AuthorizationPolicy\/bookinfo\/reviews-observed/);
    await page.getByTestId("blast-summary").filter({ hasText: /proxies get a new snapshot/ }).waitFor({ timeout: 10_000 });
    assert.equal(await admin.query<number>("revisions.head"), head);
    await admin.mutate("resources.delete", { refs: [{ kind: "AuthorizationPolicy", namespace: "bookinfo", name: "deny-details" }], baseRevision: head, message: "e2e: details open again" });
  });

  it("on a laptop screen (1366 × 768) every page fits its width", async () => {
    await page.setViewportSize({ width: 1366, height: 768 });
    try {
      for (const p of ["/", "/graph", "/services/bookinfo/reviews", "/services/bookinfo/reviews/traffic", "/workloads/bookinfo/reviews-v2", "/traces", "/proxies", "/security", "/canaries", "/history", "/tap"]) {
        await page.goto(`${ready.web}${p}`);
        await page.locator("main h1").first().waitFor();
        await page.waitForTimeout(300);
        assert.ok(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), `${p} fits 1366 px`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it("a viewer sees no edit controls, and the server refuses their edits", async () => {
    const viewer = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p = await viewer.newPage();
      // Signing in by keyboard alone: the username field has focus, Tab to the password, Enter sends.
      await p.goto(`${ready.web}/login?next=%2Fhistory`);
      await p.locator("input[name=username]").waitFor();
      assert.equal(await p.evaluate("document.activeElement?.getAttribute('name')"), "username");
      await p.keyboard.type("vera");
      await p.keyboard.press("Tab");
      await p.keyboard.type(VIEWER_PASSWORD);
      await p.keyboard.press("Enter");
      await p.waitForURL(`${ready.web}/history`);
      await p.getByTestId("revision-1").waitFor();
      assert.equal(await p.getByRole("button", { name: /Roll back/ }).count(), 0);
      assert.equal(await p.getByTestId("role").innerText(), "viewer");
      const csrf = (await viewer.cookies()).find((c) => c.name === "trellis_csrf")!.value;
      const res = await p.request.post(`${ready.web}/trpc/revisions.rollback`, { headers: { "content-type": "application/json", "x-trellis-csrf": csrf }, data: { to: 1, baseRevision: 1 } });
      assert.equal(res.status(), 403);
    } finally {
      await viewer.close();
    }
  });
});
