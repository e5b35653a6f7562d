import assert from "node:assert/strict";
import { beforeEach, it } from "node:test";
import { EndpointSchema, type Endpoint } from "@trellis/config";
import type { ProxySyncStatus } from "../src/distribution/ports";
import { EndpointRepo } from "../src/registry/endpoint-repo";
import { ProxyStatusRepo } from "../src/registry/proxy-status-repo";
import { describeEachBackend } from "./helpers/backends";

function endpoint(i: number, service = "reviews", namespace = "shop"): Endpoint {
  return EndpointSchema.parse({
    id: `${namespace}/${service}-${i}`,
    workload: `${service}-${i}`,
    service,
    namespace,
    address: `10.1.${Math.floor(i / 250)}.${i % 250}`,
    ports: [{ name: "http", port: 9080, protocol: "http" }],
    labels: { version: i % 2 ? "v2" : "v1", "app.kubernetes.io/name": service },
    sidecar: true,
    proxyVersion: "0.1.0",
  });
}

function status(i: number, over: Partial<ProxySyncStatus> = {}): ProxySyncStatus {
  const e = endpoint(i);
  return {
    proxyId: e.id, workload: e.workload, service: e.service, namespace: e.namespace, address: e.address, proxyVersion: e.proxyVersion,
    replicaId: "replica-a", state: "STALE", latestVersion: "v-1", revision: 1,
    lastSentVersion: "v-1", lastSentAt: new Date(Date.UTC(2025, 0, 1, 12, 0, 0, 123)), lastAckedVersion: null, lastAckedAt: null,
    lastNackVersion: null, lastNackReason: null, lastNackAt: null,
    connectedAt: new Date(Date.UTC(2025, 0, 1, 11, 59, 59, 1)), disconnectedAt: null, ...over,
  };
}

