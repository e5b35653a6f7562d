import { finding } from "./finding";
import { boundGateways, gatewaysServeHost, routeAppliesToMesh } from "./gateways";
import { resolveHost } from "./hosts";
import { indexMesh, ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const GATEWAY_ROUTE_HOST = "TRELLIS_GATEWAY_ROUTE_HOST";

/**
 * A Route bound to Gateways only receives requests for hosts those Gateways serve; a host
 * none of them lists never reaches the Route through a gateway. Mesh hosts of Routes that
 * also apply to sidecars are exempt. Missing Gateways are unknownGateway's concern.
 */
export const gatewayRouteHost: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  return ofKind(resources, "Route").flatMap((route) => {
    const gateways = boundGateways(route, resources);
    if (gateways.length === 0) return [];
    const names = gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`).join(", ");
    return route.spec.hosts.flatMap((host, i): Finding[] => {
      if (gatewaysServeHost(gateways, host)) return [];
      if (routeAppliesToMesh(route) && resolveHost(host, route.metadata.namespace, mesh)) return [];
      return [finding(GATEWAY_ROUTE_HOST, "warning", route, ["spec", "hosts", i], `host '${host}' at spec.hosts[${i}] is served by none of the bound Gateways (${names}); add it to a Gateway server's hosts or fix the host`)];
    });
  });
};
