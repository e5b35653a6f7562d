import assert from "node:assert/strict";
import { test } from "node:test";
import { authorize } from "@trellis/config";
import type { Graph, GraphNode } from "../graph/types";
import { suggestPolicies } from "./suggest-policies";

const node = (ns: string, service: string, type: GraphNode["type"] = "service"): GraphNode => ({ id: type === "unknown" ? "unknown" : `svc:${ns}/${service}`, type, label: service, namespace: ns, service: type === "unknown" ? undefined : service, health: "healthy", badges: [], inbound: null, outbound: null, idle: false }) as GraphNode;
const edge = (s: GraphNode, t: GraphNode, requests: number) => ({ id: `${s.id}>${t.id}>http`, source: s.id, target: t.id, protocol: "http" as const, traffic: { requests } as never, tcp: null, health: "healthy" as const, routes: [] });

test("suggested policies allow exactly the callers seen, per destination; callers without a sidecar and idle services are noted", () => {
  const ingress = node("shop", "ingress");
  const front = node("shop", "front");
  const cart = node("shop", "cart");
  const idle = node("shop", "audit");
  const other = node("ops", "probe");
  const stranger = node("", "unknown", "unknown");
  const graph = { kind: "service", from: 0, to: 60_000, buildMs: 0, nodes: [ingress, front, cart, idle, other, stranger], edges: [edge(ingress, front, 10), edge(front, cart, 5), edge(other, cart, 2), edge(stranger, front, 1), edge(cart, other, 3)] } as unknown as Graph;
  const existing = [{ kind: "AuthorizationPolicy", metadata: { name: "cart-observed", namespace: "shop" }, spec: {} }] as never;
  const s = suggestPolicies(graph, "shop", "cluster.local", existing);
  assert.deepEqual(
    s.policies.map((p) => [p.metadata.name, (p.spec as { selector: { service: string } }).selector.service, (p.spec as { rules: { from: { source: { principals: string[] } }[] }[] }).rules[0]!.from[0]!.source.principals]),
    [
      ["cart-observed-2", "cart", ["spiffe://cluster.local/ns/ops/sa/probe", "spiffe://cluster.local/ns/shop/sa/front"]],
      ["front-observed", "front", ["spiffe://cluster.local/ns/shop/sa/ingress"]],
    ],
  );
  assert.ok(s.notes.some((n) => /front was called by unknown, which has no sidecar/.test(n)), s.notes.join("; "));
  assert.ok(s.notes.some((n) => /not called in the window.*audit, ingress/.test(n)), s.notes.join("; "));
  // What they allow, as the proxy's authorize decides: front's callers get in, nobody else.
  const cartPolicy = { source: "AuthorizationPolicy/shop/cart-observed-2", action: "ALLOW" as const, rules: (s.policies[0]!.spec as unknown as { rules: never[] }).rules };
  const call = (principal: string) => authorize([cartPolicy], { method: "GET", path: "/", port: 80, headers: {}, sourcePrincipal: principal, sourceNamespace: principal.split("/")[4] });
  assert.equal(call("spiffe://cluster.local/ns/shop/sa/front").allowed, true);
  assert.equal(call("spiffe://cluster.local/ns/shop/sa/ingress").allowed, false);
});
