import assert from "node:assert/strict";
import { beforeEach, it } from "node:test";
import { ResourceValidationError } from "@trellis/config";
import { AnalyzeError, ConflictError, NotFoundError } from "../src/revisions/errors";
import { ResourceStore } from "../src/revisions/store";
import { describeEachBackend } from "./helpers/backends";
import { baseMesh, canaryRoute, NS, service } from "./helpers/mesh-fixtures";

const who = { author: "alice@example.com", message: "test" };

describeEachBackend("ResourceStore", (ctx) => {
  let store: ResourceStore;
  let committed: number[];
  beforeEach(async () => {
    await ctx.reset();
    committed = [];
    store = new ResourceStore(ctx.db, { onCommitted: (n) => void committed.push(n) });
  });

  it("two stores over one database (two replicas) never serve each other's stale cached content", async () => {
    const other = new ResourceStore(ctx.db);
    await store.apply({ upserts: baseMesh(), baseRevision: 0, ...who });
    assert.equal((await other.snapshot()).revision, 1);
    await other.apply({ upserts: [canaryRoute(70, 30)], baseRevision: 1, ...who });
    const seen = await store.snapshot();
    assert.equal(seen.revision, 2);
    const route = seen.resources.find((r) => r.kind === "Route") as { spec: { http: { route: { weight: number }[] }[] } } | undefined;
    assert.equal(route?.spec.http[0]?.route[0]?.weight, 70, "store saw the other replica's write, not its cache");
    // A write based on the other's revision is planned against the database's content, not the stale cache.
    const w = await store.apply({ upserts: [service("ratings")], baseRevision: 2, ...who });
    assert.equal(w.revision, 3);
    assert.deepEqual((await other.snapshot()).resources.map((r) => `${r.kind}/${r.metadata.name}`).sort(), ["DestinationPolicy/reviews", "Route/reviews", "Service/ratings", "Service/reviews"]);
    const final = (await other.snapshot()).resources.find((r) => r.kind === "Route") as { spec: { http: { route: { weight: number }[] }[] } } | undefined;
    assert.equal(final?.spec.http[0]?.route[0]?.weight, 70);
  });

  it("applies resources as revision 1 and lists and gets them", async () => {
    const res = await store.apply({ upserts: baseMesh(), baseRevision: 0, author: "alice", message: "bootstrap" });
    assert.equal(res.revision, 1);
    assert.equal(res.created, true);
    assert.equal(await store.head(), 1);
    assert.deepEqual((await store.list()).map((r) => `${r.kind}/${r.metadata.name}`), ["DestinationPolicy/reviews", "Route/reviews", "Service/reviews"]);
    assert.deepEqual((await store.list({ kind: "Service", namespace: NS })).length, 1);
    assert.deepEqual(await store.list({ namespace: "elsewhere" }), []);
    const svc = await store.get({ kind: "Service", namespace: NS, name: "reviews" });
    assert.equal(svc?.kind, "Service");
    assert.equal((svc?.spec as { sidecar: boolean }).sidecar, true, "stored with defaults filled in");
    assert.equal(await store.get(`Service/${NS}/nope`), undefined);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(committed, [1]);
  });

  it("records author, message, time and a diff per revision; unchanged upserts are no-ops", async () => {
    const t0 = Date.now();
    await store.apply({ upserts: baseMesh(), baseRevision: 0, author: "alice", message: "bootstrap" });
    const r2 = await store.apply({ upserts: [canaryRoute(80, 20), service("reviews")], baseRevision: 1, author: "bob", message: "shift 10% more" });
    assert.equal(r2.revision, 2);
    const rev = await store.getRevision(2);
    assert.equal(rev.author, "bob");
    assert.equal(rev.message, "shift 10% more");
    assert.equal(rev.baseRevision, 1);
    assert.equal(rev.rollbackOf, null);
    assert.ok(rev.createdAt.getTime() >= t0 - 1000 && rev.createdAt.getTime() <= Date.now() + 1000, `createdAt ${rev.createdAt.toISOString()} is now`);
    assert.deepEqual(rev.changes, [{ op: "update", key: `Route/${NS}/reviews` }], "the unchanged Service is not in the diff");
    const [entry] = rev.diff;
    assert.equal((entry!.before!.spec as { http: { route: { weight: number }[] }[] }).http[0]!.route[0]!.weight, 90);
    assert.equal((entry!.after!.spec as { http: { route: { weight: number }[] }[] }).http[0]!.route[0]!.weight, 80);
    const same = await store.apply({ upserts: baseMesh().slice(0, 2), baseRevision: 2, ...who });
    assert.deepEqual([same.revision, same.created], [2, false]);
    assert.equal(await store.head(), 2);
    const first = await store.getRevision(1);
    assert.deepEqual(first.diff.map((e) => [e.op, e.before]), [["create", null], ["create", null], ["create", null]]);
    assert.deepEqual((await store.listRevisions()).map((r) => r.number), [2, 1]);
    assert.deepEqual((await store.listRevisions({ limit: 1, before: 2 })).map((r) => r.number), [1]);
  });

  it("deletes by key and by reference", async () => {
    await store.apply({ upserts: [...baseMesh(), service("ratings")], baseRevision: 0, ...who });
    const r = await store.apply({ deletes: [`Service/${NS}/ratings`], baseRevision: 1, ...who });
    assert.equal(r.revision, 2);
    assert.equal(await store.get(`Service/${NS}/ratings`), undefined);
    await store.apply({ upserts: [service("ratings")], baseRevision: 2, ...who });
    await store.apply({ deletes: [{ kind: "Service", namespace: NS, name: "ratings" }], baseRevision: 3, ...who });
    assert.deepEqual((await store.getRevision(4)).changes, [{ op: "delete", key: `Service/${NS}/ratings` }]);
    await assert.rejects(store.apply({ deletes: [`Service/${NS}/ghost`], baseRevision: 4, ...who }), NotFoundError);
  });

  it("diffs any two revisions with field paths, and reconstructs every revision", async () => {
    const states = [await store.resourcesAt(0)];
    await store.apply({ upserts: baseMesh(), baseRevision: 0, ...who });
    states.push(await store.resourcesAt(1));
    await store.apply({ upserts: [canaryRoute(80, 20), service("ratings", { team: "a" })], baseRevision: 1, ...who });
    states.push(await store.resourcesAt(2));
    await store.apply({ upserts: [service("ratings", { team: "b" })], deletes: [`Route/${NS}/reviews`], baseRevision: 2, ...who });
    states.push(await store.resourcesAt(3));
    await store.apply({ upserts: [canaryRoute(50, 50)], baseRevision: 3, ...who });
    states.push((await store.snapshot()).resources);
    for (let n = 0; n < states.length; n++) assert.deepEqual(await store.resourcesAt(n), states[n], `resourcesAt(${n})`);

    const d = await store.diff(1, 2);
    assert.deepEqual(d.map((e) => [e.op, e.key]), [["update", `Route/${NS}/reviews`], ["create", `Service/${NS}/ratings`]]);
    assert.deepEqual(d[0]!.fields, [
      { path: "spec.http[0].route[0].weight", before: 90, after: 80 },
      { path: "spec.http[0].route[1].weight", before: 10, after: 20 },
    ]);
    assert.deepEqual((await store.diff(2, 3)).find((e) => e.op === "update")!.fields, [{ path: "metadata.labels.team", before: "a", after: "b" }]);
    const back = await store.diff(4, 1);
    assert.deepEqual(back.map((e) => [e.op, e.key]), [["update", `Route/${NS}/reviews`], ["delete", `Service/${NS}/ratings`]]);
    assert.deepEqual(await store.diff(2, 2), []);
    await assert.rejects(store.diff(1, 99), NotFoundError);
  });

  it("rolls back by writing a new revision that restores the old content", async () => {
    await store.apply({ upserts: baseMesh(), baseRevision: 0, ...who });
    await store.apply({ upserts: [canaryRoute(0, 100), service("ratings")], baseRevision: 1, ...who });
    const r = await store.rollback({ to: 1, baseRevision: 2, author: "carol", message: "undo the cut-over" });
    assert.deepEqual([r.revision, r.created], [3, true]);
    const rev = await store.getRevision(3);
    assert.deepEqual([rev.rollbackOf, rev.author, rev.baseRevision], [1, "carol", 2]);
    assert.deepEqual(await store.list(), await store.resourcesAt(1));
    assert.deepEqual(await store.diff(1, 3), []);
    const again = await store.rollback({ to: 1, baseRevision: 3, ...who });
    assert.deepEqual([again.revision, again.created], [3, false], "rolling back to the current content changes nothing");
    await assert.rejects(store.rollback({ to: 7, baseRevision: 3, ...who }), NotFoundError);
    await assert.rejects(store.rollback({ to: 2, baseRevision: 2, ...who }), (e: unknown) => e instanceof ConflictError && e.revision === 3);
  });

  it("refuses a stale base with ConflictError naming the resource and revision, writing nothing", async () => {
    await store.apply({ upserts: baseMesh(), baseRevision: 0, ...who });
    await store.apply({ upserts: [canaryRoute(80, 20)], baseRevision: 1, ...who });
    const before = await store.snapshot();
    await assert.rejects(store.apply({ upserts: [canaryRoute(70, 30)], baseRevision: 1, ...who }), (e: unknown) => {
      assert.ok(e instanceof ConflictError);
      assert.equal(e.code, "TRELLIS_CONFLICT");
      assert.equal(e.key, `Route/${NS}/reviews`);
      assert.equal(e.revision, 2);
      assert.match(e.message, /Route\/shop\/reviews was updated by revision 2, after your base revision 1/);
      return true;
    });
    await assert.rejects(store.apply({ upserts: [service("x")], baseRevision: 9, ...who }), (e: unknown) => e instanceof ConflictError && /head is 2/.test(e.message));
    // A create of a resource someone else created after our base is a conflict too.
    await store.apply({ upserts: [service("ratings")], baseRevision: 2, ...who });
    await assert.rejects(store.apply({ upserts: [service("ratings", { mine: "yes" })], baseRevision: 2, ...who }), (e: unknown) => e instanceof ConflictError && e.revision === 3);
    assert.deepEqual((await store.snapshot()).resources.length, before.resources.length + 1);
    // Resources untouched since the base may still be written on it.
    const ok = await store.apply({ upserts: [service("details")], baseRevision: 1, ...who });
    assert.equal(ok.revision, 4);
  });

  it("rejects an invalid resource with ResourceValidationError naming the field, writing nothing", async () => {
    const bad = canaryRoute();
    bad.spec.http[0]!.route[1]!.weight = 150;
    await assert.rejects(store.apply({ upserts: [service("reviews"), bad, { kind: "Nope" }], deletes: ["garbage"], baseRevision: 0, ...who }), (e: unknown) => {
      assert.ok(e instanceof ResourceValidationError);
      const paths = e.issues.map((i) => i.path);
      assert.ok(paths.includes("upserts[1].spec.http[0].route[1].weight"), paths.join(", "));
      assert.ok(paths.some((p) => p.startsWith("upserts[2]")), paths.join(", "));
      assert.ok(paths.includes("deletes[0]"), paths.join(", "));
      return true;
    });
    await assert.rejects(store.apply({ upserts: [service("a"), service("a")], baseRevision: 0, ...who }), /upserts\[1\]: Service\/shop\/a is already changed by upserts\[0\]/);
    assert.equal(await store.head(), 0);
    assert.deepEqual(await store.list(), []);
  });

  it("refuses a change analyze finds errors in (weights summing to 90) with AnalyzeError, writing nothing", async () => {
    await store.apply({ upserts: baseMesh(), baseRevision: 0, ...who });
    await assert.rejects(store.apply({ upserts: [canaryRoute(60, 30)], baseRevision: 1, ...who }), (e: unknown) => {
      assert.ok(e instanceof AnalyzeError);
      assert.equal(e.code, "TRELLIS_ANALYZE_FAILED");
      const f = e.findings.find((x) => x.code === "TRELLIS_WEIGHTS_SUM");
      assert.ok(f, JSON.stringify(e.findings));
      assert.equal(f.resource, `Route/${NS}/reviews`);
      assert.equal(f.path, "spec.http[0].route");
      return true;
    });
    assert.equal(await store.head(), 1);
    assert.equal(((await store.get(`Route/${NS}/reviews`))!.spec as { http: { route: { weight: number }[] }[] }).http[0]!.route[0]!.weight, 90);
  });

  it("numbers concurrent writes without gaps and notifies each", async () => {
    const names = ["a", "b", "c", "d", "e", "f"];
    const results = await Promise.all(names.map((n) => store.apply({ upserts: [service(n)], baseRevision: 0, ...who })));
    assert.deepEqual(results.map((r) => r.revision).sort(), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual((await store.listRevisions()).map((r) => r.number), [6, 5, 4, 3, 2, 1]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(committed.sort(), [1, 2, 3, 4, 5, 6]);
    await assert.rejects(store.getRevision(7), NotFoundError);
  });
});
