import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { HttpRouteRule } from "@trellis/config";
import { echo, startHttpApp } from "./helpers/apps";
import { HttpClient, inParallel, servedBy, tally } from "./helpers/client";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

const REVIEWS = "reviews.default";
const to = (subset: string, weight?: number) => ({ destination: { host: REVIEWS, subset }, ...(weight !== undefined ? { weight } : {}) });

/** Rules in order; the first that matches wins. */
const RULES: HttpRouteRule[] = [
  { name: "exact", match: [{ path: { exact: "/exact" } }], route: [to("v2")] },
  {
    name: "api",
    match: [{ path: { prefix: "/api/" } }],
    rewrite: { uri: "/internal/" },
    headers: { request: { set: { "x-set": "new" }, add: { "x-add": "added" }, remove: ["x-remove"] }, response: { set: { "x-served-through": "mesh" }, remove: ["x-app-secret"] } },
    route: [to("v1")],
  },
  { name: "regex", match: [{ path: { regex: "/items/[0-9]+" } }], route: [to("v2")] },
  { name: "delete", match: [{ method: "DELETE" }], route: [to("v2")] },
  { name: "canary", match: [{ headers: { "x-canary": { exact: "yes" } } }, { headers: { "x-group": { prefix: "beta-" } } }], route: [to("v2")] },
  { name: "authority", match: [{ path: { prefix: "/other" } }], rewrite: { authority: "ratings.internal:8000" }, route: [to("v1")] },
  { name: "first", match: [{ path: { prefix: "/dup" } }], route: [to("v1")] },
  { name: "second", match: [{ path: { prefix: "/dup" } }], route: [to("v2")] },
  { name: "split", match: [{ path: { prefix: "/split" } }], route: [to("v1", 80), to("v2", 20)] },
];

describe("routing through a sidecar pair", () => {
  const t = new Teardown();
  let client: TestProxy;
  let seeded: TestProxy;
  let http: HttpClient;

  before(async () => {
    const v1 = t.track(await startHttpApp("v1", (req, res, body) => {
      res.setHeader("x-app-secret", "internal");
      return echo("v1", req, res, body);
    }));
    const v2 = t.track(await startHttpApp("v2"));
    const s1 = t.track(await startSidecar("reviews", v1.port, { version: "v1" }));
    const s2 = t.track(await startSidecar("reviews", v2.port, { version: "v2" }));
    const snap = snapshot({
      service: "productpage",
      hosts: [
        host({
          name: "reviews",
          ports: [{ port: 9080, protocol: "http" }],
          endpoints: [
            { port: s1.inboundPort, sidecar: true, labels: { version: "v1" } },
            { port: s2.inboundPort, sidecar: true, labels: { version: "v2" } },
          ],
          policy: { host: REVIEWS, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] },
          routes: [{ source: "Route/default/reviews", http: RULES }],
        }),
      ],
    });
    client = t.track(await startProxy({ app: "productpage" }, snap));
    // Draws scripted for the weighted pick: below 0.8 is v1, at or above is v2.
    const draws = [0.1, 0.85, 0.5, 0.95, 0.7999, 0.8];
    let n = 0;
    seeded = t.track(await startProxy({ app: "productpage" }, snap, { random: () => draws[n++ % draws.length]! }));
    http = t.track(new HttpClient(Number(new URL(client.outbound).port)));
  });
  after(() => t.stop());

  const call = (path: string, opts: Parameters<HttpClient["request"]>[2] = {}) => http.request("reviews:9080", path, opts);
  const json = (body: string) => JSON.parse(body) as { name: string; path: string; headers: Record<string, string | undefined> };

  it("matches exact, prefix and regex paths (the query string is not part of the path)", async () => {
    assert.equal(servedBy(await call("/exact?x=1")), "v2");
    assert.equal((await call("/exact/more")).status, 404, "exact does not match a longer path");
    assert.equal(servedBy(await call("/items/42")), "v2");
    assert.equal((await call("/items/42x")).status, 404, "a regex must match the whole path");
    assert.equal(client.accessLog.lines.at(-1)!.response_flags, "NR");
  });

  it("matches the method and headers (alternatives are ORed)", async () => {
    assert.equal(servedBy(await call("/anything", { method: "DELETE" })), "v2");
    assert.equal((await call("/anything", { method: "GET" })).status, 404);
    assert.equal(servedBy(await call("/anything", { headers: { "x-canary": "yes" } })), "v2");
    assert.equal(servedBy(await call("/anything", { headers: { "x-group": "beta-testers" } })), "v2");
    assert.equal((await call("/anything", { headers: { "x-canary": "no" } })).status, 404);
  });

  it("the first matching rule wins and names the route in the access log", async () => {
    assert.equal(servedBy(await call("/dup")), "v1");
    assert.equal(client.accessLog.lines.at(-1)!.route_name, "first");
  });

  it("no matching rule answers 404 NR", async () => {
    const res = await call("/nothing-matches");
    assert.equal(res.status, 404);
    assert.equal(res.headers["x-trellis-response-flags"], "NR");
  });

  it("rewrites the path prefix keeping the query, and edits request and response headers", async () => {
    const res = await call("/api/users/7?full=1", { headers: { "x-set": "old", "x-add": "first", "x-remove": "gone", "x-keep": "kept" } });
    assert.equal(res.status, 200);
    const echo = json(res.body);
    assert.equal(echo.name, "v1");
    assert.equal(echo.path, "/internal/users/7?full=1");
    assert.equal(echo.headers["x-set"], "new");
    assert.equal(echo.headers["x-add"], "first, added");
    assert.equal(echo.headers["x-remove"], undefined);
    assert.equal(echo.headers["x-keep"], "kept");
    assert.equal(res.headers["x-served-through"], "mesh");
    assert.equal(res.headers["x-app-secret"], undefined, "response header removed");
  });

  it("rewrites the authority the app sees", async () => {
    const echo = json((await call("/other/path")).body);
    assert.equal(echo.headers.host, "ratings.internal:8000");
    assert.equal(echo.path, "/other/path");
  });

  it("splits 80/20 across subsets over 1000 requests", async () => {
    const replies = await inParallel(1000, 20, () => call("/split"));
    assert.ok(replies.every((r) => r.status === 200));
    const counts = tally(replies.map(servedBy));
    // Binomial(1000, 0.2): sd ≈ 12.6, so ±60 is beyond 4.7 sd.
    assert.ok(Math.abs((counts.v2 ?? 0) - 200) < 60, `v2 got ${counts.v2} of 1000`);
    assert.equal((counts.v1 ?? 0) + (counts.v2 ?? 0), 1000);
  });

  it("the weighted pick follows the injected random source exactly", async () => {
    const seededHttp = new HttpClient(Number(new URL(seeded.outbound).port));
    try {
      const got: Array<string | undefined> = [];
      for (let i = 0; i < 6; i++) got.push(servedBy(await seededHttp.request("reviews:9080", "/split")));
      assert.deepEqual(got, ["v1", "v2", "v1", "v2", "v1", "v2"]);
      const logged = seeded.accessLog.lines.slice(-6).map((l) => l.upstream_cluster);
      assert.deepEqual(logged, ["v1", "v2", "v1", "v2", "v1", "v2"].map((s) => `outbound|9080|${s}|reviews.default`));
    } finally {
      seededHttp.close();
    }
  });
});
