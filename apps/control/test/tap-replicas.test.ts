import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { TapWatchItem } from "../src/telemetry/tap/tap-watch";
import { createTestDatabase, type TestDatabase } from "./helpers/pg";
import { spawnControlPlane, type ControlProcess } from "./helpers/process";
import { eventually, meshRequest, spawnSidecar, startEchoApp, streamingClient } from "./helpers/sidecars";
import type { Sidecar } from "./helpers/sidecars";

// Two control-plane replicas over one PostgreSQL database: a tap watched through replica A
// runs on sidecars whose config streams are held by replica B, and their events reach the
// watcher on A (announcements and relayed events over LISTEN/NOTIFY).

let db: TestDatabase;
let a: ControlProcess;
let b: ControlProcess;
let cartApp: Awaited<ReturnType<typeof startEchoApp>>;
const sidecars: Sidecar[] = [];
const dataDir = mkdtempSync(path.join(tmpdir(), "trellis-tap-replicas-"));

const svc = (name: string) => ({ kind: "Service" as const, metadata: { name, namespace: "shop" }, spec: { ports: [{ name: "http", port: 8080, protocol: "http" as const }] } });

before(async () => {
  db = await createTestDatabase();
  const common = { DATABASE_URL: db.url, TRELLIS_ENDPOINT_GRACE_MS: "300", TRELLIS_PUSH_DEBOUNCE_MS: "20", TRELLIS_PUSH_MAX_DELAY_MS: "100", TRELLIS_LOG_LEVEL: "warn" };
  [a, b] = await Promise.all([spawnControlPlane({ ...common, TRELLIS_REPLICA_ID: "replica-a" }), spawnControlPlane({ ...common, TRELLIS_REPLICA_ID: "replica-b" })]);
  await streamingClient(a.api).resources.write.mutate({ baseRevision: 0, upserts: [svc("web"), svc("cart")], message: "two replicas" });
  cartApp = await startEchoApp("cart");
  const onB = ["--namespace", "shop", "--control-plane", `127.0.0.1:${b.grpcPort}`, "--log-level", "warn"];
  sidecars.push(await spawnSidecar(["--service", "cart", "--workload", "cart-1", "--app-port", String(cartApp.port), "--data-dir", path.join(dataDir, "cart"), ...onB]));
  sidecars.push(await spawnSidecar(["--service", "web", "--workload", "web-1", "--app-port", "1", "--data-dir", path.join(dataDir, "web"), ...onB]));
  await eventually("web → cart through the mesh", async () => ((await meshRequest(sidecars[1]!.outbound, "cart.shop:8080", "/").catch(() => 0)) === 200 ? true : undefined));
});

after(async () => {
  for (const s of sidecars) await s.stop();
  await Promise.all([a?.stop(), b?.stop()]);
  await cartApp?.close();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("a tap watched on replica A receives the events of sidecars connected to replica B, and stops there when the watcher leaves", async () => {
  const apiA = streamingClient(a.api);
  const apiB = streamingClient(b.api);
  const items: TapWatchItem[] = [];
  const sub = apiA.tap.watch.subscribe({ filter: { destinationService: "cart", pathPrefix: "/orders" } }, { onData: (i) => items.push(i), onError: (e) => assert.fail(String(e)) });
  await eventually("the tap announced to B", async () => ((await apiB.tap.stats.query()).remoteTaps === 1 ? true : undefined));

  const web = sidecars[1]!;
  const events = () => items.flatMap((i) => (i.type === "event" ? [i.event] : []));
  await eventually("events from B's sidecars on A", async () => {
    await meshRequest(web.outbound, "cart.shop:8080", "/orders/7?session=abc", { authorization: "Bearer zzz" });
    await meshRequest(web.outbound, "cart.shop:8080", "/other");
    const e = events();
    return e.some((x) => x.direction === "outbound") && e.some((x) => x.direction === "inbound") ? true : undefined;
  }, 20_000, 300);
  const e = events();
  assert.ok(e.every((x) => x.path === "/orders/7" && x.requestHeaders["authorization"] === "[redacted]"), JSON.stringify(e));
  assert.deepEqual(new Set(e.map((x) => x.reporter)), new Set(["shop/web-1", "shop/cart-1"]));
  const [sa, sb] = await Promise.all([apiA.tap.stats.query(), apiB.tap.stats.query()]);
  assert.ok(sb.relayed >= 2 && sa.relayReceived >= 2, `relayed ${sb.relayed}, received ${sa.relayReceived}`);
  assert.equal(sb.delivered, 0, "B has no watcher of its own");

  sub.unsubscribe();
  await eventually("B forgets the tap", async () => ((await apiB.tap.stats.query()).remoteTaps === 0 ? true : undefined));
  await new Promise((r) => setTimeout(r, 700));
  const received = (await apiB.tap.stats.query()).received;
  for (let i = 0; i < 5; i++) await meshRequest(web.outbound, "cart.shop:8080", "/orders/8");
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await apiB.tap.stats.query()).received, received, "B's sidecars stopped tapping");
});
