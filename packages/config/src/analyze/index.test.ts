import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze, applyChange, hasErrors, parseResource, resolveHost } from "../index";
import { bookinfo, brief, get, parse, withResource } from "./test-fixtures";

test("a realistic bookinfo mesh produces no findings at all", () => {
  assert.deepEqual(analyze(bookinfo()), []);
});

test("the package entry exports host resolution for the snapshot compiler", () => {
  assert.equal(resolveHost("reviews", "bookinfo", bookinfo())?.kind, "service");
});

test("a mesh with several problems: every finding is coded, and output is ordered by resource then path", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[1].route[0].weight = 80;
  route.spec.http[1].route[1].destination.subset = "v9";
  route.spec.http[1].retries.perTryTimeout = "20s";
  const mesh = withResource(bookinfo(), route);
  const findings = analyze(mesh);
  assert.deepEqual(brief(findings), [
    { code: "TRELLIS_RETRY_TIMEOUT", severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[1].retries.perTryTimeout" },
    { code: "TRELLIS_WEIGHTS_SUM", severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[1].route" },
    { code: "TRELLIS_UNKNOWN_SUBSET", severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[1].route[1].destination.subset" },
  ]);
  assert.ok(findings.every((f) => f.code.startsWith("TRELLIS_") && f.message.length > 20));
  assert.equal(hasErrors(findings), true);
  assert.deepEqual(brief(analyze([...mesh].reverse())), brief(findings));
});

test("warnings alone do not block a change", () => {
  const mesh = [...bookinfo(), ...parse({ kind: "DestinationPolicy", metadata: { name: "ghost", namespace: "bookinfo" }, spec: { host: "ghost" } })];
  const findings = analyze(mesh);
  assert.deepEqual(brief(findings).map((f) => [f.code, f.severity]), [["TRELLIS_DANGLING_HOST", "warning"]]);
  assert.equal(hasErrors(findings), false);
});

test("validating a change: deleting the reviews Service breaks the Route and policies that use it", () => {
  const next = applyChange(bookinfo(), [], ["Service/bookinfo/reviews"]);
  const codes = new Set(analyze(next).map((f) => f.code));
  assert.ok(codes.has("TRELLIS_UNKNOWN_HOST"));
  assert.ok(codes.has("TRELLIS_SELECTOR_UNKNOWN_SERVICE"));
  assert.ok(hasErrors(analyze(next)));
});

test("validating a change: a canary step 90/10 → 50/50 stays clean", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[1].route[0].weight = 50;
  route.spec.http[1].route[1].weight = 50;
  assert.deepEqual(analyze(applyChange(bookinfo(), [parseResource(route)], [])), []);
});
