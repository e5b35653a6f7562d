import type { Gateway, Resource, Route } from "../resource";
import { ofKind } from "./mesh";

/** The reserved gateway name that binds a Route to sidecar (mesh) traffic. */
export const MESH_GATEWAY = "mesh";

/** Whether a Route applies to sidecar traffic: no gateways listed, or `mesh` among them. */
export function routeAppliesToMesh(route: Route): boolean {
  return route.spec.gateways === undefined || route.spec.gateways.includes(MESH_GATEWAY);
}

/** Splits a Route's gateway reference (`name` or `namespace/name`) written in `fromNamespace`. */
export function gatewayRef(ref: string, fromNamespace: string): { namespace: string; name: string } {
  const slash = ref.indexOf("/");
  return slash < 0 ? { namespace: fromNamespace, name: ref } : { namespace: ref.slice(0, slash), name: ref.slice(slash + 1) };
}

/** The Gateways a Route binds to that exist (unknown ones are reported by unknownGateway). */
export function boundGateways(route: Route, resources: readonly Resource[]): Gateway[] {
  const refs = (route.spec.gateways ?? []).filter((g) => g !== MESH_GATEWAY).map((g) => gatewayRef(g, route.metadata.namespace));
  // Most routes bind to no gateway: skip the scan of every resource (analyze runs it per route).
  if (refs.length === 0) return [];
  return ofKind(resources, "Gateway").filter((gw) => refs.some((r) => r.namespace === gw.metadata.namespace && r.name === gw.metadata.name));
}

/** Whether a gateway server host (`shop.example.com`, `*.example.com`, `*`) accepts `host`. */
export function gatewayHostMatches(serverHost: string, host: string): boolean {
  if (serverHost === "*" || serverHost === host) return true;
  if (!serverHost.startsWith("*.")) return false;
  const bare = host.startsWith("*.") ? host.slice(1) : host;
  return bare.length > serverHost.length - 1 && bare.endsWith(serverHost.slice(1));
}

/** Whether any server of these gateways accepts `host`. */
export function gatewaysServeHost(gateways: readonly Gateway[], host: string): boolean {
  return gateways.some((gw) => gw.spec.servers.some((s) => s.hosts.some((h) => gatewayHostMatches(h, host))));
}
