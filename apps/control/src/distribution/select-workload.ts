import { ROOT_NAMESPACE } from "@trellis/config";
import type { SnapshotProxy, WorkloadSelector } from "@trellis/config";

/**
 * Whether a policy (PeerAuthentication, AuthorizationPolicy, RequestAuthentication,
 * RateLimitPolicy) in `policyNamespace` applies to the proxy's workload:
 * - it lives in the proxy's namespace, or in the root namespace `trellis-system` (mesh-wide);
 * - `selector.service`, when set, names the proxy's Service;
 * - every `selector.matchLabels` entry is among the proxy's labels.
 * No selector: every workload of the namespace (of the mesh, in the root namespace).
 */
export function selectsWorkload(policyNamespace: string, selector: WorkloadSelector | undefined, proxy: SnapshotProxy): boolean {
  if (policyNamespace !== proxy.namespace && policyNamespace !== ROOT_NAMESPACE) return false;
  if (selector?.service !== undefined && selector.service !== proxy.service) return false;
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (proxy.labels[k] !== v) return false;
  return true;
}

/**
 * How specific a selecting policy is, for "the most specific wins" (PeerAuthentication):
 * 3 workload (a service or labels selector), 2 namespace, 1 mesh (root namespace, no selector).
 */
export function selectorSpecificity(policyNamespace: string, selector: WorkloadSelector | undefined, proxy: SnapshotProxy): 1 | 2 | 3 {
  const narrowed = selector?.service !== undefined || Object.keys(selector?.matchLabels ?? {}).length > 0;
  if (narrowed) return 3;
  return policyNamespace === proxy.namespace ? 2 : 1;
}
