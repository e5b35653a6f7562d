import assert from "node:assert/strict";
import { test } from "node:test";
import { UNKNOWN_SUBSET, unknownSubset } from "./unknown-subset";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo subsets v1, v2 (mirror) and v3 (via reviews.bookinfo) are defined", () => {
  assert.deepEqual(unknownSubset(bookinfo()), []);
});

test("a route to subset v4 that the policy does not define is an error listing the defined ones", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[1].route[1].destination.subset = "v4";
  const findings = unknownSubset(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: UNKNOWN_SUBSET, severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[1].route[1].destination.subset" }]);
  assert.match(findings[0]!.message, /not defined by DestinationPolicy bookinfo\/reviews \(it defines 'v1', 'v2' and 'v3'\)/);
});

test("a mirror to an undefined subset is an error", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[1].mirror.destination.subset = "canary";
  assert.deepEqual(brief(unknownSubset(withResource(bookinfo(), route))).map((f) => f.path), ["spec.http[1].mirror.destination.subset"]);
});

test("a subset of a host with no DestinationPolicy at all is an error", () => {
  const route = get(bookinfo(), "Route/bookinfo/ratings");
  route.spec.http[0].route[0].destination.subset = "v1";
  const findings = unknownSubset(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: UNKNOWN_SUBSET, severity: "error", resource: "Route/bookinfo/ratings", path: "spec.http[0].route[0].destination.subset" }]);
  assert.match(findings[0]!.message, /needs a DestinationPolicy for host 'ratings', and none exists/);
});

test("a policy written in another namespace as reviews.bookinfo defines subsets for reviews", () => {
  const dp = get(bookinfo(), "DestinationPolicy/bookinfo/reviews");
  dp.metadata.namespace = "trellis-system";
  dp.spec.host = "reviews.bookinfo";
  const mesh = withResource(bookinfo().filter((r) => r.kind !== "DestinationPolicy"), dp);
  assert.deepEqual(unknownSubset(mesh), []);
});
