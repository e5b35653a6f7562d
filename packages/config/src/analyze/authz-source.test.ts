import assert from "node:assert/strict";
import { test } from "node:test";
import { AUTHZ_BAD_PRINCIPAL, AUTHZ_UNKNOWN_NAMESPACE, authzSource, principalProblem } from "./authz-source";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo's spiffe principals and namespaces are well formed and known", () => {
  assert.deepEqual(authzSource(bookinfo()), []);
});

test("a principal that is not a SPIFFE ID is an error naming the field", () => {
  const policy = get(bookinfo(), "AuthorizationPolicy/bookinfo/reviews-viewer");
  policy.spec.rules[0].from[0].source.principals.push("productpage");
  const findings = authzSource(withResource(bookinfo(), policy));
  assert.deepEqual(brief(findings), [{ code: AUTHZ_BAD_PRINCIPAL, severity: "error", resource: "AuthorizationPolicy/bookinfo/reviews-viewer", path: "spec.rules[0].from[0].source.principals[1]" }]);
  assert.match(findings[0]!.message, /'productpage' is not a SPIFFE ID; write spiffe:\/\/<trust-domain>/);
});

test("principal wildcards: only one '*', only as prefix or suffix", () => {
  assert.equal(principalProblem("*"), undefined);
  assert.equal(principalProblem("spiffe://cluster.local/ns/bookinfo/*"), undefined);
  assert.equal(principalProblem("*/sa/productpage"), undefined);
  assert.equal(principalProblem("spiffe://cluster.local/ns/bookinfo/sa/productpage"), undefined);
  assert.match(principalProblem("spiffe://cluster.local/ns/*/sa/productpage")!, /prefix or suffix/);
  assert.match(principalProblem("*productpage*")!, /prefix or suffix/);
  assert.match(principalProblem("cluster.local/*")!, /no SPIFFE ID starts with/);
  assert.match(principalProblem("spiffe://cluster.local/ns/bookinfo")!, /not a SPIFFE ID/);
});

test("notPrincipals and source.principal conditions are checked too", () => {
  const policy = get(bookinfo(), "AuthorizationPolicy/bookinfo/reviews-viewer");
  policy.spec.rules[0].from[0].source.notPrincipals = ["spiffe://cluster.local/ns/bookinfo/sa/*/x"];
  policy.spec.rules[0].when = [{ key: "source.principal", notValues: ["ratings"] }];
  assert.deepEqual(brief(authzSource(withResource(bookinfo(), policy))).map((f) => [f.code, f.path]), [
    [AUTHZ_BAD_PRINCIPAL, "spec.rules[0].from[0].source.notPrincipals[0]"],
    [AUTHZ_BAD_PRINCIPAL, "spec.rules[0].when[0].notValues[0]"],
  ]);
});

test("an unknown namespace is a warning, whether in namespaces, notNamespaces or a principal", () => {
  const policy = get(bookinfo(), "AuthorizationPolicy/bookinfo/reviews-viewer");
  policy.spec.rules[0].from[0].source.namespaces = ["bookinfo", "bookinf0", "prod-*"];
  policy.spec.rules[0].from[0].source.notNamespaces = ["staging"];
  policy.spec.rules[0].from[0].source.principals = ["spiffe://cluster.local/ns/frontend/sa/web"];
  const findings = authzSource(withResource(bookinfo(), policy));
  assert.deepEqual(brief(findings).map((f) => [f.code, f.severity, f.path]), [
    [AUTHZ_UNKNOWN_NAMESPACE, "warning", "spec.rules[0].from[0].source.principals[0]"],
    [AUTHZ_UNKNOWN_NAMESPACE, "warning", "spec.rules[0].from[0].source.namespaces[1]"],
    [AUTHZ_UNKNOWN_NAMESPACE, "warning", "spec.rules[0].from[0].source.notNamespaces[0]"],
  ]);
  assert.match(findings[1]!.message, /namespace 'bookinf0', in which no resource exists.*known: bookinfo, trellis-system/);
});
