import assert from "node:assert/strict";
import { test } from "node:test";
import { WORKLOAD_UNKNOWN_SERVICE, workloadUnknownService } from "./workload-unknown-service";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo's details-vm belongs to details", () => {
  assert.deepEqual(workloadUnknownService(bookinfo()), []);
});

test("a Workload of a missing Service is an error on spec.service", () => {
  const w = get(bookinfo(), "Workload/bookinfo/details-vm");
  w.spec.service = "detail";
  const findings = workloadUnknownService(withResource(bookinfo(), w));
  assert.deepEqual(brief(findings), [{ code: WORKLOAD_UNKNOWN_SERVICE, severity: "error", resource: "Workload/bookinfo/details-vm", path: "spec.service" }]);
  assert.match(findings[0]!.message, /Service bookinfo\/detail, which does not exist/);
});
