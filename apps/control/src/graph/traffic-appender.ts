import { buildHostIndex } from "@trellis/config";
import type { SeriesKey } from "../telemetry/live/series-key";
import { Sums, aggregate, requestSignals, tcpSignals } from "../telemetry/live/window-query";
import { boxId, nodeFor } from "./node-ids";
import type { NodeSeed } from "./node-ids";
import type { Appender, GraphContext, GraphEdge, GraphNode } from "./types";

/**
 * Nodes and edges from the traffic in the window. Each request is counted once, from the side
 * that saw the most: the caller's proxy (reporter=source), which also sees what never reached
 * the callee (timeouts, overflows, connect failures); the callee's report only for callers
 * without a sidecar (no source report exists). Namespace filter: an edge stays when either end
 * is in a selected namespace.
 */
export const trafficAppender: Appender = (ctx) => {
  const index = buildHostIndex(ctx.resources);
  const seeds = new Map<string, NodeSeed>();
  const routes = new Map<string, Set<string>>();
  const ns = new Set(ctx.query.namespaces);
  const edges = aggregate(ctx.window, ctx.range, (k: SeriesKey) => {
    if (k.kind === "sat") return undefined;
    if (k.reporter === "destination" && (k.srcWorkload || k.srcService)) return undefined;
    const src = nodeFor(ctx.query.kind, { namespace: k.srcNamespace, service: k.srcService, workload: k.srcWorkload, version: k.srcVersion }, index);
    const dst = nodeFor(ctx.query.kind, { namespace: k.dstNamespace, service: k.dstService, workload: k.dstWorkload, version: k.dstVersion }, index);
    if (ns.size > 0 && !ns.has(src.namespace) && !ns.has(dst.namespace)) return undefined;
    seeds.set(src.id, src);
    seeds.set(dst.id, dst);
    const protocol = k.kind;
    const id = `${src.id}>${dst.id}>${protocol}`;
    if (k.route) {
      let set = routes.get(id);
      if (!set) routes.set(id, (set = new Set()));
      set.add(k.route);
    }
    return id;
  });

  const nodeIn = new Map<string, Sums>();
  const nodeOut = new Map<string, Sums>();
  const add = (m: Map<string, Sums>, id: string, s: Sums) => {
    let t = m.get(id);
    if (!t) m.set(id, (t = new Sums()));
    t.addSums(s);
  };
  for (const [id, sums] of edges) {
    const [source, target, protocol] = id.split(">") as [string, string, GraphEdge["protocol"]];
    const isTcp = protocol === "tcp";
    const edge: GraphEdge = {
      id,
      source,
      target,
      protocol,
      traffic: isTcp ? null : requestSignals(sums, ctx.seconds),
      tcp: isTcp ? tcpSignals(sums, ctx.seconds) : null,
      health: "healthy",
      routes: [...(routes.get(id) ?? [])].sort(),
    };
    ctx.edgeSums.set(id, { edge, sums });
    if (!isTcp) {
      add(nodeOut, source, sums);
      add(nodeIn, target, sums);
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
