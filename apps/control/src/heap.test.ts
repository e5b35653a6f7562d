import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BUFFER_POOL_BYTES, CONTROL_PLANE_NODE_FLAGS, tuneHeap } from "./heap";

describe("tuneHeap", () => {
  it("finds the launch flags on the command line or in NODE_OPTIONS, in either spelling", () => {
    assert.deepEqual(tuneHeap(25, [], "").missingFlags, [...CONTROL_PLANE_NODE_FLAGS]);
    assert.deepEqual(tuneHeap(25, ["--max-semi-space-size=2"], "").missingFlags, []);
    assert.deepEqual(tuneHeap(25, [], "--max_semi_space_size=4 --enable-source-maps").missingFlags, [], "an operator's own value counts");
    assert.deepEqual(tuneHeap(25, ["--max-old-space-size=512"], "").missingFlags, ["--max-semi-space-size=2"]);
  });

  it("shrinks Buffer's shared slab to 8 KB and refuses a growth that is not a whole number ≥ 0", () => {
    tuneHeap(0, [], "");
    assert.equal(Buffer.poolSize, BUFFER_POOL_BYTES);
    assert.throws(() => tuneHeap(-1, [], ""), /TRELLIS_HEAP_GROWTH_PERCENT: must be an integer ≥ 0, got -1/);
    assert.throws(() => tuneHeap(2.5, [], ""), /TRELLIS_HEAP_GROWTH_PERCENT/);
  });
});
