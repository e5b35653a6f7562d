import { finding, p } from "./finding";
import { routeDestinations } from "./destinations";
import { resolveHost } from "./hosts";
import { indexMesh, ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const UNKNOWN_PORT = "TRELLIS_UNKNOWN_PORT";
export const PORT_REQUIRED = "TRELLIS_PORT_REQUIRED";

/**
 * A destination port must be one the host exposes (Service ports, ServiceEntry ports). When
 * the host exposes several and the destination names none, the choice is left to the
 * listener the request came in on, which is rarely what a gateway or mirror means: a warning.
 */
export const destinationPort: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  return ofKind(resources, "Route").flatMap((route) =>
    routeDestinations(route).flatMap(({ destination, path }): Finding[] => {
      const target = resolveHost(destination.host, route.metadata.namespace, mesh);
      if (!target) return [];
      const ports = target.kind === "service" ? target.service.spec.ports.map((x) => x.port) : target.entry.spec.ports.map((x) => x.number);
      const list = ports.join(", ");
      if (destination.port !== undefined && !ports.includes(destination.port)) {
        const at = [...path, "port"];
        return [finding(UNKNOWN_PORT, "error", route, at, `${p(...at)} is ${destination.port}, but '${destination.host}' exposes only ${list}; use one of those`)];
      }
      if (destination.port === undefined && ports.length > 1) {
        return [finding(PORT_REQUIRED, "warning", route, path, `${p(...path)} names no port, and '${destination.host}' exposes several (${list}); set port`)];
      }
      return [];
    }),
  );
};
