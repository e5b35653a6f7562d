import type { Appender, GraphNode } from "./types";
import { ensureBox } from "./traffic-appender";

/**
 * Adds what the config and the registry know but the window saw no traffic for (Kiali's dead
 * nodes, kept rather than removed): every Service, and per workload or version the live
 * endpoints, in the selected namespaces. Off with `includeIdle: false`.
 */
export const idleAppender: Appender = (ctx) => {
  if (!ctx.query.includeIdle) return;
  const ns = new Set(ctx.query.namespaces);
  const wanted = (n: string) => ns.size === 0 || ns.has(n);
  const addIdle = (node: Omit<GraphNode, "health" | "badges" | "inbound" | "outbound" | "idle">) => {
    if (ctx.nodes.has(node.id)) return;
    ctx.nodes.set(node.id, { ...node, health: "idle", badges: [], inbound: null, outbound: null, idle: true });
    if (node.parent) ensureBox(ctx, node);
  };
  const kind = ctx.query.kind;
  if (kind === "service") {
    for (const r of ctx.resources) {
      if (r.kind !== "Service" || !wanted(r.metadata.namespace)) continue;
      addIdle({ id: `svc:${r.metadata.namespace}/${r.metadata.name}`, type: "service", label: r.metadata.name, namespace: r.metadata.namespace, service: r.metadata.name });
    }
    return;
  }
  for (const e of ctx.endpoints) {
    if (!wanted(e.namespace)) continue;
    const version = e.labels["version"] ?? "unknown";
    if (kind === "workload") addIdle({ id: `wl:${e.namespace}/${e.workload}`, type: "workload", label: e.workload, namespace: e.namespace, service: e.service, workload: e.workload, version });
    else addIdle({ id: `app:${e.namespace}/${e.service}/${version}`, type: "app", label: `${e.service} ${version}`, namespace: e.namespace, service: e.service, version, parent: `box:${e.namespace}/${e.service}` });
  }
};
