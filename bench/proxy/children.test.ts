import assert from "node:assert/strict";
import { test } from "node:test";
import { childrenCpuFromTimes } from "./children";

test("the load tool's CPU is the children line of bash's times (user + system)", () => {
  assert.equal(childrenCpuFromTimes("0m0.001s 0m0.000s\n1m2.250s 0m0.750s\n"), 63);
  assert.ok(Number.isNaN(childrenCpuFromTimes("wrk: command not found")));
});
