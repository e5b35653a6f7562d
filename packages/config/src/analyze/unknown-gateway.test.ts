import assert from "node:assert/strict";
import { test } from "node:test";
import { UNKNOWN_GATEWAY, unknownGateway } from "./unknown-gateway";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo binds to its existing gateway", () => {
  assert.deepEqual(unknownGateway(bookinfo()), []);
});

test("'mesh' and namespace/name references are understood", () => {
  const route = get(bookinfo(), "Route/bookinfo/bookinfo");
  route.metadata.namespace = "frontend";
  route.spec.gateways = ["mesh", "bookinfo/bookinfo-gateway"];
  assert.deepEqual(unknownGateway(withResource(bookinfo(), route)), []);
});

test("a Route bound to a missing Gateway is an error on that entry", () => {
  const route = get(bookinfo(), "Route/bookinfo/bookinfo");
  route.spec.gateways = ["bookinfo-gateway", "istio-system/ingressgateway"];
  const findings = unknownGateway(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: UNKNOWN_GATEWAY, severity: "error", resource: "Route/bookinfo/bookinfo", path: "spec.gateways[1]" }]);
  assert.match(findings[0]!.message, /Gateway istio-system\/ingressgateway, which does not exist/);
});
