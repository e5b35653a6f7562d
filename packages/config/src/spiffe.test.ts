import assert from "node:assert/strict";
import { test } from "node:test";
import { SpiffeIdError, isControlPlaneIdentity, parseSpiffeId, spiffeId, spiffeIdsOfSan } from "./spiffe";

test("SPIFFE IDs: written in Istio's form, parsed back, malformed parts refused by name", () => {
  const id = { trustDomain: "cluster.local", namespace: "bookinfo", serviceAccount: "reviews" };
  assert.equal(spiffeId(id), "spiffe://cluster.local/ns/bookinfo/sa/reviews");
  assert.deepEqual(parseSpiffeId("spiffe://cluster.local/ns/bookinfo/sa/reviews"), id);
  assert.throws(() => spiffeId({ ...id, namespace: "Book Info" }), (e: unknown) => e instanceof SpiffeIdError && /namespace 'Book Info'/.test(e.message));
  assert.throws(() => spiffeId({ ...id, trustDomain: "a/b" }), /trust domain/);
  assert.throws(() => spiffeId({ ...id, serviceAccount: "" }), /service account/);
  for (const bad of ["spiffe://cluster.local/ns/bookinfo/sa/reviews/extra", "spiffe://cluster.local/ns//sa/x", "https://cluster.local/ns/a/sa/b", "spiffe://cluster.local/sa/b/ns/a", "spiffe://Cluster/ns/a/sa/b"]) {
    assert.equal(parseSpiffeId(bad), undefined, bad);
  }
});

test("SPIFFE IDs of a subjectAltName as Node prints it; the control plane's identity", () => {
  assert.deepEqual(spiffeIdsOfSan("DNS:localhost, URI:spiffe://cluster.local/ns/bookinfo/sa/reviews, URI:https://x.example/"), [{ trustDomain: "cluster.local", namespace: "bookinfo", serviceAccount: "reviews" }]);
  assert.deepEqual(spiffeIdsOfSan(undefined), []);
  assert.equal(isControlPlaneIdentity("trellis-system", "trellis-control"), true);
  assert.equal(isControlPlaneIdentity("trellis-system", "dashboard"), false);
});
