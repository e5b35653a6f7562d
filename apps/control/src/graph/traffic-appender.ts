import { buildHostIndex } from "@trellis/config";
import type { HostIndex, Resource } from "@trellis/config";
import type { SeriesKey } from "../telemetry/live/series-key";
import { SumsArena, aggregate, requestSignals, tcpSignals } from "../telemetry/live/window-query";
import type { Sums } from "../telemetry/live/window-query";
import { boxId, nodeFor } from "./node-ids";
import type { NodeSeed } from "./node-ids";
import type { Appender, GraphContext, GraphEdge, GraphNode } from "./types";

/** Where one series lands in a graph: its edge and both ends, or nowhere (null). */
interface Placement {
  edgeId: string;
  source: NodeSeed;
  target: NodeSeed;
  protocol: GraphEdge["protocol"];
  route: string;
}

/**
 * Placements by series key, per config (the resources array of a revision: the store hands
 * out the same array until the head moves) and per kind and namespace filter. A key object
 * lives as long as its series, so the per-second builds of a live graph place each series once
 * instead of on every build; a new revision starts afresh and the old one's entries are
 * collected with it.
 */
const placements = new WeakMap<readonly Resource[], Map<string, WeakMap<SeriesKey, Placement | null>>>();

function placementsFor(ctx: GraphContext): WeakMap<SeriesKey, Placement | null> {
  let byQuery = placements.get(ctx.resources);
  if (!byQuery) placements.set(ctx.resources, (byQuery = new Map()));
  const q = `${ctx.query.kind}|${ctx.query.namespaces.join(",")}`;
  let m = byQuery.get(q);
  if (!m) byQuery.set(q, (m = new WeakMap()));
  return m;
}

function place(ctx: GraphContext, index: HostIndex, ns: ReadonlySet<string>, k: SeriesKey): Placement | null {
  if (k.kind === "sat") return null;
  if (k.reporter === "destination" && (k.srcWorkload || k.srcService)) return null;
  const source = nodeFor(ctx.query.kind, { namespace: k.srcNamespace, service: k.srcService, workload: k.srcWorkload, version: k.srcVersion }, index);
  const target = nodeFor(ctx.query.kind, { namespace: k.dstNamespace, service: k.dstService, workload: k.dstWorkload, version: k.dstVersion }, index);
  if (ns.size > 0 && !ns.has(source.namespace) && !ns.has(target.namespace)) return null;
  return { edgeId: `${source.id}>${target.id}>${k.kind}`, source, target, protocol: k.kind, route: k.route };
}

/**
 * Nodes and edges from the traffic in the window. Each request is counted once, from the side
 * that saw the most: the caller's proxy (reporter=source), which also sees what never reached
 * the callee (timeouts, overflows, connect failures); the callee's report only for callers
 * without a sidecar (no source report exists). Namespace filter: an edge stays when either end
 * is in a selected namespace.
 */
export const trafficAppender: Appender = (ctx) => {
  const cache = placementsFor(ctx);
  let index: HostIndex | undefined;
  const ns = new Set(ctx.query.namespaces);
  const byEdge = new Map<string, { first: Placement; routes: Set<string> }>();
  const edges = aggregate(ctx.window, ctx.range, (k: SeriesKey) => {
    let p = cache.get(k);
    if (p === undefined) cache.set(k, (p = place(ctx, (index ??= buildHostIndex(ctx.resources)), ns, k)));
    if (p === null) return undefined;
    let e = byEdge.get(p.edgeId);
    if (!e) byEdge.set(p.edgeId, (e = { first: p, routes: new Set() }));
    if (p.route) e.routes.add(p.route);
    return p.edgeId;
  });

  const nodeIn = new Map<string, Sums>();
  const nodeOut = new Map<string, Sums>();
  const arena = new SumsArena();
  const add = (m: Map<string, Sums>, id: string, s: Sums) => {
    let t = m.get(id);
    if (!t) m.set(id, (t = arena.next()));
    t.addSums(s);
  };
  const seeds = new Map<string, NodeSeed>();
  for (const [id, sums] of edges) {
    const { first, routes } = byEdge.get(id)!;
    const { source, target, protocol } = first;
    seeds.set(source.id, source);
    seeds.set(target.id, target);
    const isTcp = protocol === "tcp";
    const edge: GraphEdge = {
      id,
      source: source.id,
      target: target.id,
      protocol,
      traffic: isTcp ? null : requestSignals(sums, ctx.seconds),
      tcp: isTcp ? tcpSignals(sums, ctx.seconds) : null,
      health: "healthy",
      routes: routes.size > 0 ? [...routes].sort() : [],
    };
    ctx.edgeSums.set(id, { edge, sums });
    if (!isTcp) {
      add(nodeOut, source.id, sums);
      add(nodeIn, target.id, sums);
    }
  }
  for (const seed of seeds.values()) {
    ctx.nodes.set(seed.id, {
      ...seed,
      health: "healthy",
      badges: [],
      inbound: nodeIn.has(seed.id) ? requestSignals(nodeIn.get(seed.id)!, ctx.seconds) : null,
      outbound: nodeOut.has(seed.id) ? requestSignals(nodeOut.get(seed.id)!, ctx.seconds) : null,
      idle: false,
    });
    if (seed.parent) ensureBox(ctx, seed);
  }
};

/** The compound node that groups an app's versions. */
export function ensureBox(ctx: GraphContext, seed: NodeSeed | GraphNode): void {
  const id = boxId(seed.namespace, seed.service ?? "");
  if (ctx.nodes.has(id)) return;
  ctx.nodes.set(id, { id, type: "box", label: seed.service ?? "", namespace: seed.namespace, service: seed.service ?? "", health: "healthy", badges: [], inbound: null, outbound: null, idle: false });
}
