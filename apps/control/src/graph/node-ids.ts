import type { HostIndex } from "@trellis/config";
import { resolveHost } from "@trellis/config";
import type { GraphKind, GraphNode } from "./types";

/**
 * Which graph node a side of a series belongs to, per graph kind. A side with neither service
 * nor workload is an unknown caller; a destination that is not a mesh Service but a
 * ServiceEntry host (or has no namespace at all) is an external node; a side whose workload is
 * unknown (no sidecar answered) falls back to its service node in every kind.
 */

export interface Side {
  namespace: string;
  service: string;
  workload: string;
  version: string;
}

export type NodeSeed = Omit<GraphNode, "health" | "badges" | "inbound" | "outbound" | "idle">;

export const UNKNOWN_NODE: NodeSeed = Object.freeze({ id: "unknown", type: "unknown", label: "unknown", namespace: "" });

export function nodeFor(kind: GraphKind, side: Side, index: HostIndex): NodeSeed {
  if (!side.service && !side.workload) return UNKNOWN_NODE;
  const known = side.namespace !== "" && index.services.has(`${side.namespace}/${side.service}`);
  if (!known) {
    const host = side.namespace ? `${side.service}.${side.namespace}` : side.service;
    const resolved = resolveHost(host, side.namespace || "default", index);
    if (resolved?.kind === "external" || !side.namespace) return { id: `ext:${host}`, type: "external", label: host, namespace: "", service: host };
  }
  const service: NodeSeed = { id: `svc:${side.namespace}/${side.service}`, type: "service", label: side.service, namespace: side.namespace, service: side.service };
  if (kind === "service" || !side.workload) return service;
  if (kind === "workload") return { id: `wl:${side.namespace}/${side.workload}`, type: "workload", label: side.workload, namespace: side.namespace, service: side.service, workload: side.workload, version: side.version || "unknown" };
  const version = side.version || "unknown";
  return { id: `app:${side.namespace}/${side.service}/${version}`, type: "app", label: `${side.service} ${version}`, namespace: side.namespace, service: side.service, version, parent: boxId(side.namespace, side.service) };
}

export function boxId(namespace: string, service: string): string {
  return `box:${namespace}/${service}`;
}
