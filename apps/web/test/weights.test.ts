import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { distributeEvenly, setWeight } from "../src/lib/weights";

const sum = (w: number[]) => w.reduce((s, x) => s + x, 0);

describe("canary weight handles", () => {
  test("moving one rebalances the others in proportion, and the total stays 100", () => {
    assert.deepEqual(setWeight([100, 0], [false, false], 1, 50), [50, 50]);
    assert.deepEqual(setWeight([50, 30, 20], [false, false, false], 0, 80), [80, 12, 8]);
    assert.deepEqual(setWeight([34, 33, 33], [false, false, false], 0, 0), [0, 50, 50]);
    for (let v = 0; v <= 100; v += 7) assert.equal(sum(setWeight([40, 35, 25], [false, false, false], 1, v)), 100);
  });

  test("others at 0 share the rest evenly; a value is clamped and rounded", () => {
    assert.deepEqual(setWeight([100, 0, 0], [false, false, false], 0, 40), [40, 30, 30]);
    assert.deepEqual(setWeight([100, 0, 0], [false, false, false], 0, 41), [41, 30, 29]);
    assert.deepEqual(setWeight([60, 40], [false, false], 0, 150), [100, 0]);
    assert.deepEqual(setWeight([60, 40], [false, false], 0, 33.6), [34, 66]);
  });

  test("a locked destination keeps its weight and limits the others", () => {
    assert.deepEqual(setWeight([50, 30, 20], [false, false, true], 0, 70), [70, 10, 20]);
    assert.deepEqual(setWeight([50, 30, 20], [false, false, true], 0, 95), [80, 0, 20], "at most what the lock leaves");
    // The only unlocked one takes all that is left whatever it is moved to.
    assert.deepEqual(setWeight([50, 30, 20], [false, true, true], 0, 10), [50, 30, 20]);
  });

  test("distribute evenly over the unlocked ones", () => {
    assert.deepEqual(distributeEvenly([100, 0, 0], [false, false, false]), [34, 33, 33]);
    assert.deepEqual(distributeEvenly([70, 10, 20], [false, false, true]), [40, 40, 20]);
    assert.deepEqual(distributeEvenly([100, 0], [false, false]), [50, 50]);
  });
});
