import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Resource } from "@trellis/config";
import { FakeProxy } from "../src/distribution/test/fake-proxy";
import type { ControlPlane } from "../src/app";
import { errorOf, startTestControlPlane, grpcPort, type Api } from "./helpers/control-plane";
import { createTestDatabase, type TestDatabase } from "./helpers/pg";

// What-if over the real API on PostgreSQL, with proxies registered over real gRPC streams: the
// answer comes from the snapshots those proxies receive, evaluated by the shared routing and
// authorization code trellis-proxy runs.

const ns = "shop";
const meta = (name: string) => ({ name, namespace: ns });
const svc = (name: string): Resource => ({ kind: "Service", metadata: meta(name), spec: { ports: [{ name: "http", port: 9080, protocol: "http" }] } }) as Resource;
const resources: Resource[] = [
  svc("productpage"),
  svc("reviews"),
  svc("ratings"),
  { kind: "DestinationPolicy", metadata: meta("reviews"), spec: { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] } } as Resource,
  {
    kind: "Route",
    metadata: meta("reviews"),
    spec: {
      hosts: ["reviews"],
      http: [
        { name: "jason", match: [{ name: "jason", headers: { "end-user": { exact: "jason" } } }], route: [{ destination: { host: "reviews", subset: "v2" } }] },
        { name: "split", route: [{ destination: { host: "reviews", subset: "v1" }, weight: 80 }, { destination: { host: "reviews", subset: "v2" }, weight: 20 }], timeout: "3s", fault: { abort: { httpStatus: 503, percentage: 10 } } },
      ],
    },
  } as Resource,
  // Only reviews may call ratings.
  { kind: "AuthorizationPolicy", metadata: meta("ratings"), spec: { selector: { service: "ratings" }, action: "ALLOW", rules: [{ from: [{ source: { principals: ["*/ns/shop/sa/reviews"] } }] }] } } as Resource,
  { kind: "RequestAuthentication", metadata: meta("reviews"), spec: { selector: { service: "reviews" }, jwtRules: [{ issuer: "https://issuer.example", jwksUri: "https://issuer.example/jwks" }] } } as Resource,
];

describe("what-if", () => {
  let db: TestDatabase;
  let cp: ControlPlane;
  let api: Api;
  const proxies: FakeProxy[] = [];

  before(async () => {
    db = await createTestDatabase();
    ({ cp, api } = await startTestControlPlane({ databaseUrl: db.url }));
    await api.resources.write.mutate({ baseRevision: 0, upserts: resources, message: "shop" });
    const join = async (workload: string, service: string, version: string) => {
      const p = new FakeProxy(grpcPort(cp));
      proxies.push(p);
      p.hello({ namespace: ns, workload, service, labels: { version } });
      await p.settled(`${service}.${ns}`);
    };
    await join("productpage-1", "productpage", "v1");
    await join("reviews-v1", "reviews", "v1");
    await join("reviews-v2", "reviews", "v2");
    await join("ratings-1", "ratings", "v1");
  });
  after(async () => {
    for (const p of proxies) p.cancel();
    await cp.close();
    await db.drop();
  });

  test("a plain request takes the split: v1 80 %, v2 20 %, with the rule's timeout and fault, let in at both", async () => {
    const a = await api.whatIf.evaluate.mutate({ source: "shop/productpage-1", authority: "reviews:9080", path: "/reviews/1?x=1" });
    assert.equal(a.outcome, "routed");
    assert.deepEqual(a.route && { source: a.route.source, rule: a.route.rule, name: a.route.name, timeout: a.route.timeout }, { source: "Route/shop/reviews", rule: 1, name: "split", timeout: "3s" });
    assert.deepEqual(a.destinations.map((d) => [d.subset, d.share, d.workloads, d.refusedWith]), [["v1", 0.8, ["shop/reviews-v1"], null], ["v2", 0.2, ["shop/reviews-v2"], null]]);
    assert.ok(a.destinations.every((d) => d.mtls && d.peerAuthentication === "PERMISSIVE"), JSON.stringify(a.destinations));
    assert.equal(a.allowed, true);
    assert.match(a.message, /aborts 10 % with 503/);
  });

  test("a header match takes its own rule: end-user jason goes to v2 only", async () => {
    const a = await api.whatIf.evaluate.mutate({ source: "shop/productpage-1", authority: "reviews", headers: { "End-User": "jason" } });
    assert.equal(a.route?.name, "jason");
    assert.equal(a.route?.match, "jason");
    assert.deepEqual(a.destinations.map((d) => [d.subset, d.share]), [["v2", 1]]);
  });

  test("authorization as the destination's proxy decides it: productpage may not call ratings, reviews may", async () => {
    const denied = await api.whatIf.evaluate.mutate({ source: "shop/productpage-1", authority: "ratings:9080", path: "/ratings/1" });
    assert.equal(denied.allowed, false);
    assert.equal(denied.destinations[0]!.refusedWith, 403);
    assert.equal(denied.destinations[0]!.authorization?.allowed, false);
    const ok = await api.whatIf.evaluate.mutate({ source: "shop/reviews-v2", authority: "ratings:9080", path: "/ratings/1" });
    assert.equal(ok.allowed, true, JSON.stringify(ok.destinations));
    assert.match(ok.destinations[0]!.reason, /AuthorizationPolicy\/shop\/ratings/);
  });

  test("a JWT from an issuer the destination does not accept is refused with 401; an accepted one passes", async () => {
    const bad = await api.whatIf.evaluate.mutate({ source: "shop/productpage-1", authority: "reviews", jwt: { issuer: "https://evil.example", subject: "mallory", claims: {} } });
    assert.deepEqual(bad.destinations.map((d) => d.refusedWith), [401, 401]);
    assert.match(bad.destinations[0]!.reason, /issuer 'https:\/\/evil.example' is not one the destination accepts/);
    const good = await api.whatIf.evaluate.mutate({ source: "shop/productpage-1", authority: "reviews", jwt: { issuer: "https://issuer.example", subject: "alice", claims: {} } });
    assert.equal(good.allowed, true);
  });

  test("against a proposed change, before it is saved: a DENY on /admin refuses what the current config lets in, and nothing is written", async () => {
    const head = await api.revisions.head.query();
    const deny = { kind: "AuthorizationPolicy", metadata: meta("reviews-admin"), spec: { selector: { service: "reviews" }, action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }] } } as Resource;
    const req = { source: "shop/productpage-1", authority: "reviews", path: "/admin/users" };
    assert.equal((await api.whatIf.evaluate.mutate(req)).allowed, true);
    const proposed = await api.whatIf.evaluate.mutate({ ...req, change: { upserts: [deny], deletes: [] } });
    assert.equal(proposed.proposed, true);
    assert.equal(proposed.allowed, false);
    assert.ok(proposed.destinations.every((d) => d.refusedWith === 403 && d.authorization?.policy === "AuthorizationPolicy/shop/reviews-admin"), JSON.stringify(proposed.destinations));
    // The path is normalized first, as the proxy does: /./admin is /admin.
    assert.equal((await api.whatIf.evaluate.mutate({ ...req, path: "/./admin", change: { upserts: [deny], deletes: [] } })).allowed, false);
    assert.equal(await api.revisions.head.query(), head);
  });

  test("an unknown host is the sidecar's 404; an unknown source or a bad method is a clear error", async () => {
    const a = await api.whatIf.evaluate.mutate({ source: "shop/productpage-1", authority: "nowhere:80" });
    assert.equal(a.outcome, "no-host");
    assert.match(a.message, /no outbound host 'nowhere:80'/);
    const e = await errorOf(api.whatIf.evaluate.mutate({ source: "shop/ghost", authority: "reviews" }));
    assert.equal(e.code, "BAD_REQUEST");
    assert.match(e.message, /source 'shop\/ghost' is not a live proxy/);
    const m = await errorOf(api.whatIf.evaluate.mutate({ source: "shop/productpage-1", authority: "reviews", method: "get" }));
    assert.equal(m.code, "BAD_REQUEST");
    assert.match(m.message, /method/);
  });
});

