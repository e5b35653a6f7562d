import assert from "node:assert/strict";
import { test } from "node:test";
import { INVALID_REGEX, invalidRegex, nonRe2Feature, REGEX_NOT_RE2 } from "./invalid-regex";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo's route and rate-limit regexes compile", () => {
  assert.deepEqual(invalidRegex(bookinfo()), []);
});

test("a route path regex that does not compile is an error quoting the engine", () => {
  const route = get(bookinfo(), "Route/bookinfo/ratings");
  route.spec.http[0].match[0].path.regex = "^/ratings/([0-9]+$";
  const findings = invalidRegex(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: INVALID_REGEX, severity: "error", resource: "Route/bookinfo/ratings", path: "spec.http[0].match[0].path.regex" }]);
  assert.match(findings[0]!.message, /does not compile: .*Unterminated group/);
});

test("a header regex is checked, with the header name in the path", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[0].match[0].headers["end-user"] = { regex: "*jason" };
  assert.deepEqual(brief(invalidRegex(withResource(bookinfo(), route))), [
    { code: INVALID_REGEX, severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[0].match[0].headers.end-user.regex" },
  ]);
});

test("a rate-limit path regex is checked", () => {
  const rl = get(bookinfo(), "RateLimitPolicy/bookinfo/ratings");
  rl.spec.limits[0].match.path.regex = "[z-a]";
  assert.deepEqual(brief(invalidRegex(withResource(bookinfo(), rl))), [
    { code: INVALID_REGEX, severity: "error", resource: "RateLimitPolicy/bookinfo/ratings", path: "spec.limits[0].match.path.regex" },
  ]);
});

test("a backreference compiles but is a warning (not RE2)", () => {
  const route = get(bookinfo(), "Route/bookinfo/ratings");
  route.spec.http[0].match[0].path.regex = "^/(\\w+)/\\1$";
  const findings = invalidRegex(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: REGEX_NOT_RE2, severity: "warning", resource: "Route/bookinfo/ratings", path: "spec.http[0].match[0].path.regex" }]);
  assert.match(findings[0]!.message, /backreference/);
});

test("RE2 feature detection skips escapes and character classes", () => {
  assert.equal(nonRe2Feature("a\\\\1"), undefined);
  assert.equal(nonRe2Feature("[(?=]x"), undefined);
  assert.equal(nonRe2Feature("(?<name>a)\\k<name>"), "a named backreference");
  assert.equal(nonRe2Feature("foo(?!bar)"), "lookaround");
  assert.equal(nonRe2Feature("(?<=a)b"), "lookaround");
  assert.equal(nonRe2Feature("(?:a|b)+"), undefined);
});
