import { ROOT_NAMESPACE, resourceKey } from "../resource";
import type { PeerAuthentication, Resource, Service } from "../resource";
import { sortedOfKind } from "./mesh";

/**
 * Which PeerAuthentication governs a workload, decided as the snapshot compiler decides it
 * (apps/control distribution, after Istio): candidates live in the workload's namespace or
 * the root namespace, name its service if they select one, and carry all their matchLabels;
 * the most specific wins — workload (a service or labels selector) over namespace over mesh —
 * and among equals the first by resource key.
 */
export function effectivePeerAuthentication(
  resources: readonly Resource[],
  namespace: string,
  service: string,
  /** The workload's labels; undefined asks about the Service as a whole, treating label-narrowed policies as applying. */
  labels?: Record<string, string>,
): PeerAuthentication | undefined {
  let best: PeerAuthentication | undefined;
  let bestRank = 0;
  for (const pa of sortedOfKind(resources, "PeerAuthentication")) {
    const ns = pa.metadata.namespace;
    const sel = pa.spec.selector;
    if (ns !== namespace && ns !== ROOT_NAMESPACE) continue;
    if (sel?.service !== undefined && sel.service !== service) continue;
    const matchLabels = Object.entries(sel?.matchLabels ?? {});
    if (labels && !matchLabels.every(([k, v]) => labels[k] === v)) continue;
    const rank = sel?.service !== undefined || matchLabels.length > 0 ? 3 : ns === namespace ? 2 : 1;
    if (rank > bestRank) [best, bestRank] = [pa, rank];
  }
  return best;
}

/**
 * The ports of `service` on which `pa` requires mTLS (portLevel keys are workload ports), and
 * the field that makes it so: `spec.mode`, or `spec.portLevel.<port>` when only an override does.
 */
export function strictPorts(pa: PeerAuthentication, service: Service): { ports: number[]; path: (string | number)[] } {
  const ports: number[] = [];
  let path: (string | number)[] = ["spec", "mode"];
  for (const port of service.spec.ports) {
    const target = port.targetPort ?? port.port;
    const override = pa.spec.portLevel?.[String(target)];
    if ((override ?? pa.spec.mode) !== "STRICT") continue;
    ports.push(port.port);
    if (override !== undefined && pa.spec.mode !== "STRICT") path = ["spec", "portLevel", String(target)];
  }
  return { ports, path };
}

/** `PeerAuthentication/ns/name (mesh-wide)`, for messages. */
export function describePeerAuthentication(pa: PeerAuthentication): string {
  const scope = pa.spec.selector ? "" : pa.metadata.namespace === ROOT_NAMESPACE ? " (mesh-wide)" : " (namespace-wide)";
  return `${resourceKey(pa)}${scope}`;
}
