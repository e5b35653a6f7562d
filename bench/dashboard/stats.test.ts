import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { interactiveAt, summarize } from "./stats";
import { syntheticGraph } from "./synthetic";

describe("dashboard bench figures", () => {
  test("frame intervals: quantiles, the longest, frames per second", () => {
    const s = summarize([...Array(94).fill(16), 40, 40, 40, 40, 40, 100]);
    assert.equal(s.frames, 100);
    assert.equal(s.p50, 16);
    assert.equal(s.p95, 40);
    assert.equal(s.max, 100);
    assert.ok(Math.abs(s.fps - (1000 * 100) / (94 * 16 + 200 + 100)) < 1e-9);
    assert.throws(() => summarize([]), /no frame/);
  });

  test("interactive: the end of the last long task before a quiet window, not before the first frame", () => {
    assert.equal(interactiveAt(300, [], 500), 300);
    // 200–900 ends after the first frame; 1000–1100 starts within 500 ms of it; 2000 starts after a quiet window.
    assert.equal(interactiveAt(300, [{ start: 200, end: 900 }, { start: 1000, end: 1100 }, { start: 2000, end: 2100 }], 500), 1100);
    assert.equal(interactiveAt(300, [{ start: 0, end: 100 }], 500), 300);
  });

  test("the synthetic graph has the asked size, distinct edges, no self-calls, every edge between known nodes, and is repeatable", () => {
    const g = syntheticGraph(1000, 3000, 1);
    assert.equal(g.nodes.length, 1000);
    assert.equal(g.edges.length, 3000);
    const ids = new Set(g.nodes.map((n) => n.id));
    assert.equal(ids.size, 1000);
    assert.equal(new Set(g.edges.map((e) => `${e.source}>${e.target}`)).size, 3000);
    assert.ok(g.edges.every((e) => e.source !== e.target && ids.has(e.source) && ids.has(e.target)));
    // Skewed like a real mesh: the shared dependencies are called by many.
    const indegree = new Map<string, number>();
    for (const e of g.edges) indegree.set(e.target, (indegree.get(e.target) ?? 0) + 1);
    assert.ok(Math.max(...indegree.values()) >= 20, `max in-degree ${Math.max(...indegree.values())}`);
    assert.deepEqual(syntheticGraph(50, 100, 9).edges.map((e) => e.id), syntheticGraph(50, 100, 9).edges.map((e) => e.id));
    assert.throws(() => syntheticGraph(3, 7), /cannot draw 7 distinct edges/);
  });
});
