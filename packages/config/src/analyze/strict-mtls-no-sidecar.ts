import type { PeerAuthentication, Service } from "../resource";
import { finding } from "./finding";
import { indexMesh, listNames, ofKind } from "./mesh";
import { describePeerAuthentication, effectivePeerAuthentication, strictPorts } from "./peer-auth";
import type { Analyzer, Finding } from "./types";

export const STRICT_MTLS_NO_SIDECAR = "TRELLIS_STRICT_MTLS_NO_SIDECAR";

/**
 * STRICT mTLS towards workloads with no sidecar: nothing on their side can terminate mesh
 * mTLS, so every call to them fails. Reported on the PeerAuthentication that makes it STRICT
 * (the one that actually governs, after more specific policies are taken into account).
 */
export const strictMtlsNoSidecar: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  const out: Finding[] = [];
  const reported = new Set<string>();
  const report = (pa: PeerAuthentication, service: Service, who: string, target: string) => {
    const { ports, path } = strictPorts(pa, service);
    const key = `${describePeerAuthentication(pa)} ${service.metadata.namespace}/${service.metadata.name}`;
    if (ports.length === 0 || reported.has(key)) return;
    reported.add(key);
    const ns = service.metadata.namespace;
    const fix = `add a PERMISSIVE PeerAuthentication in ${ns} selecting ${target}, or run a sidecar there`;
    out.push(finding(STRICT_MTLS_NO_SIDECAR, "error", pa, path, `${describePeerAuthentication(pa)} requires mTLS on port ${ports.join(", ")} of ${who}, which has no sidecar and cannot accept mesh mTLS; ${fix}`));
  };
  for (const svc of ofKind(resources, "Service")) {
    if (svc.spec.sidecar) continue;
    const pa = effectivePeerAuthentication(resources, svc.metadata.namespace, svc.metadata.name);
    if (pa) report(pa, svc, `Service ${svc.metadata.namespace}/${svc.metadata.name}`, `service ${svc.metadata.name}`);
  }
  const byPolicy = new Map<string, { pa: PeerAuthentication; svc: Service; names: string[] }>();
  for (const w of ofKind(resources, "Workload")) {
    const svc = mesh.service(w.metadata.namespace, w.spec.service);
    if (w.spec.sidecar || !svc) continue;
    const pa = effectivePeerAuthentication(resources, w.metadata.namespace, w.spec.service, w.spec.labels);
    if (!pa) continue;
    const key = `${describePeerAuthentication(pa)} ${w.metadata.namespace}/${w.spec.service}`;
    const group = byPolicy.get(key) ?? { pa, svc, names: [] };
    group.names.push(w.metadata.name);
    byPolicy.set(key, group);
  }
  for (const { pa, svc, names } of byPolicy.values()) {
    const who = `Workload${names.length > 1 ? "s" : ""} ${listNames(names)} of Service ${svc.metadata.namespace}/${svc.metadata.name}`;
    report(pa, svc, who, `${names.length > 1 ? "these workloads" : "this workload"} (service ${svc.metadata.name} and matchLabels only ${names.length > 1 ? "they carry" : "it carries"})`);
  }
  return out;
};
