import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { DemoApi } from "../src/demo-api";

// `npm run demo` headless (--json), for real: the control plane on embedded PGlite, every
// Bookinfo instance behind its own sidecar, the ingress gateway and the load generator, all
// as processes on this machine. Within 60 s of the start: the load generator's success rate
// is ≥ 99 %, every proxy is SYNCED, the graph shows Bookinfo's edges with mTLS, a call the
// authorization policies do not allow is refused; Ctrl-C leaves no process behind. The
// dashboard is left out (--no-web): apps/web/test drives it in Chromium on its own.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

interface Event {
  event: string;
  [k: string]: unknown;
}

interface Edge {
  id: string;
  protocol: string;
  traffic?: { requests: number; mtlsShare: number; errors: number };
  tcp?: { connectionsOpened: number; mtlsShare: number };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("npm run demo, headless", { timeout: 240_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), "trellis-demo-"));
  let demo: ChildProcess;
  const events: Event[] = [];
  let ready: Event;
  let api: DemoApi;
  const started = Date.now();

  const next = (pred: (e: Event) => boolean, ms: number, what: string) =>
    new Promise<Event>((resolve, reject) => {
      const found = events.find(pred);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; events so far: ${events.map((e) => e.event).join(", ")}`)), ms);
      const check = setInterval(() => {
        const e = events.find(pred);
        if (e) {
          clearTimeout(timer);
          clearInterval(check);
          resolve(e);
        }
      }, 100);
      timer.unref();
    });

  before(async () => {
    demo = spawn(process.execPath, ["--import", "tsx", "apps/demo/src/demo.ts", "--json", "--data-dir", dir, "--api-port", "0", "--ingress-port", "0", "--tls-port", "0", "--bookstore-port", "0", "--rate", "20", "--no-web"], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
    let buf = "";
    demo.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          events.push(JSON.parse(line) as Event);
        } catch {
          // not ours
        }
      }
    });
    ready = await next((e) => e.event === "ready" || e.event === "failed", 150_000, "ready event");
    assert.equal(ready.event, "ready", JSON.stringify(ready));
    const admin = ready.admin as { username: string; password: string };
    api = await DemoApi.signIn(String(ready.api), admin.username, admin.password);
  });
  after(async () => {
    if (demo.exitCode === null) demo.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("comes up with every proxy SYNCED", async () => {
    const status = await api.proxyStatus();
    const ours = status.filter((p) => p.proxyId.startsWith("bookinfo/"));
    assert.equal(ours.length, 8, JSON.stringify(status));
    assert.ok(ours.every((p) => p.state === "SYNCED"), JSON.stringify(ours));
  });

  it("the load generator's success rate is at least 99 % within 60 s of the start", async () => {
    const stats = await next((e) => e.event === "stats" && typeof e.okPct === "number" && (e.sent as number) >= 50, Math.max(5_000, 60_000 - (Date.now() - started)), "load stats");
    assert.ok((stats.okPct as number) >= 99, `success ${String(stats.okPct)} %: ${JSON.stringify(stats.byStatus)}`);
  });

  it("the graph shows Bookinfo's edges, over mTLS", async () => {
    const want = ["svc:bookinfo/ingress>svc:bookinfo/productpage>http", "svc:bookinfo/productpage>svc:bookinfo/details>http", "svc:bookinfo/productpage>svc:bookinfo/reviews>grpc"];
    let edges: Edge[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      edges = (await api.query<{ edges: Edge[] }>("graph.get", { kind: "service", windowSec: 60 })).edges;
      if (want.every((id) => (edges.find((e) => e.id === id)?.traffic?.requests ?? 0) > 0)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const id of want) {
      const e = edges.find((x) => x.id === id);
      assert.ok(e?.traffic && e.traffic.requests > 0, `${id} in ${edges.map((x) => x.id).join(", ")}`);
      assert.equal(e.traffic.mtlsShare, 1, `${id} is all mTLS`);
    }
    const external = edges.find((e) => e.id.includes("books.example.com"));
    assert.ok(external?.traffic && external.traffic.requests > 0, "productpage → the external bookstore");
    const tcp = edges.find((e) => e.id.startsWith("svc:bookinfo/productpage>svc:bookinfo/inventory"));
    assert.ok(tcp?.tcp && tcp.tcp.connectionsOpened > 0, `productpage → inventory (TCP): ${JSON.stringify(tcp)}`);
  });

  it("a call the authorization policies do not allow is refused (productpage → ratings), and /api needs a JWT at the ingress", async () => {
    const proxies = ready.proxies as Record<string, { outbound: number }>;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: proxies["productpage-v1"]!.outbound, path: "/ratings/0", headers: { host: "ratings:9080" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 403, "only reviews may call ratings");
    assert.equal((await fetch(`${String(ready.ingress)}/api/v1/products`)).status, 403, "no JWT, no API");
  });

  it("Ctrl-C stops everything, leaving no process behind", async () => {
    const pids = ready.pids as number[];
    assert.ok(pids.length >= 16, `${pids.length} children`);
    const exited = new Promise<number | null>((r) => demo.once("exit", (code) => r(code)));
    demo.kill("SIGINT");
    assert.equal(await exited, 0);
    const left = pids.filter(alive);
    assert.deepEqual(left, [], "orphans");
  });

  it("a second run reuses the data: same config revision, same admin password, and comes up healthy", async () => {
    const again = spawn(process.execPath, ["--import", "tsx", "apps/demo/src/demo.ts", "--json", "--no-load", "--no-web", "--data-dir", dir, "--api-port", "0", "--ingress-port", "0", "--tls-port", "0", "--bookstore-port", "0"], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
    const seen: Event[] = [];
    let buf = "";
    again.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        try {
          seen.push(JSON.parse(buf.slice(0, nl)) as Event);
        } catch {
          // not ours
        }
        buf = buf.slice(nl + 1);
      }
    });
    try {
      const deadline = Date.now() + 120_000;
      while (!seen.some((e) => e.event === "ready" || e.event === "failed") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const second = seen.find((e) => e.event === "ready");
      assert.ok(second, JSON.stringify(seen.at(-1)));
      const config = seen.find((e) => e.event === "config")!;
      assert.equal(config.created, false, "the database was reused");
      assert.deepEqual(second.admin, ready.admin, "the same admin login");
      assert.equal((await fetch(`${String(second.ingress)}/productpage`)).status, 200);
    } finally {
      const exited = new Promise((r) => again.once("exit", r));
      again.kill("SIGINT");
      await exited;
    }
  });
});
