import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PROXY_HEAP_GROWTH_PERCENT, tuneProxyHeap } from "./node-flags";

describe("tuneProxyHeap", () => {
  test("the default leaves V8's own growth; TRELLIS_PROXY_HEAP_GROWTH_PERCENT sets it; nonsense is refused by name", () => {
    assert.equal(tuneProxyHeap({}), PROXY_HEAP_GROWTH_PERCENT);
    assert.equal(tuneProxyHeap({ TRELLIS_PROXY_HEAP_GROWTH_PERCENT: "25" }), 25);
    for (const bad of ["abc", "-1", "2.5", "401"]) assert.throws(() => tuneProxyHeap({ TRELLIS_PROXY_HEAP_GROWTH_PERCENT: bad }), new RegExp(`TRELLIS_PROXY_HEAP_GROWTH_PERCENT must be an integer 0–400.*'${bad.replace(".", "\\.")}'`));
    assert.equal(tuneProxyHeap({ TRELLIS_PROXY_HEAP_GROWTH_PERCENT: "" }), 0, "empty is unset");
  });
});
