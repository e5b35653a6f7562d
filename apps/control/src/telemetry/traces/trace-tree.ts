import { isoMicros, MAX_TRACE_SPANS } from "./span-store";
import { SPAN_KINDS } from "./span-row";
import type { AttributeValue, SpanEvent, SpanRow } from "./span-row";

/**
 * One trace as a tree for the waterfall: spans nested under their parents, children in
 * start order. A span whose parent was not received (dropped by a full exporter queue, sent
 * to another collector, or still in flight) is an orphan and sits at the top level next to
 * the root, so nothing that arrived is hidden.
 */

export interface SpanNode {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  namespace: string | null;
  /** `service.instance.id`: the workload. */
  instance: string | null;
  operation: string;
  kind: (typeof SPAN_KINDS)[number];
  /** ISO start, to the microsecond. */
  start: string;
  /** Start relative to the trace's first span, in ms (for drawing). */
  offsetMs: number;
  durationMs: number;
  error: boolean;
  statusMessage: string | null;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
  events: SpanEvent[];
  /** Whether its parent is missing from the trace (it is then at the top level). */
  orphan: boolean;
  children: SpanNode[];
}

export interface TraceTree {
  traceId: string;
  start: string;
  durationMs: number;
  spanCount: number;
  services: string[];
  error: boolean;
  /** More than MAX_TRACE_SPANS spans were stored; the latest-starting ones are left out. */
  truncated: boolean;
  /** Root spans, then orphans, by start. */
  roots: SpanNode[];
}

/** Builds the tree of `spans` (all of one trace, any order); undefined when there are none. */
export function buildTraceTree(traceId: string, spans: readonly SpanRow[]): TraceTree | undefined {
  if (spans.length === 0) return undefined;
  const truncated = spans.length > MAX_TRACE_SPANS;
  const kept = [...spans].sort((a, b) => a.startUs - b.startUs || (a.spanId < b.spanId ? -1 : 1)).slice(0, MAX_TRACE_SPANS);
  const startUs = kept[0]!.startUs;
  let endUs = startUs;
  const nodes = new Map<string, SpanNode>();
  for (const s of kept) {
    endUs = Math.max(endUs, s.startUs + s.durationMs * 1000);
    // A repeated span id (a misbehaving sender) keeps its first copy.
    if (nodes.has(s.spanId)) continue;
    nodes.set(s.spanId, {
      spanId: s.spanId,
      parentSpanId: s.parentSpanId,
      service: s.service,
      namespace: s.namespace,
      instance: s.instance,
      operation: s.name,
      kind: SPAN_KINDS[s.kind] ?? "unspecified",
      start: isoMicros(s.startUs),
      offsetMs: (s.startUs - startUs) / 1000,
      durationMs: s.durationMs,
      error: s.error,
      statusMessage: s.statusMessage,
      attributes: s.attributes,
      resource: s.resource,
      events: s.events ?? [],
      orphan: false,
      children: [],
    });
  }
  const roots: SpanNode[] = [];
  const orphans: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentSpanId === null ? undefined : nodes.get(node.parentSpanId);
    // A span listed as its own ancestor would loop; treat the link as missing.
    if (parent && parent !== node && !isAncestor(node, parent, nodes)) parent.children.push(node);
    else if (node.parentSpanId === null) roots.push(node);
    else {
      node.orphan = true;
      orphans.push(node);
    }
  }
  return {
    traceId,
    start: isoMicros(startUs),
    durationMs: Math.round(endUs - startUs) / 1000,
    spanCount: nodes.size,
    services: [...new Set(kept.map((s) => s.service))].sort(),
    error: kept.some((s) => s.error),
    truncated,
    roots: [...roots, ...orphans],
  };
}

/** Whether `node` is already above `candidate` (so attaching would make a cycle). */
function isAncestor(node: SpanNode, candidate: SpanNode, nodes: Map<string, SpanNode>): boolean {
  let p: SpanNode | undefined = candidate;
  for (let hops = 0; p && hops <= nodes.size; hops++) {
    if (p === node) return true;
    p = p.parentSpanId === null ? undefined : nodes.get(p.parentSpanId);
  }
  return false;
}
