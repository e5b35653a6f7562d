import { ROOT_NAMESPACE, buildHostIndex, hostKey } from "@trellis/config";
import type { Appender, Badge } from "./types";

/**
 * Badges from the config (Kiali's VS/DR/security badges): on a service's nodes, the traffic
 * shaping its Routes do (split, fault, timeout, retry, mirror), circuit breaking from its
 * DestinationPolicy (connection pool or outlier detection), an AuthorizationPolicy that
 * selects its workloads, and a missing sidecar (declared `sidecar: false`, or live endpoints
 * none of which runs one).
 */
export const badgesAppender: Appender = (ctx) => {
  const index = buildHostIndex(ctx.resources);
  const byHost = new Map<string, Set<Badge>>();
  const badge = (key: string, b: Badge) => {
    let s = byHost.get(key);
    if (!s) byHost.set(key, (s = new Set()));
    s.add(b);
  };
  const authzNamespaces = new Set<string>();
  for (const r of ctx.resources) {
    const ns = r.metadata.namespace;
    if (r.kind === "Route") {
      for (const h of r.spec.hosts) {
        const key = hostKey(h, ns, index);
        for (const rule of r.spec.http ?? []) {
          if (rule.route.filter((d) => (d.weight ?? 100) > 0).length > 1) badge(key, "split");
          if (rule.fault) badge(key, "fault");
          if (rule.timeout) badge(key, "timeout");
          if (rule.retries && rule.retries.attempts > 0) badge(key, "retry");
          if (rule.mirror) badge(key, "mirror");
        }
        for (const rule of r.spec.tcp ?? []) if (rule.route.filter((d) => (d.weight ?? 100) > 0).length > 1) badge(key, "split");
      }
    } else if (r.kind === "DestinationPolicy") {
      if (r.spec.connectionPool || r.spec.outlierDetection) badge(hostKey(r.spec.host, ns, index), "circuit-breaker");
    } else if (r.kind === "AuthorizationPolicy") {
      if (r.spec.selector?.service) badge(`service:${ns}/${r.spec.selector.service}`, "authorization");
      else authzNamespaces.add(ns);
    } else if (r.kind === "Service" && r.spec.sidecar === false) {
      badge(`service:${ns}/${r.metadata.name}`, "missing-sidecar");
    }
  }
  const withSidecar = new Set<string>();
  const withoutSidecar = new Set<string>();
  for (const e of ctx.endpoints) (e.sidecar ? withSidecar : withoutSidecar).add(`service:${e.namespace}/${e.service}`);
  for (const key of withoutSidecar) if (!withSidecar.has(key)) badge(key, "missing-sidecar");

  for (const node of ctx.nodes.values()) {
    if (node.type === "unknown" || !node.service) continue;
    const key = node.type === "external" ? `external:${node.service}` : `service:${node.namespace}/${node.service}`;
    const set = new Set(byHost.get(key) ?? []);
    if (node.type !== "external" && (authzNamespaces.has(node.namespace) || authzNamespaces.has(ROOT_NAMESPACE))) set.add("authorization");
    node.badges = [...set].sort();
  }
};
