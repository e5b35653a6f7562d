/**
 * SPIFFE IDs of mesh workloads: `spiffe://<trust-domain>/ns/<namespace>/sa/<service>` (Istio's
 * form; Trellis uses the Service name as the service account). Shared by the CA that writes
 * them into certificates and the proxies that check them on every handshake.
 */

export interface SpiffeIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** Trust domains are DNS-like names: lower-case letters, digits, dots, dashes and underscores. */
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
/** Namespace and service-account segments: DNS labels (what Namespace and Service names are). */
const SEGMENT = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class SpiffeIdError extends Error {
  readonly code = "TRELLIS_BAD_SPIFFE_ID";
}

/** The SPIFFE ID of a workload; throws SpiffeIdError naming the bad part. */
export function spiffeId(id: SpiffeIdentity): string {
  if (!TRUST_DOMAIN.test(id.trustDomain)) throw new SpiffeIdError(`trust domain '${id.trustDomain}' must be lower-case letters, digits, '.', '-' or '_'`);
  if (!SEGMENT.test(id.namespace)) throw new SpiffeIdError(`namespace '${id.namespace}' is not a DNS label`);
  if (!SEGMENT.test(id.serviceAccount)) throw new SpiffeIdError(`service account '${id.serviceAccount}' is not a DNS label`);
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** Parses a workload SPIFFE ID of the mesh's form; undefined for anything else. */
export function parseSpiffeId(uri: string): SpiffeIdentity | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m || !TRUST_DOMAIN.test(m[1]!) || !SEGMENT.test(m[2]!) || !SEGMENT.test(m[3]!)) return undefined;
  return { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! };
}

/**
 * The control plane's own identity (namespace and service account): proxies recognise the
 * control plane by it, so the CA issues it only to the control plane itself.
 */
export const CONTROL_PLANE_IDENTITY = { namespace: "trellis-system", service: "trellis-control" } as const;

export function isControlPlaneIdentity(namespace: string, service: string): boolean {
  return namespace === CONTROL_PLANE_IDENTITY.namespace && service === CONTROL_PLANE_IDENTITY.service;
}

/** The mesh SPIFFE IDs among the URI names of a certificate's subjectAltName text (`URI:spiffe://…, DNS:…`, as Node prints it). */
export function spiffeIdsOfSan(subjectAltName: string | undefined): SpiffeIdentity[] {
  return (subjectAltName ?? "")
    .split(", ")
    .filter((s) => s.startsWith("URI:"))
    .flatMap((s) => parseSpiffeId(s.slice(4)) ?? []);
}
