import assert from "node:assert/strict";
import { it } from "node:test";
import { parseResource, type Resource } from "@trellis/config";
import { canonical } from "./resource-rows";
import { diffMaps, replay, revert, toMap } from "./resource-state";

const svc = (name: string, port = 80): Resource =>
  canonical(parseResource({ kind: "Service", metadata: { name }, spec: { ports: [{ name: "http", port, protocol: "http" }] } }));

it("replaying diffs forward and reverting them backward reach the same states", () => {
  const states = [toMap([]), toMap([svc("a"), svc("b")]), toMap([svc("a", 81), svc("c")]), toMap([svc("c")])];
  const diffs = states.slice(1).map((s, i) => diffMaps(states[i]!, s));
  assert.deepEqual(diffs[1]!.map((e) => `${e.op} ${e.key}`), ["update Service/default/a", "delete Service/default/b", "create Service/default/c"]);
  for (let n = 0; n < states.length; n++) {
    assert.deepEqual(replay(new Map(), diffs.slice(0, n)), states[n], `forward to ${n}`);
    assert.deepEqual(revert(new Map(states.at(-1)), diffs.slice(n).reverse()), states[n], `backward to ${n}`);
  }
});
