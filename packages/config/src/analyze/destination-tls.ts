import { resolveHost } from "./hosts";
import { finding } from "./finding";
import { indexMesh, ofKind } from "./mesh";
import { describePeerAuthentication, effectivePeerAuthentication, strictPorts } from "./peer-auth";
import type { Analyzer, Finding } from "./types";

export const ISTIO_MUTUAL_NO_SIDECAR = "TRELLIS_ISTIO_MUTUAL_NO_SIDECAR";
export const MTLS_CONFLICT = "TRELLIS_MTLS_CONFLICT";

/**
 * A DestinationPolicy's TLS mode must suit the peer: ISTIO_MUTUAL needs a sidecar (or mesh
 * workload) on the other side; DISABLE towards a service whose PeerAuthentication is STRICT
 * sends plain text that the peer refuses.
 */
export const destinationTls: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  return ofKind(resources, "DestinationPolicy").flatMap((dp): Finding[] => {
    const mode = dp.spec.tls?.mode;
    const target = resolveHost(dp.spec.host, dp.metadata.namespace, mesh);
    if (!mode || !target) return [];
    const at = ["spec", "tls", "mode"];
    if (mode === "ISTIO_MUTUAL" && target.kind === "external" && target.entry.spec.location === "MESH_EXTERNAL") {
      return [finding(ISTIO_MUTUAL_NO_SIDECAR, "error", dp, at, `spec.tls.mode is ISTIO_MUTUAL but '${dp.spec.host}' is outside the mesh (ServiceEntry ${target.entry.metadata.namespace}/${target.entry.metadata.name}) and cannot accept mesh mTLS; use SIMPLE (or MUTUAL with client certificates)`)];
    }
    if (target.kind !== "service") return [];
    const svc = `Service ${target.namespace}/${target.name}`;
    if (mode === "ISTIO_MUTUAL" && !target.service.spec.sidecar) {
      return [finding(ISTIO_MUTUAL_NO_SIDECAR, "error", dp, at, `spec.tls.mode is ISTIO_MUTUAL but ${svc} runs no sidecar and cannot accept mesh mTLS; use DISABLE (or give the service a sidecar)`)];
    }
    if (mode === "DISABLE" && target.service.spec.sidecar) {
      const pa = effectivePeerAuthentication(resources, target.namespace, target.name);
      if (pa && strictPorts(pa, target.service).ports.length > 0) {
        return [finding(MTLS_CONFLICT, "error", dp, at, `spec.tls.mode is DISABLE (plain text) but ${describePeerAuthentication(pa)} requires mTLS for ${svc}, so every call is refused; use ISTIO_MUTUAL or remove spec.tls`)];
      }
    }
    return [];
  });
};
