import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizePath } from "./normalize-path";

test("dot segments, repeated slashes and encoded unreserved characters normalise as Envoy's normalize_path + merge_slashes", () => {
  const cases: Array<[string, string | undefined]> = [
    ["/admin/users", "/admin/users"],
    ["/public/../admin/x", "/admin/x"],
    ["/./admin/./x", "/admin/x"],
    ["//admin//x", "/admin/x"],
    ["/%61dmin/x", "/admin/x"],
    ["/%2e%2e/admin", "/admin"],
    ["/a/%2E%2E/admin", "/admin"],
    ["/../../etc/passwd", "/etc/passwd"],
    ["/api/", "/api/"],
    ["/api/..", "/"],
    ["/a/b/.", "/a/b/"],
    ["/files/a%2fb", "/files/a%2Fb"],
    ["/x?next=/../admin&a=%2e", "/x?next=/../admin&a=%2e"],
    ["/100%", undefined],
    ["admin", undefined],
    ["/", "/"],
  ];
  for (const [input, want] of cases) assert.equal(normalizePath(input), want, input);
});
