import assert from "node:assert/strict";
import { test } from "node:test";
import { routeWeights, WEIGHT_MISSING, WEIGHTS_SUM } from "./route-weights";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("the bookinfo canary (90/10) and single destinations pass", () => {
  assert.deepEqual(routeWeights(bookinfo()), []);
});

test("weights summing to 90 are an error on the rule's route list", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[1].route[1].weight = 0;
  const findings = routeWeights(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: WEIGHTS_SUM, severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[1].route" }]);
  assert.match(findings[0]!.message, /sum to 90; they must sum to 100/);
});

test("a single destination with weight 50 does not sum to 100", () => {
  const route = get(bookinfo(), "Route/bookinfo/ratings");
  route.spec.http[0].route[0].weight = 50;
  assert.deepEqual(brief(routeWeights(withResource(bookinfo(), route))), [
    { code: WEIGHTS_SUM, severity: "error", resource: "Route/bookinfo/ratings", path: "spec.http[0].route" },
  ]);
});

test("several destinations where some omit the weight name every missing one", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[1].route = [
    { destination: { host: "reviews", subset: "v1" }, weight: 80 },
    { destination: { host: "reviews", subset: "v2" } },
    { destination: { host: "reviews", subset: "v3" } },
  ];
  const findings = routeWeights(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: WEIGHT_MISSING, severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[1].route[1].weight" }]);
  assert.match(findings[0]!.message, /spec\.http\[1\]\.route\[1\]\.weight, spec\.http\[1\]\.route\[2\]\.weight are missing/);
});

test("tcp rules are checked too", () => {
  const mesh = withResource(bookinfo(), {
    kind: "Route",
    metadata: { name: "db", namespace: "bookinfo" },
    spec: { hosts: ["ratings"], tcp: [{ route: [{ destination: { host: "ratings" }, weight: 30 }, { destination: { host: "ratings" }, weight: 30 }] }] },
  });
  assert.deepEqual(brief(routeWeights(mesh)), [{ code: WEIGHTS_SUM, severity: "error", resource: "Route/bookinfo/db", path: "spec.tcp[0].route" }]);
});
