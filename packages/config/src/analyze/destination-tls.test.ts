import assert from "node:assert/strict";
import { test } from "node:test";
import { destinationTls, ISTIO_MUTUAL_NO_SIDECAR, MTLS_CONFLICT } from "./destination-tls";
import { bookinfo, brief, get, parse, withResource } from "./test-fixtures";

test("bookinfo: ISTIO_MUTUAL to reviews, which has a sidecar", () => {
  assert.deepEqual(destinationTls(bookinfo()), []);
});

test("ISTIO_MUTUAL towards a sidecar-less service is an error on spec.tls.mode", () => {
  const mesh = withResource(bookinfo(), { ...get(bookinfo(), "Service/bookinfo/reviews"), spec: { ...get(bookinfo(), "Service/bookinfo/reviews").spec, sidecar: false } });
  const findings = destinationTls(mesh);
  assert.deepEqual(brief(findings), [{ code: ISTIO_MUTUAL_NO_SIDECAR, severity: "error", resource: "DestinationPolicy/bookinfo/reviews", path: "spec.tls.mode" }]);
  assert.match(findings[0]!.message, /Service bookinfo\/reviews runs no sidecar/);
});

test("ISTIO_MUTUAL towards an external ServiceEntry host is an error", () => {
  const mesh = [...bookinfo(), ...parse({ kind: "DestinationPolicy", metadata: { name: "google", namespace: "bookinfo" }, spec: { host: "www.googleapis.com", tls: { mode: "ISTIO_MUTUAL" } } })];
  assert.deepEqual(brief(destinationTls(mesh)), [{ code: ISTIO_MUTUAL_NO_SIDECAR, severity: "error", resource: "DestinationPolicy/bookinfo/google", path: "spec.tls.mode" }]);
});

test("DISABLE towards a service under STRICT mTLS is a conflict", () => {
  const dp = get(bookinfo(), "DestinationPolicy/bookinfo/reviews");
  dp.spec.tls.mode = "DISABLE";
  const findings = destinationTls(withResource(bookinfo(), dp));
  assert.deepEqual(brief(findings), [{ code: MTLS_CONFLICT, severity: "error", resource: "DestinationPolicy/bookinfo/reviews", path: "spec.tls.mode" }]);
  assert.match(findings[0]!.message, /PeerAuthentication\/bookinfo\/default \(namespace-wide\) requires mTLS/);
});

test("DISABLE is fine once the service's policy is PERMISSIVE", () => {
  const dp = get(bookinfo(), "DestinationPolicy/bookinfo/reviews");
  dp.spec.tls.mode = "DISABLE";
  const mesh = withResource(withResource(bookinfo(), dp), { kind: "PeerAuthentication", metadata: { name: "reviews", namespace: "bookinfo" }, spec: { selector: { service: "reviews" }, mode: "PERMISSIVE" } });
  assert.deepEqual(destinationTls(mesh), []);
});
