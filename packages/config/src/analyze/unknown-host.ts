import { resolveHost, serviceRef } from "./hosts";
import { finding, p } from "./finding";
import { boundGateways, gatewaysServeHost, routeAppliesToMesh } from "./gateways";
import { routeDestinations } from "./destinations";
import { indexMesh, ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const UNKNOWN_HOST = "TRELLIS_UNKNOWN_HOST";

/**
 * Every host a Route governs (for mesh traffic) or sends to must be a Service or a
 * ServiceEntry host; otherwise its traffic has nowhere to go. Hosts of gateway-only Routes
 * are public host names, checked against the Gateway by gatewayRouteHost instead.
 */
export const unknownHost: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  return ofKind(resources, "Route").flatMap((route) => {
    const ns = route.metadata.namespace;
    const out: Finding[] = [];
    const explain = (host: string, where: string, what: string): string => {
      const ref = serviceRef(host, ns);
      const tried = ref ? `no Service ${ref.namespace}/${ref.name} and ` : "";
      return `${what} '${host}' at ${where} is unknown: ${tried}no ServiceEntry has that host; name an existing Service ('name' or 'name.namespace') or add a ServiceEntry for it`;
    };
    if (routeAppliesToMesh(route)) {
      const gateways = boundGateways(route, resources);
      route.spec.hosts.forEach((host, i) => {
        if (resolveHost(host, ns, mesh) || gatewaysServeHost(gateways, host)) return;
        out.push(finding(UNKNOWN_HOST, "error", route, ["spec", "hosts", i], explain(host, p("spec", "hosts", i), "host")));
      });
    }
    for (const { destination, path } of routeDestinations(route)) {
      if (resolveHost(destination.host, ns, mesh)) continue;
      out.push(finding(UNKNOWN_HOST, "error", route, [...path, "host"], explain(destination.host, p(...path, "host"), "destination host")));
    }
    return out;
  });
};
