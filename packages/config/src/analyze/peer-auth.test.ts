import assert from "node:assert/strict";
import { test } from "node:test";
import { resourceKey } from "../resource";
import { effectivePeerAuthentication } from "./peer-auth";
import { bookinfo, parse } from "./test-fixtures";

const pa = (name: string, namespace: string, spec: Record<string, unknown>) => ({ kind: "PeerAuthentication", metadata: { name, namespace }, spec: { mode: "PERMISSIVE", ...spec } });
const key = (r: ReturnType<typeof effectivePeerAuthentication>) => r && resourceKey(r);

test("most specific wins: workload over namespace over mesh", () => {
  const mesh = bookinfo();
  assert.equal(key(effectivePeerAuthentication(mesh, "bookinfo", "reviews")), "PeerAuthentication/bookinfo/default");
  assert.equal(key(effectivePeerAuthentication(mesh, "elsewhere", "reviews")), "PeerAuthentication/trellis-system/default");
  const withWorkload = [...mesh, ...parse(pa("reviews", "bookinfo", { selector: { service: "reviews" } }))];
  assert.equal(key(effectivePeerAuthentication(withWorkload, "bookinfo", "reviews")), "PeerAuthentication/bookinfo/reviews");
  assert.equal(key(effectivePeerAuthentication(parse(pa("x", "a", {})), "b", "svc")), undefined);
});

test("root-namespace policies with a selector apply to that service in every namespace", () => {
  const mesh = [...bookinfo(), ...parse(pa("legacy", "trellis-system", { selector: { service: "reviews" } }))];
  assert.equal(key(effectivePeerAuthentication(mesh, "bookinfo", "reviews")), "PeerAuthentication/trellis-system/legacy");
});

test("matchLabels must all match the workload; ties go to the first key", () => {
  const mesh = [...bookinfo(), ...parse(pa("b-v1", "bookinfo", { selector: { matchLabels: { version: "v1" } } }), pa("a-svc", "bookinfo", { selector: { service: "reviews" } }))];
  assert.equal(key(effectivePeerAuthentication(mesh, "bookinfo", "reviews", { version: "v1" })), "PeerAuthentication/bookinfo/a-svc");
  assert.equal(key(effectivePeerAuthentication(mesh, "bookinfo", "ratings", { version: "v2" })), "PeerAuthentication/bookinfo/default");
  assert.equal(key(effectivePeerAuthentication(mesh, "bookinfo", "ratings", { version: "v1" })), "PeerAuthentication/bookinfo/b-v1");
});
