import { ROOT_NAMESPACE, resourceKey } from "../resource";
import type { PeerAuthentication, Resource, Service } from "../resource";
import { sortedOfKind } from "./mesh";

/**
 * Which PeerAuthentication governs a workload, as Istio decides it: the most specific wins —
 * one selecting the workload's service (and labels), else the namespace-wide one, else the
 * mesh-wide one in the root namespace. Ties go to the first by resource key.
 */
export function effectivePeerAuthentication(
  resources: readonly Resource[],
  namespace: string,
  service: string,
  /** The workload's labels; undefined asks about the whole Service, so label-narrowed policies are ignored. */
  labels?: Record<string, string>,
): PeerAuthentication | undefined {
  const all = sortedOfKind(resources, "PeerAuthentication");
  const inNs = all.filter((pa) => pa.metadata.namespace === namespace);
  const selects = (pa: PeerAuthentication): boolean => {
    const sel = pa.spec.selector;
    if (!sel || (sel.service === undefined && sel.matchLabels === undefined)) return false;
    if (sel.service !== undefined && sel.service !== service) return false;
    if (sel.matchLabels === undefined) return true;
    return labels !== undefined && Object.entries(sel.matchLabels).every(([k, v]) => labels[k] === v);
  };
  const wide = (pa: PeerAuthentication) => !pa.spec.selector || (pa.spec.selector.service === undefined && pa.spec.selector.matchLabels === undefined);
  return (
    inNs.find((pa) => selects(pa) && pa.spec.selector?.matchLabels !== undefined) ??
    inNs.find(selects) ??
    inNs.find(wide) ??
    all.find((pa) => pa.metadata.namespace === ROOT_NAMESPACE && wide(pa))
  );
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

/** `PeerAuthentication ns/name (mesh-wide)`, for messages. */
export function describePeerAuthentication(pa: PeerAuthentication): string {
  const scope = pa.spec.selector ? "" : pa.metadata.namespace === ROOT_NAMESPACE ? " (mesh-wide)" : " (namespace-wide)";
  return `${resourceKey(pa)}${scope}`;
}
