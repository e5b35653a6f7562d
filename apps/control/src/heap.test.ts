import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BUFFER_POOL_BYTES, CONTROL_PLANE_NODE_FLAGS, LARGE_HEAP_MB, SMALL_HEAP_MB, growthMode, tuneHeap } from "./heap";

describe("tuneHeap", () => {
  it("finds the launch flags on the command line or in NODE_OPTIONS, in either spelling", () => {
    const check = (argv: string[], options: string) => {
      const t = tuneHeap(25, argv, options);
      t.stop();
      return t.missingFlags;
    };
    assert.deepEqual(check([], ""), [...CONTROL_PLANE_NODE_FLAGS]);
    assert.deepEqual(check(["--max-semi-space-size=8"], ""), []);
    assert.deepEqual(check([], "--max_semi_space_size=4 --enable-source-maps"), [], "an operator's own value counts");
    assert.deepEqual(check(["--max-old-space-size=512"], ""), ["--max-semi-space-size=8"]);
  });

  it("shrinks Buffer's shared slab to 8 KB and refuses a growth that is not a whole number ≥ 0", () => {
    tuneHeap(0, [], "").stop();
    assert.equal(Buffer.poolSize, BUFFER_POOL_BYTES);
    assert.throws(() => tuneHeap(-1, [], ""), /TRELLIS_HEAP_GROWTH_PERCENT: must be an integer ≥ 0, got -1/);
    assert.throws(() => tuneHeap(2.5, [], ""), /TRELLIS_HEAP_GROWTH_PERCENT/);
  });
});

describe("growthMode", () => {
  it("keeps a small heap tight and hands a large one to V8's adaptive growth, with hysteresis between", () => {
    assert.equal(growthMode(80, "tight"), "tight");
    assert.equal(growthMode(LARGE_HEAP_MB + 1, "tight"), "adaptive");
    assert.equal(growthMode((LARGE_HEAP_MB + SMALL_HEAP_MB) / 2, "adaptive"), "adaptive", "no flapping around one threshold");
    assert.equal(growthMode((LARGE_HEAP_MB + SMALL_HEAP_MB) / 2, "tight"), "tight");
    assert.equal(growthMode(SMALL_HEAP_MB - 1, "adaptive"), "tight");
  });
});
