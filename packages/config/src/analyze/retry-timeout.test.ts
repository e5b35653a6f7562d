import assert from "node:assert/strict";
import { test } from "node:test";
import { RETRY_TIMEOUT, retryTimeout } from "./retry-timeout";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo's 3s per try under a 10s timeout passes", () => {
  assert.deepEqual(retryTimeout(bookinfo()), []);
});

test("a per-try timeout longer than the route timeout is an error on perTryTimeout", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[1].retries.perTryTimeout = "1.5m";
  const findings = retryTimeout(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: RETRY_TIMEOUT, severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[1].retries.perTryTimeout" }]);
  assert.match(findings[0]!.message, /\(1\.5m\) is longer than spec\.http\[1\]\.timeout \(10s\)/);
});

test("units are compared, not strings: 900ms per try under 1s passes", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[1].timeout = "1s";
  route.spec.http[1].retries.perTryTimeout = "900ms";
  assert.deepEqual(retryTimeout(withResource(bookinfo(), route)), []);
});

test("without a route timeout there is nothing to exceed", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  delete route.spec.http[1].timeout;
  route.spec.http[1].retries.perTryTimeout = "1h";
  assert.deepEqual(retryTimeout(withResource(bookinfo(), route)), []);
});
