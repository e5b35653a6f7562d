import assert from "node:assert/strict";
import { test } from "node:test";
import { EndpointState, endpointKey } from "./endpoint-state";

test("an endpoint is keyed address:port and keeps its live state across updates", () => {
  const e = EndpointState.from({ address: "10.0.0.1", port: 9080, labels: { version: "v1" }, weight: 1, sidecar: true });
  assert.equal(e.key, "10.0.0.1:9080");
  e.active = 3;
  e.consecutiveFailures = 2;
  e.update(5, { version: "v2" }, false);
  assert.deepEqual([e.weight, e.labels, e.sidecar, e.active, e.consecutiveFailures], [5, { version: "v2" }, false, 3, 2]);
  assert.equal(endpointKey("reviews.default", 80), "reviews.default:80");
});
