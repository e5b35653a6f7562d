import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffMs } from "./backoff";

test("the ceiling doubles per retry from the base and stops at the max", () => {
  const top = () => 0.999999;
  assert.deepEqual([0, 1, 2, 3, 4, 10, 60].map((n) => backoffMs(n, 25, 250, top)), [24, 49, 99, 199, 249, 249, 249]);
});

test("full jitter: a draw of 0 waits nothing, 0.5 half the ceiling", () => {
  assert.equal(backoffMs(3, 25, 250, () => 0), 0);
  assert.equal(backoffMs(1, 100, 1000, () => 0.5), 100);
});
