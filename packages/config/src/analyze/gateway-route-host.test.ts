import assert from "node:assert/strict";
import { test } from "node:test";
import { GATEWAY_ROUTE_HOST, gatewayRouteHost } from "./gateway-route-host";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo's gateway Route host is served by its Gateway", () => {
  assert.deepEqual(gatewayRouteHost(bookinfo()), []);
});

test("a host the bound Gateway does not serve is a warning", () => {
  const route = get(bookinfo(), "Route/bookinfo/bookinfo");
  route.spec.hosts.push("shop.example.com");
  const findings = gatewayRouteHost(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: GATEWAY_ROUTE_HOST, severity: "warning", resource: "Route/bookinfo/bookinfo", path: "spec.hosts[1]" }]);
  assert.match(findings[0]!.message, /none of the bound Gateways \(bookinfo\/bookinfo-gateway\)/);
});

test("wildcard server hosts serve subdomains; mesh hosts of mesh+gateway Routes are exempt", () => {
  const gw = get(bookinfo(), "Gateway/bookinfo/bookinfo-gateway");
  gw.spec.servers[0].hosts = ["*.example.com"];
  const route = get(bookinfo(), "Route/bookinfo/bookinfo");
  route.spec.hosts = ["bookinfo.example.com", "productpage"];
  route.spec.gateways = ["mesh", "bookinfo-gateway"];
  assert.deepEqual(gatewayRouteHost(withResource(withResource(bookinfo(), gw), route)), []);
});
