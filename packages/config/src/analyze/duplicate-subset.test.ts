import assert from "node:assert/strict";
import { test } from "node:test";
import { DUPLICATE_SUBSET, duplicateSubset } from "./duplicate-subset";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo's reviews subsets v1, v2, v3 are distinct", () => {
  assert.deepEqual(duplicateSubset(bookinfo()), []);
});

test("a repeated subset name is an error on the later one", () => {
  const dp = get(bookinfo(), "DestinationPolicy/bookinfo/reviews");
  dp.spec.subsets.push({ name: "v2", labels: { version: "v2-canary" } });
  const findings = duplicateSubset(withResource(bookinfo(), dp));
  assert.deepEqual(brief(findings), [{ code: DUPLICATE_SUBSET, severity: "error", resource: "DestinationPolicy/bookinfo/reviews", path: "spec.subsets[3].name" }]);
  assert.match(findings[0]!.message, /already used by spec\.subsets\[1\]/);
});
