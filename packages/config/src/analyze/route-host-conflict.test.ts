import assert from "node:assert/strict";
import { test } from "node:test";
import { ROUTE_HOST_CONFLICT, routeHostConflict } from "./route-host-conflict";
import { bookinfo, brief, withResource } from "./test-fixtures";

const reviewsV3 = {
  kind: "Route",
  metadata: { name: "reviews-v3", namespace: "bookinfo" },
  spec: { hosts: ["ratings", "reviews.bookinfo"], http: [{ route: [{ destination: { host: "reviews", subset: "v3" } }] }] },
};

test("bookinfo routes each host once", () => {
  assert.deepEqual(routeHostConflict(bookinfo()), []);
});

test("a second Route claiming ratings and reviews (as reviews.bookinfo) is a warning per host on the later Route", () => {
  const findings = routeHostConflict(withResource(bookinfo(), reviewsV3));
  assert.deepEqual(brief(findings), [
    { code: ROUTE_HOST_CONFLICT, severity: "warning", resource: "Route/bookinfo/reviews-v3", path: "spec.hosts[0]" },
    { code: ROUTE_HOST_CONFLICT, severity: "warning", resource: "Route/bookinfo/reviews-v3", path: "spec.hosts[1]" },
  ]);
  assert.match(findings[1]!.message, /already routed for mesh traffic by Route\/bookinfo\/reviews;/);
});

test("Routes in other namespaces, or bound only to a gateway, do not conflict", () => {
  const elsewhere = { ...reviewsV3, metadata: { name: "reviews-v3", namespace: "staging" } };
  assert.deepEqual(routeHostConflict(withResource(bookinfo(), elsewhere)), []);
  const gatewayOnly = { ...reviewsV3, spec: { ...reviewsV3.spec, gateways: ["bookinfo-gateway"] } };
  assert.deepEqual(routeHostConflict(withResource(bookinfo(), gatewayOnly)), []);
});
