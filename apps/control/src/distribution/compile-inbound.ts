import { resourceKey } from "@trellis/config";
import type { Inbound, SnapshotProxy } from "@trellis/config";
import type { MeshIndex } from "./mesh-index";
import { selectorSpecificity, selectsWorkload } from "./select-workload";

/**
 * The inbound half of a snapshot: listeners from the proxy's Service (or, for a workload
 * whose Service is not defined, from the ports it registered with) and only the policies
 * selecting this workload (see selectsWorkload).
 */
export function compileInbound(index: MeshIndex, proxy: SnapshotProxy): Inbound {
  const target = index.targets.get(`${proxy.service}.${proxy.namespace}`);
  const service = target?.kind === "service" ? target.service : undefined;
  const listeners = service
    ? service.spec.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol }))
    : (index.endpoints.get(proxy.id)?.ports ?? []).map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: p.protocol }));

  const selects = (r: { metadata: { namespace: string }; spec: { selector?: Parameters<typeof selectsWorkload>[1] } }) =>
    selectsWorkload(r.metadata.namespace, r.spec.selector, proxy);

  // PeerAuthentication: the most specific selecting policy decides (workload > namespace > mesh);
  // among equally specific ones the first by resource key. None: PERMISSIVE, as in Istio.
  let peer: Inbound["peerAuthentication"] = { mode: "PERMISSIVE", portLevel: {}, source: null };
  let best = 0;
  for (const pa of index.peerAuthentications) {
    if (!selects(pa)) continue;
    const s = selectorSpecificity(pa.metadata.namespace, pa.spec.selector, proxy);
    if (s <= best) continue;
    best = s;
    peer = { mode: pa.spec.mode, portLevel: { ...(pa.spec.portLevel ?? {}) }, source: resourceKey(pa) };
  }

  return {
    listeners,
    peerAuthentication: peer,
    authorizationPolicies: index.authorizationPolicies.filter(selects).map((p) => ({ source: resourceKey(p), action: p.spec.action, rules: p.spec.rules })),
    jwtRules: index.requestAuthentications.filter(selects).flatMap((p) => p.spec.jwtRules.map((rule) => ({ source: resourceKey(p), rule }))),
    rateLimits: index.rateLimitPolicies.filter(selects).flatMap((p) => p.spec.limits.map((limit) => ({ source: resourceKey(p), limit }))),
  };
}
