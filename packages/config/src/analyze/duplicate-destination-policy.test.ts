import assert from "node:assert/strict";
import { test } from "node:test";
import { DUPLICATE_DESTINATION_POLICY, duplicateDestinationPolicy } from "./duplicate-destination-policy";
import { bookinfo, brief, withResource } from "./test-fixtures";

test("bookinfo has one policy per host", () => {
  assert.deepEqual(duplicateDestinationPolicy(bookinfo()), []);
});

test("reviews and reviews.bookinfo are one host: the later policy by key is the error, naming the other", () => {
  const mesh = withResource(bookinfo(), {
    kind: "DestinationPolicy",
    metadata: { name: "reviews-lb", namespace: "bookinfo" },
    spec: { host: "reviews.bookinfo", loadBalancer: { kind: "LEAST_REQUEST" } },
  });
  const findings = duplicateDestinationPolicy(mesh);
  assert.deepEqual(brief(findings), [{ code: DUPLICATE_DESTINATION_POLICY, severity: "error", resource: "DestinationPolicy/bookinfo/reviews-lb", path: "spec.host" }]);
  assert.match(findings[0]!.message, /DestinationPolicy\/bookinfo\/reviews\b/);
  // Input order does not change which one is reported.
  assert.deepEqual(brief(duplicateDestinationPolicy([...mesh].reverse())), brief(findings));
});

test("a policy for the same name in another namespace is a different host", () => {
  const mesh = withResource(bookinfo(), {
    kind: "DestinationPolicy",
    metadata: { name: "reviews", namespace: "staging" },
    spec: { host: "reviews" },
  });
  assert.deepEqual(duplicateDestinationPolicy(mesh), []);
});
