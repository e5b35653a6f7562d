import { resourceKey } from "../resource";
import { finding } from "./finding";
import { routeAppliesToMesh } from "./gateways";
import { hostKey } from "./hosts";
import { indexMesh, sortedOfKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const ROUTE_HOST_CONFLICT = "TRELLIS_ROUTE_HOST_CONFLICT";

/**
 * Two Routes of one namespace claiming the same host for mesh traffic: only one set of rules
 * can apply, and which one would depend on load order. The later Route by key is reported.
 */
export const routeHostConflict: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  const claimed = new Map<string, string>();
  const out: Finding[] = [];
  for (const route of sortedOfKind(resources, "Route").filter(routeAppliesToMesh)) {
    const ns = route.metadata.namespace;
    const seen = new Set<string>();
    route.spec.hosts.forEach((host, i) => {
      const key = `${ns} ${hostKey(host, ns, mesh)}`;
      if (seen.has(key)) return;
      seen.add(key);
      const other = claimed.get(key);
      if (other === undefined) return void claimed.set(key, resourceKey(route));
      out.push(finding(ROUTE_HOST_CONFLICT, "warning", route, ["spec", "hosts", i], `host '${host}' at spec.hosts[${i}] is already routed for mesh traffic by ${other}; merge the rules into one Route so their order is explicit`));
    });
  }
  return out;
};
