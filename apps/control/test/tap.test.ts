import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { TapWatchInput } from "@trellis/config";
import { Direction } from "@trellis/proto";
import { FakeProxy, waitFor } from "../src/distribution/test/fake-proxy";
import type { TapEventView } from "../src/telemetry/tap/tap-event-schema";
import type { TapWatchItem } from "../src/telemetry/tap/tap-watch";
import { event } from "../src/telemetry/tap/test-events";
import { createTestDatabase, type TestDatabase } from "./helpers/pg";
import { spawnControlPlane, type ControlProcess } from "./helpers/process";
import { eventually, meshRequest, spawnSidecar, startEchoApp, streamingClient } from "./helpers/sidecars";
import type { Sidecar } from "./helpers/sidecars";

// Live tap end to end: a real control plane, real trellis-proxy sidecars (web → cart) and
// real traffic; the tap is watched through tRPC over HTTP (SSE), as the dashboard does.

const svc = (name: string) => ({ kind: "Service" as const, metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" as const }] } });
const SECRETS = ["Bearer s3cr3t-token", "sid=c00kie", "k3y-value", "q-t0ken"];

/** A running `tap.watch` subscription and what it received. */
function watchTap(api: ReturnType<typeof streamingClient>, input: Partial<TapWatchInput>) {
  const items: TapWatchItem[] = [];
  const errors: unknown[] = [];
  const sub = api.tap.watch.subscribe(input, { onData: (i) => items.push(i), onError: (e) => errors.push(e) });
  const events = (): TapEventView[] => items.flatMap((i) => (i.type === "event" ? [i.event] : []));
  return { items, errors, events, unsubscribe: () => sub.unsubscribe(), started: () => eventually("the tap to start", () => (items[0]?.type === "started" ? items[0].tapId : errors.length ? Promise.reject(errors[0]) : undefined)) };
}

/** Taps a sidecar runs now, from its admin /stats. */
async function tapsRunning(s: Sidecar): Promise<number> {
  return ((await (await fetch(`http://127.0.0.1:${s.admin}/stats`)).json()) as Record<string, number>)["tap.running"] ?? -1;
}

describe("live tap through real sidecars", () => {
  let db: TestDatabase;
  let cp: ControlProcess;
  let api: ReturnType<typeof streamingClient>;
  let cartApp: Awaited<ReturnType<typeof startEchoApp>>;
  const sidecars: Sidecar[] = [];
  let web: Sidecar;
  const dataDir = mkdtempSync(path.join(tmpdir(), "trellis-tap-"));

  before(async () => {
    db = await createTestDatabase();
    cp = await spawnControlPlane({ DATABASE_URL: db.url, TRELLIS_ENDPOINT_GRACE_MS: "300", TRELLIS_PUSH_DEBOUNCE_MS: "20", TRELLIS_PUSH_MAX_DELAY_MS: "100", TRELLIS_LOG_LEVEL: "warn" });
    api = streamingClient(cp.api);
    await api.resources.write.mutate({ baseRevision: 0, upserts: [svc("web"), svc("cart")], message: "tap test mesh" });
    cartApp = await startEchoApp("cart");
    const common = ["--namespace", "default", "--control-plane", `127.0.0.1:${cp.grpcPort}`, "--log-level", "warn"];
    sidecars.push(await spawnSidecar(["--service", "cart", "--workload", "cart-1", "--version", "v1", "--app-port", String(cartApp.port), "--data-dir", path.join(dataDir, "cart"), ...common]));
    web = await spawnSidecar(["--service", "web", "--workload", "web-1", "--version", "v1", "--app-port", "1", "--data-dir", path.join(dataDir, "web"), ...common]);
    sidecars.push(web);
    await eventually("web → cart through the mesh", async () => ((await meshRequest(web.outbound, "cart:9080", "/ready").catch(() => 0)) === 200 ? true : undefined));
  });

  after(async () => {
    for (const s of sidecars) await s.stop();
    await cp?.stop();
    await cartApp?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("tap.watch streams the matching requests with status, method and path; credentials redacted, no query string, nothing else", async () => {
    const all = watchTap(api, { filter: { destinationService: "cart", pathPrefix: "/cart" }, maxPerSecond: 200 });
    const errorsOnly = watchTap(api, { filter: { destinationService: "cart", statusMin: 400, statusMax: 499 } });
    await all.started();
    await errorsOnly.started();
    await eventually("both taps running on both sidecars", async () => ((await Promise.all(sidecars.map(tapsRunning))).every((n) => n === 2) ? true : undefined));
    const headers = { authorization: SECRETS[0]!, cookie: SECRETS[1]!, "x-api-key": SECRETS[2]!, "x-request-id": "req-42" };
    const seen = (w: typeof all, p: string, d: "inbound" | "outbound") => w.events().some((e) => e.path === p && e.direction === d);
    await eventually("both sides of /cart/items and /cart/missing", async () => {
      await meshRequest(web.outbound, "cart:9080", `/cart/items?token=${SECRETS[3]}`, headers);
      await meshRequest(web.outbound, "cart:9080", "/cart/missing", headers);
      await meshRequest(web.outbound, "cart:9080", "/health?x=1", headers); // not under /cart: never shown
      return ["/cart/items", "/cart/missing"].every((p) => seen(all, p, "outbound") && seen(all, p, "inbound")) && seen(errorsOnly, "/cart/missing", "inbound") ? true : undefined;
    }, 20_000, 300);

    const events = all.events();
    assert.ok(events.every((e) => e.path.startsWith("/cart")), "the path filter holds");
    const items = events.find((e) => e.path === "/cart/items" && e.direction === "outbound")!;
    assert.deepEqual([items.method, items.status, items.reporter, items.sourceWorkload, items.destinationService, items.destinationNamespace], ["GET", 200, "default/web-1", "web-1", "cart", "default"]);
    const inbound = events.find((e) => e.path === "/cart/items" && e.direction === "inbound")!;
    assert.deepEqual([inbound.reporter, inbound.sourceWorkload, inbound.destinationWorkload], ["default/cart-1", "web-1", "cart-1"]);
    for (const e of [items, inbound]) {
      assert.equal(e.requestHeaders["authorization"], "[redacted]");
      assert.equal(e.requestHeaders["cookie"], "[redacted]");
      assert.equal(e.requestHeaders["x-api-key"], "[redacted]");
      assert.equal(e.requestHeaders["x-request-id"], "req-42");
      assert.ok(Object.keys(e.requestHeaders).every((h) => !h.startsWith("x-trellis-")), "no mesh-internal headers");
    }
    assert.equal(events.find((e) => e.path === "/cart/missing")?.status, 404);
    const text = JSON.stringify([...all.items, ...errorsOnly.items]);
    for (const s of SECRETS) assert.ok(!text.includes(s), `${s} leaked`);
    assert.ok(!text.includes("?"), "no query string anywhere");
    assert.ok(errorsOnly.events().length > 0 && errorsOnly.events().every((e) => e.status === 404), "the status filter holds");
    assert.deepEqual([all.errors, errorsOnly.errors], [[], []]);

    // The last watcher leaves: the taps stop on the control plane and on the proxies.
    all.unsubscribe();
    errorsOnly.unsubscribe();
    await eventually("no tap left", async () => ((await api.tap.stats.query()).localTaps === 0 ? true : undefined));
    await eventually("no tap running on the sidecars", async () => ((await Promise.all(sidecars.map(tapsRunning))).every((n) => n === 0) ? true : undefined));
    await new Promise((r) => setTimeout(r, 700)); // events already buffered in the proxies arrive
    const before = await api.tap.stats.query();
    for (let i = 0; i < 10; i++) await meshRequest(web.outbound, "cart:9080", "/cart/items");
    await new Promise((r) => setTimeout(r, 1500));
    const later = await api.tap.stats.query();
    assert.equal(later.received, before.received, "proxies stopped tapping");
  });

  test("malformed tap events are refused with the reason (TelemetryRejected) and counted; the stream goes on", async () => {
    const p = new FakeProxy(cp.grpcPort);
    try {
      p.hello({ workload: "rogue-1", service: "web" });
      await waitFor("a snapshot", () => p.received.some((m) => m.message?.$case === "snapshot"), 10_000);
      const before = (await api.tap.stats.query()).refused;
      p.call.write({ message: { $case: "tapEvents", value: { events: [event({ path: "/login?password=hunter2", direction: Direction.DIRECTION_OUTBOUND })] } } });
      const rejected = await waitFor("TelemetryRejected", () => p.received.flatMap((m) => (m.message?.$case === "telemetryRejected" ? [m.message.value] : []))[0], 10_000);
      assert.match(rejected.reason, /^events\[0\]\.path: must not carry a query string/);
      assert.equal((await api.tap.stats.query()).refused, before + 1);
      assert.equal(p.end, undefined, "the config stream stays up");
    } finally {
      p.cancel();
    }
  });
});
