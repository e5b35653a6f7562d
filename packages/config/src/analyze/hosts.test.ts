import assert from "node:assert/strict";
import { test } from "node:test";
import { buildHostIndex, hostKey, resolveHost } from "./hosts";
import { bookinfo, parse } from "./test-fixtures";

const mesh = [
  ...bookinfo(),
  ...parse({ kind: "ServiceEntry", metadata: { name: "stripe", namespace: "payments" }, spec: { hosts: ["api.stripe.com"], ports: [{ name: "https", number: 443, protocol: "HTTPS" }] } }),
];
const index = buildHostIndex(mesh);

test("a bare name is a Service in the referring namespace", () => {
  const r = resolveHost("reviews", "bookinfo", index);
  assert.equal(r?.kind, "service");
  assert.deepEqual(r?.kind === "service" && [r.namespace, r.name, r.service.metadata.name], ["bookinfo", "reviews", "reviews"]);
  assert.equal(resolveHost("reviews", "staging", index), undefined);
});

test("name.namespace is a Service in that namespace, from anywhere", () => {
  const r = resolveHost("reviews.bookinfo", "staging", index);
  assert.deepEqual(r?.kind === "service" && [r.namespace, r.name], ["bookinfo", "reviews"]);
});

test("Kubernetes-style FQDNs name the same Service", () => {
  for (const host of ["reviews.bookinfo.svc", "reviews.bookinfo.svc.cluster.local"]) {
    const r = resolveHost(host, "staging", index);
    assert.deepEqual(r?.kind === "service" && [r.namespace, r.name], ["bookinfo", "reviews"], host);
  }
  assert.equal(hostKey("reviews.bookinfo.svc.cluster.local", "x", index), hostKey("reviews", "bookinfo", index));
});

test("other hosts match ServiceEntry hosts exactly, or under a wildcard", () => {
  const stripe = resolveHost("api.stripe.com", "bookinfo", index);
  assert.deepEqual(stripe?.kind === "external" && [stripe.entry.metadata.name, stripe.host], ["stripe", "api.stripe.com"]);
  const google = resolveHost("www.googleapis.com", "bookinfo", index);
  assert.deepEqual(google?.kind === "external" && [google.entry.metadata.name, google.host], ["googleapis", "*.googleapis.com"]);
  assert.equal(resolveHost("a.b.googleapis.com", "bookinfo", index)?.kind, "external");
  assert.equal(resolveHost("*.maps.googleapis.com", "bookinfo", index)?.kind, "external");
  assert.equal(resolveHost("googleapis.com", "bookinfo", index), undefined);
  assert.equal(resolveHost("stripe.com", "bookinfo", index), undefined);
});

test("resolveHost also takes the resource list", () => {
  assert.equal(resolveHost("ratings", "bookinfo", mesh)?.kind, "service");
});

test("hostKey makes reviews (in bookinfo) and reviews.bookinfo the same host, existing or not", () => {
  assert.equal(hostKey("reviews", "bookinfo", index), hostKey("reviews.bookinfo", "staging", index));
  assert.equal(hostKey("ghost", "bookinfo", index), hostKey("ghost.bookinfo", "default", index));
  assert.notEqual(hostKey("reviews", "bookinfo", index), hostKey("reviews", "staging", index));
});