describeEachBackend("endpoint and proxy status repositories", (ctx) => {
  let clock: Date;
  let endpoints: EndpointRepo;
  let statuses: ProxyStatusRepo;
  beforeEach(async () => {
    await ctx.reset();
    clock = new Date(Date.UTC(2025, 5, 1, 8, 0, 0, 0));
    endpoints = new EndpointRepo(ctx.db, () => clock);
    statuses = new ProxyStatusRepo(ctx.db);
  });

  it("registers endpoints and lists them as the Endpoint type, filtered", async () => {
    await endpoints.register(endpoint(1), "replica-a");
    await endpoints.registerMany([endpoint(2), endpoint(1, "ratings"), endpoint(1, "reviews", "other")], "replica-a");
    const all = await endpoints.list();
    assert.deepEqual(all.map((e) => e.id), ["other/reviews-1", "shop/ratings-1", "shop/reviews-1", "shop/reviews-2"]);
    assert.deepEqual(all[2], endpoint(1));
    assert.deepEqual(EndpointSchema.parse(all[2]), all[2]);
    assert.deepEqual((await endpoints.list({ namespace: "shop", service: "reviews" })).map((e) => e.id), ["shop/reviews-1", "shop/reviews-2"]);
    const [row] = await ctx.db.sql<{ connected_at: Date; last_seen_at: Date }>("SELECT connected_at, last_seen_at FROM endpoints WHERE id = 'shop/reviews-1'");
    assert.equal(row!.connected_at.toISOString(), clock.toISOString(), "stored and read back as UTC");
    const [viaPrisma] = await ctx.db.prisma.endpoint.findMany({ where: { id: "shop/reviews-1" } });
    assert.equal(viaPrisma!.connectedAt.toISOString(), clock.toISOString(), "Prisma reads the same instant");
  });

  it("stores a proxy's inbound port and reads it back; absent stays absent", async () => {
    await endpoints.registerMany([{ ...endpoint(1), inboundPort: 15006 }, endpoint(2)], "replica-a");
    const [withPort, without] = await endpoints.list();
    assert.deepEqual(withPort, { ...endpoint(1), inboundPort: 15006 });
    assert.deepEqual(without, endpoint(2));
    assert.ok(!("inboundPort" in without!), "no inboundPort key when the proxy did not report one");
    await endpoints.register(endpoint(1), "replica-a");
    assert.deepEqual((await endpoints.list())[0], endpoint(1), "a new Hello without the port clears it");
  });

  it("keeps a proxy that moved to another replica when the old replica lets go", async () => {
    await endpoints.register(endpoint(1), "replica-a");
    await endpoints.register({ ...endpoint(1), address: "10.9.9.9" }, "replica-b");
    assert.equal(await endpoints.markDisconnected("shop/reviews-1", "replica-a"), false);
    await endpoints.disconnected("shop/reviews-1", "replica-a");
    assert.deepEqual((await endpoints.list()).map((e) => e.address), ["10.9.9.9"]);
    await endpoints.disconnected("shop/reviews-1", "replica-b");
    assert.deepEqual(await endpoints.list(), []);
  });

  it("keeps disconnected endpoints through the grace period, then deletes them; sweeps dead replicas", async () => {
    await endpoints.registerMany([endpoint(1), endpoint(2)], "replica-a");
    await endpoints.register(endpoint(3), "replica-dead");
    clock = new Date(clock.getTime() + 1_000);
    assert.equal(await endpoints.markDisconnected("shop/reviews-1", "replica-a"), true);
    assert.equal(await endpoints.touchReplica("replica-a"), 1);
    assert.deepEqual((await endpoints.list()).map((e) => e.id), ["shop/reviews-1", "shop/reviews-2", "shop/reviews-3"], "in grace: still routable");
    assert.deepEqual((await endpoints.list({ connectedOnly: true })).map((e) => e.id), ["shop/reviews-2", "shop/reviews-3"]);
    assert.deepEqual(await endpoints.deleteStale({ disconnectedBefore: clock }), []);
    const later = new Date(clock.getTime() + 5_000);
    assert.deepEqual(await endpoints.deleteStale({ disconnectedBefore: later, lastSeenBefore: new Date(clock.getTime() - 1) }), ["shop/reviews-1", "shop/reviews-3"]);
    assert.deepEqual((await endpoints.list()).map((e) => e.id), ["shop/reviews-2"]);
  });

  it("registers 2000 proxies and records their statuses in batches", async () => {
    const many = Array.from({ length: 2000 }, (_, i) => endpoint(i));
    const t0 = performance.now();
    await endpoints.registerMany(many, "replica-a");
    await statuses.record(many.map((_, i) => status(i)));
    const elapsed = performance.now() - t0;
    assert.equal((await endpoints.list()).length, 2000);
    const listed = await statuses.list();
    assert.equal(listed.length, 2000);
    assert.ok(elapsed < 5_000, `2000 endpoints + statuses took ${elapsed.toFixed(0)} ms`);
    await statuses.record([status(7, { state: "SYNCED", lastAckedVersion: "v-1", lastAckedAt: new Date(Date.UTC(2025, 0, 1, 12, 0, 1)) })]);
    const [seven] = await statuses.list({ namespace: "shop", service: "reviews", replicaId: "replica-a" }).then((l) => l.filter((s) => s.proxyId === "shop/reviews-7"));
    assert.deepEqual(seven, status(7, { state: "SYNCED", lastAckedVersion: "v-1", lastAckedAt: new Date(Date.UTC(2025, 0, 1, 12, 0, 1)) }));
  });

  it("records NACKs and disconnects, and forgets old disconnected statuses", async () => {
    const nackAt = new Date(Date.UTC(2025, 0, 1, 12, 5));
    await statuses.record([status(1), status(2)]);
    await statuses.record([status(1, { state: "NACKED", lastNackVersion: "v-2", lastNackReason: "route 'x': bad regex", lastNackAt: nackAt }), status(2, { disconnectedAt: nackAt })]);
    const list = await statuses.list();
    assert.deepEqual(list.map((s) => [s.proxyId, s.state, s.lastNackReason]), [["shop/reviews-1", "NACKED", "route 'x': bad regex"], ["shop/reviews-2", "STALE", null]]);
    assert.equal(await statuses.deleteDisconnected(new Date(nackAt.getTime() + 1)), 1);
    assert.deepEqual((await statuses.list()).map((s) => s.proxyId), ["shop/reviews-1"]);
  });
});
