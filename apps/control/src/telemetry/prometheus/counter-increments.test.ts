import assert from "node:assert/strict";
import { test } from "node:test";
import { counterIncrements } from "./counter-increments";

const T = 1_800_000_000;
const pts = (...vs: (number | undefined)[]): [number, string][] => vs.flatMap((v, k) => (v === undefined ? [] : [[T + 10 * k, String(v)] as [number, string]]));
const inc = (...vs: (number | undefined)[]) => Array.from(counterIncrements(pts(...vs), T, 10, vs.length - 1));

test("a counter that exists at the start: differences of the boundary values", () => {
  assert.deepEqual(inc(100, 103, 110, 110), [3, 7, 0]);
});

test("a counter born inside the range grew from 0 (increase() would lose its first scrape)", () => {
  assert.deepEqual(inc(undefined, 5, 5, 12), [5, 0, 7]);
});

test("a drop is a restart: the step grew from 0 to the new value", () => {
  assert.deepEqual(inc(100, 3, 8), [3, 5]);
});

test("a gap (no sample within the lookback) adds nothing and resumes from the last value seen", () => {
  assert.deepEqual(inc(10, undefined, 15), [0, 5]);
});

test("points off the grid, NaN and unparsable values are ignored", () => {
  const values: [number, string][] = [[T - 10, "999"], [T, "1"], [T + 10, "NaN"], [T + 20, "4"], [T + 30, "x"], [T + 40, "9"]];
  assert.deepEqual(Array.from(counterIncrements(values, T, 10, 2)), [0, 3]);
});
