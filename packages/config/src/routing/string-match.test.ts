import assert from "node:assert/strict";
import { test } from "node:test";
import { compileStringMatch } from "./string-match";

test("exact and prefix", () => {
  const exact = compileStringMatch({ exact: "/a" });
  assert.deepEqual(["/a", "/a/", "/"].map(exact), [true, false, false]);
  const prefix = compileStringMatch({ prefix: "/api/" });
  assert.deepEqual(["/api/", "/api/x", "/api"].map(prefix), [true, true, false]);
});

test("a regex must match the whole value, alternation included", () => {
  const re = compileStringMatch({ regex: "/v[0-9]+|/beta" });
  assert.deepEqual(["/v1", "/v12", "/v1/x", "x/v1", "/beta", "/beta2"].map(re), [true, true, false, false, true, false]);
});

test("a regex that does not compile throws at build time, naming it", () => {
  assert.throws(() => compileStringMatch({ regex: "(" }), /regex '\(' does not compile/);
  assert.throws(() => compileStringMatch({}), /exactly one of exact, prefix or regex/);
});
