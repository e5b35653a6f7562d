import { finding } from "./finding";
import { gatewayRef, MESH_GATEWAY } from "./gateways";
import { ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const UNKNOWN_GATEWAY = "TRELLIS_UNKNOWN_GATEWAY";

/** A Route bound to a Gateway that does not exist serves no traffic through it. */
export const unknownGateway: Analyzer = (resources) => {
  const gateways = new Set(ofKind(resources, "Gateway").map((g) => `${g.metadata.namespace}/${g.metadata.name}`));
  return ofKind(resources, "Route").flatMap((route) =>
    (route.spec.gateways ?? []).flatMap((ref, i): Finding[] => {
      if (ref === MESH_GATEWAY) return [];
      const { namespace, name } = gatewayRef(ref, route.metadata.namespace);
      if (gateways.has(`${namespace}/${name}`)) return [];
      return [finding(UNKNOWN_GATEWAY, "error", route, ["spec", "gateways", i], `spec.gateways[${i}] names Gateway ${namespace}/${name}, which does not exist; name an existing Gateway ('name' or 'namespace/name') or '${MESH_GATEWAY}' for sidecar traffic`)];
    }),
  );
};
