import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import type { ControlPlane } from "../../control/src/app";
import { ensureWebBuild } from "../../demo/src/web-build";
import { apiClient, grpcPort, startTestControlPlane } from "../../control/test/helpers/control-plane";
import { createTestDatabase } from "../../control/test/helpers/pg";
import type { TestDatabase } from "../../control/test/helpers/pg";
import { eventually, spawnSidecar } from "../../control/test/helpers/sidecars";
import type { Sidecar } from "../../control/test/helpers/sidecars";

// The dashboard in real Chromium (Debian's, through playwright-core) against a real control
// plane on PostgreSQL and a real trellis-proxy: the production build (`next build`), served by
// `next start`, signing in with the API's session cookie through the same-origin /trpc route.

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PASSWORD = "a-long-viewer-password";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("dashboard in Chromium", { timeout: 300_000 }, () => {
  let db: TestDatabase;
  let cp: ControlPlane;
  let proxy: Sidecar;
  let web: ChildProcess;
  let base: string;
  let browser: Browser;
  let page: Page;
  const dataDir = mkdtempSync(path.join(tmpdir(), "trellis-web-"));

  before(async () => {
    db = await createTestDatabase();
    ({ cp } = await startTestControlPlane({ databaseUrl: db.url }));
    const admin = apiClient(cp.apiUrl, "admin");
    const svc = (name: string) => ({ kind: "Service" as const, metadata: { name, namespace: "shop" }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" as const }] } });
    // cart traces every request, so the traces pages have something to show.
    const cart = { ...svc("cart"), spec: { ...svc("cart").spec, traceSampling: 100 } };
    await admin.resources.write.mutate({ baseRevision: await admin.revisions.head.query(), upserts: [cart, svc("catalog")], message: "shop" });
    const moved = { ...svc("catalog"), spec: { ports: [{ name: "http", port: 9090, protocol: "http" as const }] } };
    await admin.resources.write.mutate({ baseRevision: await admin.revisions.head.query(), upserts: [moved], message: "catalog moves to 9090" });
    await admin.auth.users.create.mutate({ username: "vera", password: PASSWORD, role: "viewer" });
    await admin.auth.users.create.mutate({ username: "olive", password: PASSWORD, role: "operator" });
    proxy = await spawnSidecar(["--service", "cart", "--namespace", "shop", "--workload", "cart-1", "--app-port", "1", "--control-plane", `127.0.0.1:${grpcPort(cp)}`, "--otlp-endpoint", `${cp.apiUrl}/v1/traces`, "--data-dir", path.join(dataDir, "cart-1")]);
    await eventually("the proxy SYNCED", async () => ((await admin.proxies.status.query({})).find((p) => p.proxyId === "shop/cart-1")?.state === "SYNCED" ? true : undefined));

    // The production build, made once for every suite here and the demo (one at a time: a lock).
    await ensureWebBuild(webDir, path.join(webDir, "../../node_modules/next/dist/bin/next"));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    web = spawn(process.execPath, [path.join(webDir, "../../node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"], { cwd: webDir, env: { ...process.env, TRELLIS_API_URL: cp.apiUrl, NEXT_TELEMETRY_DISABLED: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    await eventually("next start", async () => ((await fetch(`${base}/login`).catch(() => undefined))?.status === 200 ? true : undefined), 60_000, 250);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  });
  after(async () => {
    await browser?.close();
    web?.kill("SIGTERM");
    await proxy?.stop();
    await cp?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("sends an anonymous visitor to the sign-in page; a wrong password says so", async () => {
    await page.goto(`${base}/proxies`);
    await page.waitForURL(/\/login\?next=%2Fproxies/);
    await page.fill("input[name=username]", "vera");
    await page.fill("input[name=password]", "not-the-password");
    await page.click("button[type=submit]");
    await page.getByRole("alert").filter({ hasText: "wrong username or password" }).waitFor();
  });

  it("signs in (httpOnly session cookie), returns to the page asked for, and shows every proxy's sync state", async () => {
    await page.fill("input[name=password]", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForURL(`${base}/proxies`);
    const row = page.getByTestId("proxy-shop/cart-1");
    await row.waitFor();
    assert.match(await row.innerText(), /SYNCED/);
    assert.match(await row.innerText(), /none/, "a plaintext proxy has no mesh certificate");
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "trellis_session");
    assert.ok(session?.httpOnly && session.sameSite === "Strict", JSON.stringify(session));
    assert.equal(await page.evaluate("document.cookie.includes('trellis_session')"), false, "page scripts cannot read the session");
    assert.equal(await page.getByTestId("role").innerText(), "viewer");
  });

  it("the overview lists namespaces and services with their endpoints and findings, without horizontal scrolling at 1280 px", async () => {
    await page.goto(`${base}/`);
    const cart = page.getByTestId("service-shop-cart");
    await cart.waitFor();
    await page.getByTestId("summary").filter({ hasText: "validation findings" }).waitFor();
    const cells = await cart.locator("td").allInnerTexts();
    assert.equal(cells[0], "cart");
    assert.equal(cells[6], "1", "one live endpoint (the proxy)");
    assert.match(await page.getByTestId("summary").innerText(), /2 services in 1 namespaces/);
    assert.ok(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no horizontal scroll");
  });

  it("history: revisions with author and message, a field-level diff, and no rollback control for a viewer", async () => {
    await page.goto(`${base}/history`);
    const rev2 = page.getByTestId("revision-2");
    await rev2.waitFor();
    assert.match(await rev2.innerText(), /admin[\s\S]*catalog moves to 9090/);
    await page.getByTestId("diff").filter({ hasText: "spec.ports[0].port" }).waitFor();
    assert.match(await page.getByTestId("diff").innerText(), /update Service\/shop\/catalog[\s\S]*9080[\s\S]*9090/);
    assert.equal(await page.getByRole("button", { name: /Roll back/ }).count(), 0, "a viewer sees no rollback control");
  });

  it("the live graph arrives over the subscription (SSE through /trpc) and is pushed again every second", async () => {
    // Traffic for an edge: callers without a sidecar straight at cart's inbound (its app port refuses: 503s).
    for (let i = 0; i < 5; i++) await fetch(`http://127.0.0.1:${proxy.inbound}/`, { headers: { host: "cart:9080" } }).catch(() => undefined);
    await page.goto(`${base}/graph`);
    const status = page.getByTestId("graph-status");
    await page.waitForFunction("/[1-9][0-9]* edges/.test(document.querySelector('[data-testid=graph-status]')?.textContent ?? '')", undefined, { timeout: 20_000 });
    assert.match(await status.innerText(), /([3-9]|[1-9][0-9]+) nodes/, "cart, catalog and the unknown caller");
    const first = await status.innerText();
    await page.waitForFunction(`(document.querySelector('[data-testid=graph-status]')?.textContent ?? '') !== ${JSON.stringify(first)}`, undefined, { timeout: 5_000 });
    assert.equal(await page.getByRole("button", { name: "JSON" }).isEnabled(), true);
    // The canvas drew the elements.
    assert.ok(await page.locator("[data-testid=graph-canvas] canvas").count() > 0);
    // Find and hide expressions: cart fails every request it gets; catalog is idle.
    await page.fill("input[name=find]", "unhealthy errors>50%");
    await page.getByTestId("find-status").filter({ hasText: /[1-9][0-9]* found/ }).waitFor();
    await page.fill("input[name=find]", "latency>3");
    await page.getByTestId("find-status").filter({ hasText: "unknown term 'latency>3'" }).waitFor();
    await page.fill("input[name=find]", "");
    await page.fill("input[name=hide]", "name=catalog");
    await page.getByTestId("find-status").filter({ hasText: "1 hidden" }).waitFor();
    await page.fill("input[name=hide]", "");
    // Replay a past window: the graph up to a chosen minute, by query instead of the live push.
    const d = new Date();
    const p2 = (n: number) => String(n).padStart(2, "0");
    await page.fill("input[name=replay]", `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}`);
    await page.getByTestId("graph-status").filter({ hasText: /^replay: [1-9][0-9]* nodes/ }).waitFor();
    await page.getByRole("button", { name: "Live" }).click();
    await page.getByTestId("graph-status").filter({ hasText: /^[1-9][0-9]* nodes/ }).waitFor();
  });

  it("a service page: golden signals with charts over a chosen window, what applies to it, its traces", async () => {
    await page.goto(`${base}/`);
    await page.getByRole("link", { name: "cart" }).click();
    await page.waitForURL(`${base}/services/shop/cart`);
    const summary = page.getByTestId("signals-summary");
    await page.waitForFunction("/req\\/s/.test(document.querySelector('[data-testid=signals-summary]')?.textContent ?? '')", undefined, { timeout: 15_000 });
    assert.match(await summary.innerText(), /100\.0 % errors/, "the 503s sent to cart");
    for (const c of ["chart-rps", "chart-errors", "chart-latency"]) assert.ok((await page.getByTestId(c).locator("canvas").count()) > 0, `${c} drawn`);
    await page.getByTestId("applies").filter({ hasText: "Service shop/cart" }).waitFor();
    await page.getByLabel("window").selectOption("900");
    await page.getByTestId("traces").filter({ hasText: /Recent traces/ }).waitFor();
  });

  it("a workload page: its proxy's sync and certificate, and its golden signals", async () => {
    await page.goto(`${base}/proxies`);
    await page.getByRole("link", { name: "shop/cart-1" }).click();
    await page.waitForURL(`${base}/workloads/shop/cart-1`);
    await page.getByTestId("workload-proxy").filter({ hasText: "SYNCED" }).waitFor();
    assert.match(await page.getByTestId("workload-proxy").innerText(), /Service cart[\s\S]*certificate none/);
    await page.waitForFunction("/req\\/s/.test(document.querySelector('[data-testid=signals-summary]')?.textContent ?? '')", undefined, { timeout: 15_000 });
  });

  it("traces: search by service, then one trace's waterfall and a span's details", async () => {
    // ?service= (the graph's and service pages' links) fills the search in.
    await page.goto(`${base}/traces?service=cart`);
    assert.equal(await page.inputValue("input[name=service]"), "cart");
    await page.getByRole("button", { name: "Search" }).click();
    const results = page.getByTestId("trace-results");
    // Spans are exported every few seconds: search again until they are in.
    for (let i = 0; i < 30 && (await results.count()) === 0; i++) {
      await page.waitForTimeout(1000);
      await page.getByRole("button", { name: "Search" }).click();
    }
    await results.waitFor();
    assert.match(await results.innerText(), /cart/);
    await results.locator("a").first().click();
    await page.waitForURL(/\/traces\/[0-9a-f]{32}$/);
    const row = page.getByTestId("waterfall").getByRole("button").first();
    await row.waitFor();
    await row.click();
    await page.getByTestId("span-details").filter({ hasText: "cart" }).waitFor();
  });

  it("live tap: a filtered stream of the requests as they happen", async () => {
    await page.goto(`${base}/tap`);
    await page.fill("input[name=destinationService]", "cart");
    await page.getByRole("button", { name: "Start tap" }).click();
    await page.getByTestId("tap-status").filter({ hasText: "requests" }).waitFor();
    const events = page.getByTestId("tap-events");
    for (let i = 0; i < 20 && (await events.count()) === 0; i++) {
      await fetch(`http://127.0.0.1:${proxy.inbound}/tapped/${i}`, { headers: { host: "cart:9080" } }).catch(() => undefined);
      await page.waitForTimeout(500);
    }
    await events.waitFor();
    assert.match(await events.innerText(), /\/tapped\/\d+[\s\S]*503/);
  });

  it("signing out ends the session: the API refuses the old cookie and the dashboard asks to sign in", async () => {
    const before = (await page.context().cookies()).find((c) => c.name === "trellis_session")!.value;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login/);
    const res = await fetch(`${cp.apiUrl}/trpc/auth.me`, { headers: { cookie: `trellis_session=${before}` } });
    assert.equal(res.status, 401);
  });

  it("an operator rolls back with confirmation; the new revision carries their name", async () => {
    await page.goto(`${base}/login?next=%2Fhistory`);
    await page.fill("input[name=username]", "olive");
    await page.fill("input[name=password]", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForURL(`${base}/history`);
    await page.getByRole("button", { name: "Roll back to 1" }).click();
    await page.getByRole("button", { name: "Confirm rollback" }).click();
    const rev3 = page.getByTestId("revision-3");
    await rev3.waitFor();
    assert.match(await rev3.innerText(), /olive[\s\S]*rollback to revision 1/);
    const api = apiClient(cp.apiUrl, "admin");
    const catalog = (await api.resources.get.query({ kind: "Service", namespace: "shop", name: "catalog" })) as { spec: { ports: Array<{ port: number }> } };
    assert.equal(catalog.spec.ports[0]!.port, 9080, "the rollback restored revision 1's content");
  });
});
