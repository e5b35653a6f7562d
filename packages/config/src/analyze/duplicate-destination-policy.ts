import { resourceKey } from "../resource";
import { hostKey } from "./hosts";
import { finding } from "./finding";
import { indexMesh, sortedOfKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const DUPLICATE_DESTINATION_POLICY = "TRELLIS_DUPLICATE_DESTINATION_POLICY";

/**
 * One host, one DestinationPolicy: with two, subsets, load balancing and TLS would depend on
 * which one a proxy happened to pick. `reviews` and `reviews.default` are the same host.
 * The policy later in resource-key order gets the finding, so it is stable.
 */
export const duplicateDestinationPolicy: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  const first = new Map<string, string>();
  const out: Finding[] = [];
  for (const dp of sortedOfKind(resources, "DestinationPolicy")) {
    const key = hostKey(dp.spec.host, dp.metadata.namespace, mesh);
    const other = first.get(key);
    if (other === undefined) {
      first.set(key, resourceKey(dp));
      continue;
    }
    out.push(
      finding(DUPLICATE_DESTINATION_POLICY, "error", dp, ["spec", "host"],
        `host '${dp.spec.host}' at spec.host already has a DestinationPolicy (${other}); merge the two into one policy or delete this one`),
    );
  }
  return out;
};
