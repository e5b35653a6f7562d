import assert from "node:assert/strict";
import { test } from "node:test";
import { AUTHZ_NO_REQUEST_AUTH, authzRequestAuth } from "./authz-request-auth";
import { bookinfo, brief, get, parse, withResource } from "./test-fixtures";

test("bookinfo: the JWT claim condition on productpage is covered by its RequestAuthentication", () => {
  assert.deepEqual(authzRequestAuth(bookinfo()), []);
});

test("a request.auth condition on a service no RequestAuthentication covers is a warning on the key", () => {
  const policy = get(bookinfo(), "AuthorizationPolicy/bookinfo/reviews-viewer");
  policy.spec.rules[0].when = [{ key: "request.auth.claims[groups]", values: ["admins"] }];
  const findings = authzRequestAuth(withResource(bookinfo(), policy));
  assert.deepEqual(brief(findings), [{ code: AUTHZ_NO_REQUEST_AUTH, severity: "warning", resource: "AuthorizationPolicy/bookinfo/reviews-viewer", path: "spec.rules[0].when[0].key" }]);
  assert.match(findings[0]!.message, /add a RequestAuthentication for service reviews in bookinfo/);
});

test("requestPrincipals need a RequestAuthentication too", () => {
  const policy = get(bookinfo(), "AuthorizationPolicy/bookinfo/reviews-viewer");
  policy.spec.rules[0].from[0].source.requestPrincipals = ["https://auth.example.com/*"];
  assert.deepEqual(brief(authzRequestAuth(withResource(bookinfo(), policy))).map((f) => f.path), ["spec.rules[0].from[0].source.requestPrincipals"]);
});

test("without the RequestAuthentication, bookinfo's productpage policy is flagged", () => {
  const mesh = bookinfo().filter((r) => r.kind !== "RequestAuthentication");
  assert.deepEqual(brief(authzRequestAuth(mesh)), [{ code: AUTHZ_NO_REQUEST_AUTH, severity: "warning", resource: "AuthorizationPolicy/bookinfo/productpage-jwt", path: "spec.rules[0].when[0].key" }]);
});

test("a mesh-wide RequestAuthentication covers everything", () => {
  const mesh = [
    ...bookinfo().filter((r) => r.kind !== "RequestAuthentication"),
    ...parse({ kind: "RequestAuthentication", metadata: { name: "mesh", namespace: "trellis-system" }, spec: { jwtRules: [{ issuer: "https://auth.example.com", jwks: "{}" }] } }),
  ];
  assert.deepEqual(authzRequestAuth(mesh), []);
});

test("a root-namespace RequestAuthentication for the service covers it in every namespace; another service's does not", () => {
  const policy = get(bookinfo(), "AuthorizationPolicy/bookinfo/reviews-viewer");
  policy.spec.rules[0].when = [{ key: "request.auth.principal", values: ["https://auth.example.com/alice"] }];
  const ra = (service: string) => ({ kind: "RequestAuthentication", metadata: { name: "reviews", namespace: "trellis-system" }, spec: { selector: { service }, jwtRules: [{ issuer: "https://auth.example.com", jwks: "{}" }] } });
  assert.deepEqual(authzRequestAuth(withResource(withResource(bookinfo(), policy), ra("reviews"))), []);
  assert.equal(authzRequestAuth(withResource(withResource(bookinfo(), policy), ra("ratings"))).length, 1);
});
