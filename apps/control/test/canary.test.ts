import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { Resource } from "@trellis/config";
import { CanaryController } from "../src/canary/canary-controller";
import type { CanaryStartInput } from "../src/canary/canary-controller";
import { openDatabase } from "../src/db/open-database";
import type { Database } from "../src/db/open-database";
import { silentLogger } from "../src/log";
import { ResourceStore } from "../src/revisions/store";
import type { RequestSignals } from "../src/telemetry/live/window-query";
import { createTestDatabase, type TestDatabase } from "./helpers/pg";

// The canary controller on a real PostgreSQL store: every step is a real revision. The
// per-version figures are scripted here so that each gate can be driven deterministically
// (the live window's own aggregation is tested in window-query and live-graph tests); the
// dashboard's end-to-end test runs a canary on the demo's real traffic.

const ns = "shop";
const resources: Resource[] = [
  { kind: "Service", metadata: { name: "reviews", namespace: ns }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }] } } as Resource,
  { kind: "DestinationPolicy", metadata: { name: "reviews", namespace: ns }, spec: { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }, { name: "blue", labels: { track: "blue" } }] } } as Resource,
  { kind: "Route", metadata: { name: "reviews", namespace: ns }, spec: { hosts: ["reviews"], http: [{ name: "split", route: [{ destination: { host: "reviews", subset: "v1" }, weight: 100 }, { destination: { host: "reviews", subset: "v2" }, weight: 0 }] }] } } as Resource,
];

const sig = (requests: number, errors: number, p99: number): RequestSignals => ({ requests, rps: requests / 30, errors, errorRate: requests ? errors / requests : null, p50: p99 / 4, p95: p99 / 2, p99, bytesPerSec: 0, mtlsShare: 1, byClass: [0, 0, requests - errors, 0, 0, errors] });

