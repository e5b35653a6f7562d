import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PROXY_HEAP_GROWTH_PERCENT, tuneProxyHeap } from "./node-flags";

describe("tuneProxyHeap", () => {
  test("unset leaves V8's flags alone; TRELLIS_PROXY_HEAP_GROWTH_PERCENT sets them; nonsense is refused by name", () => {
    assert.equal(PROXY_HEAP_GROWTH_PERCENT, 0);
    assert.equal(tuneProxyHeap({}), undefined, "a launch flag of the operator's still holds");
    assert.equal(tuneProxyHeap({ TRELLIS_PROXY_HEAP_GROWTH_PERCENT: "0" }), 0, "0 asks for V8's own growth explicitly");
    assert.equal(tuneProxyHeap({ TRELLIS_PROXY_HEAP_GROWTH_PERCENT: "25" }), 25);
    for (const bad of ["abc", "-1", "2.5", "401"]) assert.throws(() => tuneProxyHeap({ TRELLIS_PROXY_HEAP_GROWTH_PERCENT: bad }), new RegExp(`TRELLIS_PROXY_HEAP_GROWTH_PERCENT must be an integer 0–400.*'${bad.replace(".", "\\.")}'`));
    assert.equal(tuneProxyHeap({ TRELLIS_PROXY_HEAP_GROWTH_PERCENT: "" }), undefined, "empty is unset");
    tuneProxyHeap({ TRELLIS_PROXY_HEAP_GROWTH_PERCENT: "0" });
  });
});
