import assert from "node:assert/strict";
import { it } from "node:test";
import { deepEqual, fieldChanges } from "./field-diff";

it("compares JSON ignoring key order and undefined properties", () => {
  assert.ok(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }));
  assert.ok(deepEqual({ a: 1, b: undefined }, { a: 1 }));
  assert.ok(!deepEqual([1, 2], [2, 1]));
  assert.ok(!deepEqual({ a: null }, {}));
});

it("reports changed leaves with field paths", () => {
  const before = { spec: { http: [{ route: [{ weight: 90 }, { weight: 10 }] }] }, metadata: { labels: { "app.io/x": "1" } } };
  const after = { spec: { http: [{ route: [{ weight: 80 }, { weight: 20 }], timeout: "1s" }] }, metadata: { labels: {} } };
  assert.deepEqual(fieldChanges(before, after), [
    { path: "spec.http[0].route[0].weight", before: 90, after: 80 },
    { path: "spec.http[0].route[1].weight", before: 10, after: 20 },
    { path: "spec.http[0].timeout", before: null, after: "1s" },
    { path: 'metadata.labels["app.io/x"]', before: "1", after: null },
  ]);
  assert.deepEqual(fieldChanges({ a: [1] }, { a: [1, 2] }), [{ path: "a[1]", before: null, after: 2 }]);
  assert.deepEqual(fieldChanges({ a: { b: 1 } }, { a: "x" }), [{ path: "a", before: { b: 1 }, after: "x" }]);
  assert.deepEqual(fieldChanges({ a: 1 }, { a: 1 }), []);
});
