import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { OutboundHost } from "../snapshot";
import { HostTable } from "./host-table";
import { compileHttpMatch, effectiveWeight, pickWeighted, resolveCluster, rulesFor } from "./http-route";

describe("shared HTTP routing", () => {
  test("a match alternative: method, path without the query, headers (repeated values joined)", () => {
    const m = compileHttpMatch({ method: "GET", path: { prefix: "/api/" }, headers: { "x-user": { exact: "a,b" } } });
    assert.equal(m.prefix, "/api/");
    assert.equal(m.test({ method: "GET", path: "/api/v1?x=1", headers: { "x-user": ["a", "b"] } }), true);
    assert.equal(m.test({ method: "POST", path: "/api/v1", headers: { "x-user": "a,b" } }), false);
    assert.equal(m.test({ method: "GET", path: "/apx", headers: { "x-user": "a,b" } }), false);
    assert.equal(m.test({ method: "GET", path: "/api/v1", headers: {} }), false);
    assert.throws(() => compileHttpMatch({ path: { regex: "(" } }), /does not compile/);
  });

  test("weights: the only destination gets 100, unset weights among several get 0; the pick walks them in order", () => {
    assert.equal(effectiveWeight({ route: [{ destination: { host: "a" } }] }, 0), 100);
    assert.equal(effectiveWeight({ route: [{ destination: { host: "a" } }, { destination: { host: "b" }, weight: 100 }] }, 0), 0);
    assert.equal(pickWeighted([80, 20], 0), 0);
    assert.equal(pickWeighted([80, 20], 0.79), 0);
    assert.equal(pickWeighted([80, 20], 0.8), 1);
    assert.equal(pickWeighted([0, 0, 100], 0.5), 2);
    assert.equal(pickWeighted([0, 0], 0.5), 0, "all zero: the first");
    assert.equal(pickWeighted([100], 0.99), 0);
  });

  test("clusters: the destination's port, else the request's port if the host has it, else its default", () => {
    const host = (name: string, ports: number[]): OutboundHost =>
      ({ host: name, aliases: [], ports: ports.map((p) => ({ name: `p${p}`, port: p, protocol: "http" })), routes: [], clusters: ports.flatMap((p) => [{ name: `outbound|${p}||${name}`, port: p, endpoints: [] }, { name: `outbound|${p}|v2|${name}`, port: p, subset: "v2", endpoints: [] }]) }) as unknown as OutboundHost;
    const hosts = new HostTable([host("reviews.default", [9080, 9090])]);
    assert.equal(resolveCluster(hosts, "reviews.default", undefined, "v2", 9090)?.name, "outbound|9090|v2|reviews.default");
    assert.equal(resolveCluster(hosts, "reviews.default", 9080, undefined, 9090)?.name, "outbound|9080||reviews.default");
    assert.equal(resolveCluster(hosts, "reviews.default", undefined, "v3", 9080)?.cluster, undefined, "no such subset: a name but no cluster (503 UH)");
    assert.equal(resolveCluster(hosts, "ratings.default", undefined, undefined, 9080), undefined);
    assert.deepEqual(rulesFor({ ...host("x", [80]), routes: [{ source: "Route/default/a", http: [{ route: [] }, { route: [] }], tcp: [] }] } as unknown as OutboundHost).map((r) => `${r.source}#${r.index}`), ["Route/default/a#0", "Route/default/a#1"]);
  });
});
