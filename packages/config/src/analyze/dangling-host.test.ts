import assert from "node:assert/strict";
import { test } from "node:test";
import { DANGLING_HOST, danglingHost } from "./dangling-host";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo's policy host and egress hosts all exist", () => {
  assert.deepEqual(danglingHost(bookinfo()), []);
});

test("a DestinationPolicy for a host that does not exist is a warning on spec.host", () => {
  const dp = get(bookinfo(), "DestinationPolicy/bookinfo/reviews");
  dp.spec.host = "reviews.prod";
  const findings = danglingHost(withResource(bookinfo(), dp));
  assert.deepEqual(brief(findings), [{ code: DANGLING_HOST, severity: "warning", resource: "DestinationPolicy/bookinfo/reviews", path: "spec.host" }]);
  assert.match(findings[0]!.message, /'reviews\.prod' at spec\.host is neither a Service nor a ServiceEntry host/);
});

test("an egress host that does not exist is a warning on that entry", () => {
  const svc = get(bookinfo(), "Service/bookinfo/details");
  svc.spec.egress.push("api.stripe.com");
  assert.deepEqual(brief(danglingHost(withResource(bookinfo(), svc))), [{ code: DANGLING_HOST, severity: "warning", resource: "Service/bookinfo/details", path: "spec.egress[2]" }]);
});
