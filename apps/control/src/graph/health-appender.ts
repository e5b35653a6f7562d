import type { RequestSignals } from "../telemetry/live/window-query";
import type { Appender, Health, HealthThresholds } from "./types";

/**
 * Health from error rates, with Kiali's defaults: any error degrades, 10 % fails. An edge
 * from its own requests; a node from the requests into it (what its callers saw) or, for a
 * node nobody calls, the requests it made; a box from the worst of its versions.
 */
export const healthAppender: Appender = (ctx) => {
  const t = ctx.query.health;
  for (const { edge } of ctx.edgeSums.values()) edge.health = edge.traffic ? healthOf(edge.traffic, t) : "healthy";
  const boxes = new Map<string, Health>();
  for (const node of ctx.nodes.values()) {
    if (node.type === "box") continue;
    if (node.idle) node.health = "idle";
    else node.health = healthOf(node.inbound ?? node.outbound, t);
    if (node.parent) boxes.set(node.parent, worse(boxes.get(node.parent) ?? "idle", node.health));
  }
  for (const node of ctx.nodes.values()) if (node.type === "box") node.health = boxes.get(node.id) ?? "idle";
};

export function healthOf(s: RequestSignals | null, t: HealthThresholds): Health {
  if (!s || s.requests === 0 || s.errorRate === null) return "healthy";
  if (s.errorRate >= t.failure && s.errorRate > 0) return "failure";
  if (s.errorRate > t.degraded) return "degraded";
  return "healthy";
}

const RANK: Record<Health, number> = { idle: 0, healthy: 1, degraded: 2, failure: 3 };

function worse(a: Health, b: Health): Health {
  return RANK[b] > RANK[a] ? b : a;
}