describe("canary automation", () => {
  let pg: TestDatabase;
  let db: Database;
  let store: ResourceStore;
  let figures = new Map<string, RequestSignals>();
  let canaries: CanaryController;
  const start: CanaryStartInput = { namespace: ns, route: "reviews", stableSubset: "v1", canarySubset: "v2", stepPercent: 25, intervalSec: 30, gates: { maxErrorRateDelta: 1, maxP99Ratio: 1.5, minRequests: 20 }, author: "olive" };
  const weights = async () => {
    const r = (await store.get({ kind: "Route", namespace: ns, name: "reviews" })) as { spec: { http: { route: { weight: number }[] }[] } };
    return r.spec.http[0]!.route.map((d) => d.weight);
  };
  const later = (s: number) => new Date(Date.now() + s * 1000);

  before(async () => {
    pg = await createTestDatabase();
    db = await openDatabase({ databaseUrl: pg.url, dataDir: "" });
    store = new ResourceStore(db);
    await store.apply({ upserts: resources, baseRevision: 0, author: "admin", message: "shop" });
    canaries = new CanaryController({ db, store, signals: () => figures, log: silentLogger });
  });
  beforeEach(async () => {
    // Each test starts from 100/0 with no run in progress.
    for (const r of await canaries.list()) if (r.state === "running" || r.state === "paused") await canaries.abort(r.id, "test");
    figures = new Map();
  });
  after(async () => {
    await db.close();
    await pg.drop();
  });

  test("starting moves the first step at once, as a revision by the canary; a second canary on the route is refused", async () => {
    const run = await canaries.begin(start);
    assert.equal(run.state, "running");
    assert.deepEqual(await weights(), [75, 25]);
    const rev = (await store.listRevisions())[0]!;
    assert.equal(rev.author, `canary/${run.id}`);
    assert.match(rev.message, /canary v2 of reviews\.shop: 25 %/);
    await assert.rejects(canaries.begin(start), /already has a canary in progress/);
  });

  test("bad starts name the cause: unknown route, a subset not selected by version, the same subset twice, a subset not in the rule", async () => {
    await assert.rejects(canaries.begin({ ...start, route: "nope" }), /Route\/shop\/nope does not exist/);
    await assert.rejects(canaries.begin({ ...start, canarySubset: "v1" }), /must differ/);
    await assert.rejects(canaries.begin({ ...start, canarySubset: "blue" }), /no rule of Route\/shop\/reviews has both subsets 'v1' and 'blue'/);
  });

  test("while the gates hold it advances a step per interval, and at 100 % it has succeeded", async () => {
    const run = await canaries.begin(start);
    figures = new Map([["v1", sig(300, 3, 100)], ["v2", sig(100, 1, 120)]]);
    await canaries.tick(new Date()); // not due yet
    assert.deepEqual(await weights(), [75, 25]);
    for (const [i, expected] of [[1, [50, 50]], [2, [25, 75]], [3, [0, 100]]] as const) {
      await canaries.tick(later(31 * i));
      assert.deepEqual(await weights(), expected);
    }
    const done = await canaries.get(run.id);
    assert.equal(done.state, "succeeded");
    assert.deepEqual(done.steps.map((s) => s.decision), ["start", "advance", "advance", "succeed"]);
    assert.ok(done.steps.every((s) => s.decision === "start" || (s.revision !== null && s.canary?.requests === 100)));
  });

  test("too little canary traffic: no verdict, it holds", async () => {
    const run = await canaries.begin(start);
    figures = new Map([["v1", sig(300, 0, 100)], ["v2", sig(5, 0, 100)]]);
    await canaries.tick(later(31));
    const held = await canaries.get(run.id);
    assert.equal(held.state, "running");
    assert.equal(held.steps.at(-1)!.decision, "hold");
    assert.match(held.reason, /5 canary requests in 30 s, fewer than 20/);
    assert.deepEqual(await weights(), [75, 25]);
    // Waiting again does not grow the log: one hold step stands for the wait.
    await canaries.tick(later(62));
    assert.deepEqual((await canaries.get(run.id)).steps.map((s) => s.decision), ["start", "hold"]);
  });

  test("a decision made on an older revision is not written: an edit in between makes it decide again", async () => {
    const run = await canaries.begin(start);
    figures = new Map([["v1", sig(300, 0, 100)], ["v2", sig(100, 0, 100)]]);
    const decidedOn = await store.head();
    const edit = { kind: "Service", metadata: { name: "other", namespace: ns }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }] } } as Resource;
    await store.apply({ upserts: [edit], baseRevision: decidedOn, author: "olive", message: "meanwhile" });
    // A controller whose decision read happened before that edit (the real store underneath;
    // only its first read reports the older revision, as in a real race; the write's read sees the edit).
    let decided = false;
    const decisionRead = async () => {
      const s = await store.snapshot();
      if (decided) return s;
      decided = true;
      return { ...s, revision: decidedOn };
    };
    const racing = new CanaryController({ db, store: { snapshot: decisionRead, head: () => store.head(), apply: (i: never) => store.apply(i) } as never, signals: () => figures, log: silentLogger });
    await racing.tick(later(31));
    assert.deepEqual(await weights(), [75, 25], "nothing written on the stale decision");
    assert.equal((await canaries.get(run.id)).steps.length, 1);
    // Deciding again on the current revision goes ahead.
    await canaries.tick(later(31));
    assert.deepEqual(await weights(), [50, 50]);
  });

  test("aborting a canary whose route is gone still ends it", async () => {
    const run = await canaries.begin(start);
    const head = await store.head();
    await store.apply({ deletes: [{ kind: "Route", namespace: ns, name: "reviews" }], baseRevision: head, author: "olive", message: "route gone" });
    const r = await canaries.abort(run.id, "olive");
    assert.equal(r.state, "aborted");
    assert.match(r.reason, /weights left as they are: Route\/shop\/reviews does not exist/);
    await store.apply({ upserts: [resources[2]!], baseRevision: await store.head(), author: "olive", message: "route back" });
  });

  test("an error rate above the stable one's by more than the margin rolls it back by itself", async () => {
    const run = await canaries.begin(start);
    figures = new Map([["v1", sig(300, 3, 100)], ["v2", sig(100, 9, 100)]]);
    await canaries.tick(later(31));
    const r = await canaries.get(run.id);
    assert.equal(r.state, "rolled_back");
    assert.match(r.reason, /error rate 9 % on the canary against 1 % on stable/);
    assert.deepEqual(await weights(), [100, 0]);
    assert.match((await store.listRevisions())[0]!.message, /rolled back/);
  });

  test("a p99 more than the allowed ratio above stable's rolls it back", async () => {
    const run = await canaries.begin(start);
    figures = new Map([["v1", sig(300, 0, 100)], ["v2", sig(100, 0, 180)]]);
    await canaries.tick(later(31));
    const r = await canaries.get(run.id);
    assert.equal(r.state, "rolled_back");
    assert.match(r.reason, /p99 180 ms on the canary against 100 ms on stable/);
  });

  test("paused, it does not move; resumed, it goes on; aborted, every request is back on stable", async () => {
    const run = await canaries.begin(start);
    figures = new Map([["v1", sig(300, 0, 100)], ["v2", sig(100, 0, 100)]]);
    await canaries.pause(run.id, "olive");
    await canaries.tick(later(31));
    assert.deepEqual(await weights(), [75, 25]);
    await assert.rejects(canaries.pause(run.id, "olive"), /is paused, not running/);
    await canaries.resume(run.id, "olive");
    await canaries.tick(later(62));
    assert.deepEqual(await weights(), [50, 50]);
    const aborted = await canaries.abort(run.id, "olive");
    assert.equal(aborted.state, "aborted");
    assert.deepEqual(await weights(), [100, 0]);
    assert.deepEqual(aborted.steps.map((s) => s.decision), ["start", "pause", "resume", "advance", "abort"]);
  });
});
