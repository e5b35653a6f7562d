import { authorize, parseSpiffeId } from "@trellis/config";
import type { AuthzPolicy } from "@trellis/config";
import { AccessDeniedError } from "../core/errors";
import type { Layer } from "../core/types";

/**
 * Inbound authorization: the AuthorizationPolicies selecting this workload, evaluated per
 * request with Istio's semantics by the shared engine (@trellis/config authorize, which the
 * dashboard's what-if also runs). A denial is a 403 `RBAC: access denied` whose access-log line
 * names the deciding policy; the caller learns nothing of the rules. AUDIT matches are noted
 * on the context for the access log.
 *
 * The source principal and namespace are the peer certificate's (`ctx.peerPrincipal`, set on
 * mTLS connections); a plaintext request has none, so rules on principals or namespaces never
 * allow it.
 */
export function authorizationLayer(policies: readonly AuthzPolicy[]): Layer {
  if (policies.length === 0) return (next) => next;
  return (next) => (req, ctx, signal) => {
    const q = req.path.indexOf("?");
    const principal = ctx.peerPrincipal;
    const decision = authorize(policies, {
      method: req.method,
      path: q === -1 ? req.path : req.path.slice(0, q),
      port: ctx.target?.port ?? 0,
      headers: req.headers,
      sourcePrincipal: principal,
      sourceNamespace: principal ? parseSpiffeId(principal)?.namespace : undefined,
      sourceIp: hostOf(ctx.downstreamAddress),
      requestPrincipal: ctx.requestPrincipal,
      claims: ctx.claims,
    });
    if (decision.audited.length > 0) ctx.audited = decision.audited;
    if (!decision.allowed) return Promise.reject(new AccessDeniedError(decision.policy));
    return next(req, ctx, signal);
  };
}

/** The IP of `ip:port` / `[v6]:port`. */
export function hostOf(address: string): string {
  if (address.startsWith("[")) return address.slice(1, address.indexOf("]"));
  const colon = address.lastIndexOf(":");
  return colon > 0 && address.indexOf(":") === colon ? address.slice(0, colon) : address;
}
