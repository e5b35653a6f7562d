import { resourceKey } from "@trellis/config";
import type { SnapshotGateway, SnapshotProxy } from "@trellis/config";
import type { MeshIndex } from "./mesh-index";

/**
 * The Gateways a gateway-mode proxy runs: those whose `selector.service` names its Service
 * (in any namespace, as Istio selects gateway workloads by default), each with its listeners
 * and the Routes bound to it (`gateways: [name]` from the Gateway's namespace, or
 * `namespace/name` from elsewhere). Empty for an ordinary sidecar.
 */
export function compileGateways(index: MeshIndex, proxy: SnapshotProxy): SnapshotGateway[] {
  return index.gateways
    .filter((g) => g.spec.selector.service === proxy.service)
    .map((g) => {
      const key = `${g.metadata.namespace}/${g.metadata.name}`;
      const routes = index.routes
        .filter((r) => r.gateways.includes(key))
        .map((r) => ({ source: resourceKey(r.route), hosts: r.route.spec.hosts, http: r.snapshot.http, tcp: r.snapshot.tcp }));
      return { source: resourceKey(g), servers: g.spec.servers, routes };
    });
}
