import assert from "node:assert/strict";
import { test } from "node:test";
import { STRICT_MTLS_NO_SIDECAR, strictMtlsNoSidecar } from "./strict-mtls-no-sidecar";
import { bookinfo, brief, parse, withResource } from "./test-fixtures";

const legacyDb = { kind: "Service", metadata: { name: "legacy-db", namespace: "bookinfo" }, spec: { sidecar: false, ports: [{ name: "tcp", port: 5432, protocol: "tcp" }] } };

test("bookinfo: STRICT everywhere, every workload has a sidecar", () => {
  assert.deepEqual(strictMtlsNoSidecar(bookinfo()), []);
});

test("namespace-wide STRICT over a sidecar-less Service is an error on that PeerAuthentication's mode", () => {
  const findings = strictMtlsNoSidecar(withResource(bookinfo(), legacyDb));
  assert.deepEqual(brief(findings), [{ code: STRICT_MTLS_NO_SIDECAR, severity: "error", resource: "PeerAuthentication/bookinfo/default", path: "spec.mode" }]);
  assert.match(findings[0]!.message, /namespace-wide\) requires mTLS on port 5432 of Service bookinfo\/legacy-db, which has no sidecar/);
});

test("mesh-wide STRICT applies when the namespace has no policy of its own", () => {
  const mesh = withResource(bookinfo(), { ...legacyDb, metadata: { name: "legacy-db", namespace: "legacy" } });
  assert.deepEqual(brief(strictMtlsNoSidecar(mesh)).map((f) => f.resource), ["PeerAuthentication/trellis-system/default"]);
});

test("a PERMISSIVE policy selecting the service overrides namespace STRICT", () => {
  const mesh = [...withResource(bookinfo(), legacyDb), ...parse({ kind: "PeerAuthentication", metadata: { name: "legacy-db", namespace: "bookinfo" }, spec: { selector: { service: "legacy-db" }, mode: "PERMISSIVE" } })];
  assert.deepEqual(strictMtlsNoSidecar(mesh), []);
});

test("STRICT only through portLevel points at that port", () => {
  const mesh = [
    ...withResource(bookinfo(), legacyDb),
    ...parse({ kind: "PeerAuthentication", metadata: { name: "legacy-db", namespace: "bookinfo" }, spec: { selector: { service: "legacy-db" }, mode: "PERMISSIVE", portLevel: { "5432": "STRICT" } } }),
  ];
  assert.deepEqual(brief(strictMtlsNoSidecar(mesh)), [{ code: STRICT_MTLS_NO_SIDECAR, severity: "error", resource: "PeerAuthentication/bookinfo/legacy-db", path: "spec.portLevel.5432" }]);
});

test("static Workloads without a sidecar of a covered service are an error naming them", () => {
  const mesh = [
    ...bookinfo(),
    ...parse(
      { kind: "Workload", metadata: { name: "ratings-vm-1", namespace: "bookinfo" }, spec: { service: "ratings", address: "10.0.0.8" } },
      { kind: "Workload", metadata: { name: "ratings-vm-2", namespace: "bookinfo" }, spec: { service: "ratings", address: "10.0.0.9" } },
    ),
  ];
  const findings = strictMtlsNoSidecar(mesh);
  assert.deepEqual(brief(findings), [{ code: STRICT_MTLS_NO_SIDECAR, severity: "error", resource: "PeerAuthentication/bookinfo/default", path: "spec.mode" }]);
  assert.match(findings[0]!.message, /Workloads 'ratings-vm-1' and 'ratings-vm-2' of Service bookinfo\/ratings/);
});

test("a label-narrowed PERMISSIVE policy exempts just the matching workloads", () => {
  const mesh = [
    ...bookinfo(),
    ...parse(
      { kind: "Workload", metadata: { name: "ratings-vm", namespace: "bookinfo" }, spec: { service: "ratings", address: "10.0.0.8", labels: { legacy: "true" } } },
      { kind: "PeerAuthentication", metadata: { name: "ratings-vm", namespace: "bookinfo" }, spec: { selector: { service: "ratings", matchLabels: { legacy: "true" } }, mode: "PERMISSIVE" } },
    ),
  ];
  assert.deepEqual(strictMtlsNoSidecar(mesh), []);
});