describe("what a change would do to recent traffic", () => {
  test("flows are run through the destination's decision before and after, with their sampled requests", async () => {
    const { authzImpact } = await import("../src/whatif/impact");
    const ep = (workload: string, service: string, version = "v1") => ({ id: `${ns}/${workload}`, workload, service, namespace: ns, address: "10.0.0.1", inboundPort: 15006, ports: [{ name: "http", port: 9080, protocol: "http" as const }], labels: { version }, sidecar: true, proxyVersion: "0.1.0" });
    const state = { revision: 1, resources, endpoints: [ep("productpage-1", "productpage"), ep("reviews-v1", "reviews"), ep("reviews-v2", "reviews", "v2"), ep("ratings-1", "ratings")], trust: { trustDomain: "cluster.local", bundlePem: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----" } };
    const flow = (src: string, srcWorkload: string, dst: string, requests: number) => ({ srcNamespace: ns, srcService: src, srcWorkload, dstNamespace: ns, dstService: dst, requests });
    const deny = { kind: "AuthorizationPolicy", metadata: meta("reviews-writes"), spec: { selector: { service: "reviews" }, action: "DENY", rules: [{ to: [{ operation: { methods: ["POST"] } }] }] } } as Resource;
    const samples = (f: { srcService: string; dstService: string }) =>
      f.dstService === "reviews" && f.srcService === "productpage" ? [{ method: "GET", path: "/reviews/1", count: 40 }, { method: "POST", path: "/reviews/1", count: 3 }] : [];
    const impact = authzImpact(state as never, { upserts: [deny], deletes: [] }, [flow("reviews", "reviews-v2", "ratings", 50), flow("productpage", "productpage-1", "reviews", 43), flow("", "", "reviews", 2)], samples);
    assert.deepEqual(impact.map((i) => [i.source, i.destination, i.verdict, i.sampled]), [
      ["shop/productpage", "shop/reviews", "partly denied", true],
      ["shop/reviews", "shop/ratings", "unchanged", false],
      ["unknown (no sidecar)", "shop/reviews", "unchanged", false],
    ]);
    const post = impact[0]!.checked.find((c) => c.method === "POST")!;
    assert.deepEqual([post.now, post.after, post.count], [true, false, 3]);
    assert.match(post.reason, /denied by AuthorizationPolicy\/shop\/reviews-writes/);
    // Removing the policy that lets reviews call ratings: that flow would be newly denied.
    const open = authzImpact(state as never, { upserts: [], deletes: [{ kind: "AuthorizationPolicy", namespace: ns, name: "ratings" }] }, [flow("productpage", "productpage-1", "ratings", 5)], () => []);
    assert.equal(open[0]!.verdict, "newly allowed", "productpage was denied by the ALLOW list; without it, it gets in");
  });
});
