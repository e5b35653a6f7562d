import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SpanRow } from "./span-row";
import { buildTraceTree } from "./trace-tree";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const T0 = 1_763_744_400_000_000;

function row(spanId: string, parentSpanId: string | null, startOffsetUs: number, durationMs: number, extra: Partial<SpanRow> = {}): SpanRow {
  return { traceId: TRACE, spanId, parentSpanId, service: "svc", namespace: "default", instance: null, name: `op-${spanId}`, kind: 2, startUs: T0 + startOffsetUs, durationMs, error: false, statusMessage: null, attributes: {}, resource: {}, events: null, ...extra };
}

/** `id(child id(grandchild))` for compact assertions. */
const shape = (nodes: { spanId: string; children: unknown[] }[]): string => nodes.map((n) => (n.children.length ? `${n.spanId}(${shape(n.children as never)})` : n.spanId)).join(" ");

describe("buildTraceTree", () => {
  test("nests spans under their parents, children by start, with offsets and the trace's extent", () => {
    const tree = buildTraceTree(TRACE, [row("c2", "b", 3_000, 1), row("a", null, 0, 10), row("b", "a", 1_000, 8, { service: "reviews", error: true }), row("c1", "b", 2_000, 0.5)])!;
    assert.equal(shape(tree.roots), "a(b(c1 c2))");
    assert.equal(tree.spanCount, 4);
    assert.equal(tree.durationMs, 10);
    assert.deepEqual(tree.services, ["reviews", "svc"]);
    assert.equal(tree.error, true);
    assert.equal(tree.start, "2025-11-21T17:00:00.000000Z");
    const b = tree.roots[0]!.children[0]!;
    assert.equal(b.offsetMs, 1);
    assert.equal(b.kind, "server");
    assert.equal(b.orphan, false);
  });

  test("a span whose parent never arrived is an orphan at the top level, after the roots", () => {
    const tree = buildTraceTree(TRACE, [row("x", "missing", 500, 1), row("a", null, 0, 10), row("y", "x", 600, 0.1)])!;
    assert.equal(shape(tree.roots), "a x(y)");
    assert.equal(tree.roots[1]!.orphan, true);
  });

  test("a cycle of parent links does not loop or lose spans", () => {
    const tree = buildTraceTree(TRACE, [row("p", "q", 0, 1), row("q", "p", 1, 1)])!;
    assert.equal(tree.spanCount, 2);
    assert.equal(shape(tree.roots), "p q");
  });

  test("no spans, no tree", () => {
    assert.equal(buildTraceTree(TRACE, []), undefined);
  });
});
