import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseProxyArgs } from "./args";

describe("heap growth (--heap-growth-percent, TRELLIS_PROXY_HEAP_GROWTH_PERCENT)", () => {
  const args = ["--service", "reviews", "--app-port", "9080"];
  test("unset leaves V8's flags alone; the variable or the flag sets it; nonsense is refused by name", () => {
    assert.equal(parseProxyArgs(args, {}).heapGrowthPercent, undefined, "a launch flag of the operator's still holds");
    assert.equal(parseProxyArgs(args, { TRELLIS_PROXY_HEAP_GROWTH_PERCENT: "0" }).heapGrowthPercent, 0, "0 asks for V8's own growth explicitly");
    assert.equal(parseProxyArgs(args, { TRELLIS_PROXY_HEAP_GROWTH_PERCENT: "25" }).heapGrowthPercent, 25);
    assert.equal(parseProxyArgs([...args, "--heap-growth-percent", "50"], { TRELLIS_PROXY_HEAP_GROWTH_PERCENT: "25" }).heapGrowthPercent, 50, "the flag wins");
    for (const bad of ["abc", "-1", "2.5", "401"]) assert.throws(() => parseProxyArgs(args, { TRELLIS_PROXY_HEAP_GROWTH_PERCENT: bad }), new RegExp(`TRELLIS_PROXY_HEAP_GROWTH_PERCENT "${bad.replace(".", "\\.")}": must be a whole number of percent, 0 to 400`));
    assert.equal(parseProxyArgs(args, { TRELLIS_PROXY_HEAP_GROWTH_PERCENT: "" }).heapGrowthPercent, undefined, "empty is unset");
  });
});
