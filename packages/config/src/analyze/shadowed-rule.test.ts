import assert from "node:assert/strict";
import { test } from "node:test";
import { matchCovers, SHADOWED_RULE, shadowedRule } from "./shadowed-rule";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo: a header rule before a catch-all, a regex before prefix '/', disjoint gateway paths", () => {
  assert.deepEqual(shadowedRule(bookinfo()), []);
});

test("a rule after one with no match never matches", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http.reverse();
  const findings = shadowedRule(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: SHADOWED_RULE, severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[1].match" }]);
  assert.match(findings[0]!.message, /spec\.http\[1\] \('jason'\) can never match: spec\.http\[0\] before it matches every request/);
});

test("prefix '/' with nothing else is a catch-all, even for rules without a match", () => {
  const route = get(bookinfo(), "Route/bookinfo/ratings");
  route.spec.http.push({ route: [{ destination: { host: "ratings" } }] });
  assert.deepEqual(brief(shadowedRule(withResource(bookinfo(), route))), [
    { code: SHADOWED_RULE, severity: "error", resource: "Route/bookinfo/ratings", path: "spec.http[2]" },
  ]);
});

test("an identical match later in the list is shadowed", () => {
  const route = get(bookinfo(), "Route/bookinfo/bookinfo");
  route.spec.http.push({ match: [{ path: { prefix: "/api/v1/products" } }], route: [{ destination: { host: "details" } }] });
  const findings = shadowedRule(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings).map((f) => f.path), ["spec.http[2].match"]);
  assert.match(findings[0]!.message, /matched first by spec\.http\[1\]/);
});

test("a later rule is shadowed only when every alternative is covered, possibly by several rules", () => {
  const route = get(bookinfo(), "Route/bookinfo/bookinfo");
  route.spec.http.push({ match: [{ path: { exact: "/productpage" }, method: "GET" }, { path: { prefix: "/api/v1/products/1" } }], route: [{ destination: { host: "details" } }] });
  const findings = shadowedRule(withResource(bookinfo(), route));
  assert.match(findings[0]!.message, /spec\.http\[0\] or spec\.http\[1\]/);
  route.spec.http[2].match.push({ path: { prefix: "/login" } });
  assert.deepEqual(shadowedRule(withResource(bookinfo(), route)), []);
});

test("coverage: prefixes, methods, headers and regexes", () => {
  assert.ok(matchCovers({ path: { prefix: "/api" } }, { path: { exact: "/api/x" }, method: "GET" }));
  assert.ok(!matchCovers({ path: { prefix: "/api" }, method: "GET" }, { path: { prefix: "/api" } }));
  assert.ok(matchCovers({ headers: { "x-a": { prefix: "v" } } }, { headers: { "x-a": { exact: "v2" }, "x-b": { exact: "1" } } }));
  assert.ok(!matchCovers({ headers: { "x-a": { exact: "1" } } }, {}));
  assert.ok(matchCovers({ path: { regex: "/u/[0-9]+" } }, { path: { exact: "/u/42" } }));
  assert.ok(!matchCovers({ path: { regex: "/u/[0-9]+" } }, { path: { prefix: "/u/4" } }));
  assert.ok(!matchCovers({ path: { exact: "/a" } }, { path: { prefix: "/a" } }));
});

test("tcp: a rule without a port shadows every later rule", () => {
  const mesh = withResource(bookinfo(), {
    kind: "Route",
    metadata: { name: "db", namespace: "bookinfo" },
    spec: { hosts: ["ratings"], tcp: [{ port: 5432, route: [{ destination: { host: "ratings" } }] }, { route: [{ destination: { host: "ratings" } }] }, { port: 5433, route: [{ destination: { host: "ratings" } }] }] },
  });
  assert.deepEqual(brief(shadowedRule(mesh)), [{ code: SHADOWED_RULE, severity: "error", resource: "Route/bookinfo/db", path: "spec.tcp[2]" }]);
});
