import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { FakeProxy, waitFor } from "../src/distribution/test/fake-proxy";
import { apiClient } from "./helpers/control-plane";
import { createTestDatabase, type TestDatabase } from "./helpers/pg";
import { spawnControlPlane, type ControlProcess } from "./helpers/process";

// Two real control-plane processes over one PostgreSQL database: an edit made through
// either reaches proxies connected to the other (LISTEN/NOTIFY), and the endpoint registry
// and proxy-status are shared.

let db: TestDatabase;
let a: ControlProcess;
let b: ControlProcess;
const proxies: FakeProxy[] = [];

before(async () => {
  db = await createTestDatabase();
  const common = { DATABASE_URL: db.url, TRELLIS_ENDPOINT_GRACE_MS: "300", TRELLIS_PUSH_DEBOUNCE_MS: "20", TRELLIS_PUSH_MAX_DELAY_MS: "100", TRELLIS_LOG_LEVEL: "warn" };
  [a, b] = await Promise.all([spawnControlPlane({ ...common, TRELLIS_REPLICA_ID: "replica-a" }), spawnControlPlane({ ...common, TRELLIS_REPLICA_ID: "replica-b" })]);
});

after(async () => {
  for (const p of proxies) p.cancel();
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.drop();
});

const svc = (name: string) => ({ kind: "Service" as const, metadata: { name, namespace: "shop" }, spec: { ports: [{ name: "http", port: 8080, protocol: "http" as const }] } });
const route = (timeout: string) => ({ kind: "Route" as const, metadata: { name: "cart", namespace: "shop" }, spec: { hosts: ["cart"], http: [{ route: [{ destination: { host: "cart" } }], timeout }] } });

test("an edit through replica A reaches a proxy on replica B, and endpoints cross replicas", async () => {
  const apiA = apiClient(a.api, "alice");
  const apiB = apiClient(b.api, "bob");
  await apiA.resources.write.mutate({ baseRevision: 0, upserts: [svc("web"), svc("cart"), route("1s")], message: "initial" });

  const web = new FakeProxy(b.grpcPort);
  proxies.push(web);
  web.hello({ workload: "web-1", service: "web", namespace: "shop", address: "127.0.0.2" });
  const s1 = await web.snapshot(1);
  web.ack(s1.version);
  const cartRoute = (s: typeof s1) => s.outbound.hosts.find((h) => h.host === "cart.shop")?.routes[0]?.http[0]?.timeout;
  assert.equal(cartRoute(s1), "1s");

  // Edit through A; the proxy holds its stream to B.
  const head = await apiA.revisions.head.query();
  const t0 = Date.now();
  await apiA.resources.write.mutate({ baseRevision: head, upserts: [route("2500ms")], message: "slower cart" });
  const s2 = await waitFor("the edit to reach the proxy on B", () => web.snapshots().find((s) => cartRoute(s) === "2500ms"), 10_000);
  web.ack(s2.version);
  const propagationMs = Date.now() - t0;
  assert.ok(propagationMs < 5000, `propagated in ${propagationMs} ms`);

  // A proxy on A registers an endpoint; the proxy on B sees it in its cart cluster.
  const cart = new FakeProxy(a.grpcPort);
  proxies.push(cart);
  cart.hello({ workload: "cart-1", service: "cart", namespace: "shop", address: "127.0.0.3", ports: [{ name: "http", port: 8080, protocol: "http" }] });
  await cart.snapshot(1);
  const withEndpoint = await waitFor(
    "cart-1 in web's snapshot",
    () => web.snapshots().find((s) => s.outbound.hosts.find((h) => h.host === "cart.shop")?.clusters.some((c) => c.endpoints.some((e) => e.address === "127.0.0.3"))),
    10_000,
  );
  web.ack(withEndpoint.version);

  // proxy-status through either replica lists both proxies with the replica holding each.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const st = await apiB.proxies.status.query({ namespace: "shop" });
    const byId = new Map(st.map((s) => [s.proxyId, s]));
    if (byId.get("shop/cart-1")?.replicaId === "replica-a" && byId.get("shop/web-1")?.state === "SYNCED") break;
    if (Date.now() > deadline) assert.fail(`proxy-status via B: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const revs = await apiB.revisions.list.query({ limit: 5 });
  assert.deepEqual(revs.map((r) => [r.number, r.author]), [[2, "alice"], [1, "alice"]]);
});

test("a proxy whose replica goes away reconnects to the other and is served the same config", async () => {
  const p = new FakeProxy(b.grpcPort);
  proxies.push(p);
  p.hello({ workload: "web-2", service: "web", namespace: "shop", address: "127.0.0.4" });
  // The snapshot B settles on (its first push can precede the registration of web-2 itself).
  const fromB = await p.settled("web.shop", "127.0.0.4");
  p.cancel();
  const q = new FakeProxy(a.grpcPort);
  proxies.push(q);
  q.hello({ workload: "web-2", service: "web", namespace: "shop", address: "127.0.0.4", lastVersion: fromB.version });
  // Same content compiled by the other replica → same version → nothing to push.
  await new Promise((r) => setTimeout(r, 600));
  const other = q.snapshots().filter((s) => s.version !== fromB.version);
  assert.equal(q.snapshots().length === 0 || other.length === 0, true, "replica A computed a different snapshot for identical inputs");
});
