import assert from "node:assert/strict";
import { test } from "node:test";
import { SELECTOR_UNKNOWN_SERVICE, unknownSelectorService } from "./unknown-selector-service";
import { bookinfo, brief, get, parse, withResource } from "./test-fixtures";

test("bookinfo's selectors all name existing services", () => {
  assert.deepEqual(unknownSelectorService(bookinfo()), []);
});

for (const key of ["AuthorizationPolicy/bookinfo/reviews-viewer", "RateLimitPolicy/bookinfo/ratings", "RequestAuthentication/bookinfo/productpage-jwt", "Gateway/bookinfo/bookinfo-gateway"]) {
  test(`${key.split("/")[0]} selecting a missing service is a warning on spec.selector.service`, () => {
    const r = get(bookinfo(), key);
    r.spec.selector.service = "reviewz";
    const findings = unknownSelectorService(withResource(bookinfo(), r));
    assert.deepEqual(brief(findings), [{ code: SELECTOR_UNKNOWN_SERVICE, severity: "warning", resource: key, path: "spec.selector.service" }]);
    assert.match(findings[0]!.message, /Service 'reviewz', which does not exist in/);
  });
}

test("PeerAuthentication selecting a service of another namespace does not find it", () => {
  const mesh = withResource(bookinfo(), { kind: "PeerAuthentication", metadata: { name: "reviews", namespace: "staging" }, spec: { selector: { service: "reviews" }, mode: "PERMISSIVE" } });
  assert.deepEqual(brief(unknownSelectorService(mesh)).map((f) => f.resource), ["PeerAuthentication/staging/reviews"]);
});

test("Gateways and root-namespace policies find their Service in any namespace", () => {
  const mesh = [
    ...bookinfo(),
    ...parse(
      { kind: "Gateway", metadata: { name: "public", namespace: "shop" }, spec: { selector: { service: "ingress-gateway" }, servers: [{ port: { number: 8080, name: "http", protocol: "HTTP" }, hosts: ["shop.example.com"] }] } },
      { kind: "AuthorizationPolicy", metadata: { name: "ratings", namespace: "trellis-system" }, spec: { selector: { service: "ratings" }, rules: [{}] } },
    ),
  ];
  assert.deepEqual(unknownSelectorService(mesh), []);
});
