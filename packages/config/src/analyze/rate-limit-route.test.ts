import assert from "node:assert/strict";
import { test } from "node:test";
import { RATE_LIMIT_UNKNOWN_ROUTE, rateLimitRoute } from "./rate-limit-route";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("a limit on the 'canary' rule of bookinfo's reviews Route passes", () => {
  const rl = get(bookinfo(), "RateLimitPolicy/bookinfo/ratings");
  rl.spec.limits[0].match = { route: "canary" };
  assert.deepEqual(rateLimitRoute(withResource(bookinfo(), rl)), []);
});

test("a limit on a rule name no Route defines is a warning", () => {
  const rl = get(bookinfo(), "RateLimitPolicy/bookinfo/ratings");
  rl.spec.limits[0].match = { route: "canary-v4" };
  const findings = rateLimitRoute(withResource(bookinfo(), rl));
  assert.deepEqual(brief(findings), [{ code: RATE_LIMIT_UNKNOWN_ROUTE, severity: "warning", resource: "RateLimitPolicy/bookinfo/ratings", path: "spec.limits[0].match.route" }]);
});
