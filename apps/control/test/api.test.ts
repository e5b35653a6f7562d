import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FakeProxy } from "../src/distribution/test/fake-proxy";
import { createTestDatabase, tempDataDir, type TestDatabase } from "./helpers/pg";
import { errorOf, grpcPort, startTestControlPlane, type Api } from "./helpers/control-plane";
import type { ControlPlane } from "../src/app";

// The whole API over real HTTP (tRPC client) and real gRPC streams, once on a fresh
// PostgreSQL database and once on an embedded PGlite directory.

const service = (name: string, extra: Record<string, unknown> = {}) => ({ kind: "Service" as const, metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" as const }], ...extra } });
const policy = { kind: "DestinationPolicy" as const, metadata: { name: "reviews", namespace: "default" }, spec: { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] } };
const split = (v1: number, v2: number) => ({
  kind: "Route" as const,
  metadata: { name: "reviews", namespace: "default" },
  spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews", subset: "v1" }, weight: v1 }, { destination: { host: "reviews", subset: "v2" }, weight: v2 }] }] },
});

for (const backend of ["postgres", "pglite"] as const) {
  describe(`control plane API on ${backend}`, () => {
    let cp: ControlPlane;
    let api: Api;
    let cleanup: () => Promise<void>;
    const proxies: FakeProxy[] = [];

    before(async () => {
      if (backend === "postgres") {
        const db: TestDatabase = await createTestDatabase();
        ({ cp, api } = await startTestControlPlane({ databaseUrl: db.url }));
        cleanup = () => db.drop();
      } else {
        const dir = await tempDataDir();
        ({ cp, api } = await startTestControlPlane({ dataDir: dir.path }));
        cleanup = () => dir.remove();
      }
    });
    after(async () => {
      for (const p of proxies) p.cancel();
      await cp.close();
      await cleanup();
    });

    test("create, read, list and delete resources, one revision per write", async () => {
      const w = await api.resources.write.mutate({ baseRevision: 0, message: "bookinfo", upserts: [service("productpage"), service("reviews"), policy, split(100, 0)] });
      assert.equal(w.revision, 1);
      const list = await api.resources.list.query({ kind: "Service" });
      assert.deepEqual(list.items.map((s) => s.metadata.name), ["productpage", "reviews"]);
      const got = await api.resources.get.query({ kind: "Route", namespace: "default", name: "reviews" });
      assert.equal(got.kind, "Route");
      const d = await api.resources.write.mutate({ baseRevision: 1, upserts: [service("scratch")] });
      const del = await api.resources.delete.mutate({ refs: [{ kind: "Service", namespace: "default", name: "scratch" }], baseRevision: d.revision, message: "cleanup" });
      assert.equal(del.revision, d.revision + 1);
      const e = await errorOf(api.resources.get.query({ kind: "Service", namespace: "default", name: "scratch" }));
      assert.equal(e.code, "NOT_FOUND");
      const revs = await api.revisions.list.query({ limit: 10 });
      assert.deepEqual(revs.map((r) => r.number), [del.revision, d.revision, 1]);
      assert.equal(revs[2]?.author, "tester");
      assert.equal(revs[2]?.message, "bookinfo");
    });

    test("invalid input is BAD_REQUEST naming the field, and nothing is written", async () => {
      const head = await api.revisions.head.query();
      const bad = { ...split(90, 10), spec: { ...split(90, 10).spec, http: [{ route: [{ destination: { host: "reviews" }, weight: 150 }] }] } };
      const e = await errorOf(api.resources.write.mutate({ baseRevision: head, upserts: [service("x"), bad] }));
      assert.equal(e.code, "BAD_REQUEST");
      assert.ok(e.issues?.some((i) => i.path === "upserts[1].spec.http[0].route[0].weight"), JSON.stringify(e.issues));
      assert.match(e.message, /upserts\[1\]\.spec\.http\[0\]\.route\[0\]\.weight/);
      assert.equal(await api.revisions.head.query(), head);
      assert.equal((await api.resources.list.query({ kind: "Service" })).items.some((s) => s.metadata.name === "x"), false);
    });

    test("a change analyze refuses is BAD_REQUEST with findings; the dry run reports the same without writing", async () => {
      const head = await api.revisions.head.query();
      const dry = await api.resources.analyze.mutate({ upserts: [split(60, 30)] });
      assert.equal(dry.valid, false);
      assert.ok(dry.findings.some((f) => f.code === "TRELLIS_WEIGHTS_SUM" && f.path === "spec.http[0].route"));
      const e = await errorOf(api.resources.write.mutate({ baseRevision: head, upserts: [split(60, 30)] }));
      assert.equal(e.code, "BAD_REQUEST");
      assert.equal(e.trellisCode, "TRELLIS_ANALYZE_FAILED");
      assert.ok(e.findings?.some((f) => f.code === "TRELLIS_WEIGHTS_SUM"));
      assert.equal(await api.revisions.head.query(), head);
      const ok = await api.resources.analyze.mutate({ upserts: [split(50, 50)] });
      assert.equal(ok.valid, true);
    });

    test("a stale base revision is a CONFLICT, never a silent overwrite", async () => {
      const base = await api.revisions.head.query();
      await api.resources.write.mutate({ baseRevision: base, upserts: [split(80, 20)], message: "alice: 80/20" });
      const e = await errorOf(api.resources.write.mutate({ baseRevision: base, upserts: [split(70, 30)], message: "bob: 70/30 from a stale view" }));
      assert.equal(e.code, "CONFLICT");
      assert.match(e.message, /Route\/default\/reviews/);
      const route = await api.resources.get.query({ kind: "Route", namespace: "default", name: "reviews" });
      assert.equal(route.kind === "Route" && route.spec.http?.[0]?.route[0]?.weight, 80);
    });

    test("diff between revisions and rollback as a new revision", async () => {
      const before = await api.revisions.head.query();
      const w = await api.resources.write.mutate({ baseRevision: before, upserts: [split(10, 90)], message: "shift to v2" });
      const diff = await api.revisions.diff.query({ from: before, to: w.revision });
      assert.equal(diff.length, 1);
      assert.equal(diff[0]?.key, "Route/default/reviews");
      assert.deepEqual(diff[0]?.fields.map((f) => f.path).sort(), ["spec.http[0].route[0].weight", "spec.http[0].route[1].weight"]);
      const rb = await api.revisions.rollback.mutate({ to: before, baseRevision: w.revision });
      assert.equal(rb.revision, w.revision + 1);
      const rec = await api.revisions.get.query({ number: rb.revision });
      assert.equal(rec.rollbackOf, before);
      assert.deepEqual(await api.revisions.diff.query({ from: before, to: rb.revision }), []);
    });

    test("a proxy gets its snapshot, edits reach it, and proxy-status shows SYNCED / NACKED", async () => {
      const p = new FakeProxy(grpcPort(cp));
      proxies.push(p);
      p.hello({ workload: "productpage-1", service: "productpage", address: "127.0.0.1", labels: { version: "v1" } });
      const s1 = await p.settled("productpage.default", "127.0.0.1");
      assert.ok(s1.outbound.hosts.some((h) => h.host === "reviews.default"), "productpage's snapshot routes to reviews");
      p.ack(s1.version);
      const seen = p.snapshots().findIndex((s) => s.version === s1.version) + 1;
      let status = await pollStatus(api, "default/productpage-1", "SYNCED");
      assert.equal(status.lastAckedVersion, s1.version);
      // The config dump is what the control plane would send now; the proxy ACKed that very version.
      let dump = await api.proxies.configDump.query({ proxyId: "default/productpage-1" });
      assert.equal(dump.version, s1.version);
      assert.equal(dump.inSync, true);
      assert.deepEqual((dump.snapshot as { proxy: unknown }).proxy, s1.proxy);
      assert.equal((await errorOf(api.proxies.configDump.query({ proxyId: "default/nobody" }))).code, "NOT_FOUND");
      const eps = await api.services.endpoints.query({ service: "productpage" });
      assert.deepEqual(eps.map((e) => e.id), ["default/productpage-1"]);

      const head = await api.revisions.head.query();
      await api.resources.write.mutate({ baseRevision: head, upserts: [split(25, 75)], message: "canary" });
      const s2 = await p.snapshot(seen + 1);
      assert.notEqual(s2.version, s1.version);
      const reviews = s2.outbound.hosts.find((h) => h.host === "reviews.default");
      assert.deepEqual(reviews?.routes[0]?.http[0]?.route.map((r) => r.weight), [25, 75]);
      p.nack(s2.version, "route table rejected by test");
      status = await pollStatus(api, "default/productpage-1", "NACKED");
      assert.equal(status.lastNackReason, "route table rejected by test");
      assert.equal(status.lastAckedVersion, s1.version);
      // Now the dump shows the canary the proxy refused, and that it still runs the older version.
      dump = await api.proxies.configDump.query({ proxyId: "default/productpage-1" });
      assert.equal(dump.version, s2.version);
      assert.equal(dump.ackedVersion, s1.version);
      assert.equal(dump.inSync, false);
    });

    test("preview: a change's findings and the proxies whose snapshot it would change, field by field, writing nothing", async () => {
      const head = await api.revisions.head.query();
      const preview = await api.resources.preview.mutate({ upserts: [split(50, 50)] });
      assert.equal(preview.baseRevision, head);
      assert.equal(preview.valid, true);
      assert.ok(preview.proxies >= 1);
      const pp = preview.changed.find((c) => c.proxyId === "default/productpage-1");
      assert.ok(pp, JSON.stringify(preview.changed.map((c) => c.proxyId)));
      assert.notEqual(pp.before, pp.after);
      const weights = pp.fields.filter((f) => f.path.endsWith(".weight"));
      assert.deepEqual(weights.map((f) => [f.before, f.after]), [[25, 50], [75, 50]], JSON.stringify(pp.fields));
      assert.ok(weights.every((f) => /^outbound\.hosts\[\d+\]\.routes/.test(f.path)), weights[0]?.path);
      // The same route again changes no snapshot; a broken one is invalid with the finding on its field.
      assert.deepEqual((await api.resources.preview.mutate({ upserts: [split(25, 75)] })).changed, []);
      const bad = await api.resources.preview.mutate({ upserts: [split(60, 30)] });
      assert.equal(bad.valid, false);
      assert.ok(bad.findings.some((f) => f.code === "TRELLIS_WEIGHTS_SUM" && f.resource === "Route/default/reviews"), JSON.stringify(bad.findings));
      assert.equal(await api.revisions.head.query(), head, "a preview writes nothing");
    });
  });
}

async function pollStatus(api: Api, id: string, state: string) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const s = (await api.proxies.status.query({})).find((x) => x.proxyId === id);
    if (s?.state === state) return s;
    if (Date.now() > deadline) throw new Error(`proxy ${id} not ${state}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
