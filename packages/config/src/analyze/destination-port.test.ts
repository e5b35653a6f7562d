import assert from "node:assert/strict";
import { test } from "node:test";
import { destinationPort, PORT_REQUIRED, UNKNOWN_PORT } from "./destination-port";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo: single-port services, and productpage:9080 named explicitly", () => {
  assert.deepEqual(destinationPort(bookinfo()), []);
});

test("a port the service does not expose is an error on destination.port", () => {
  const route = get(bookinfo(), "Route/bookinfo/bookinfo");
  route.spec.http[0].route[0].destination.port = 8080;
  const findings = destinationPort(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: UNKNOWN_PORT, severity: "error", resource: "Route/bookinfo/bookinfo", path: "spec.http[0].route[0].destination.port" }]);
  assert.match(findings[0]!.message, /is 8080, but 'productpage' exposes only 9080/);
});

test("ServiceEntry ports count for external hosts", () => {
  const route = get(bookinfo(), "Route/bookinfo/googleapis");
  route.spec.http[0].route[0].destination.port = 443;
  assert.deepEqual(destinationPort(withResource(bookinfo(), route)), []);
  route.spec.http[0].route[0].destination.port = 80;
  assert.deepEqual(brief(destinationPort(withResource(bookinfo(), route))).map((f) => f.code), [UNKNOWN_PORT]);
});

test("no port towards a multi-port service is a warning on the destination", () => {
  const svc = get(bookinfo(), "Service/bookinfo/productpage");
  svc.spec.ports.push({ name: "grpc", port: 9090, protocol: "grpc" });
  assert.deepEqual(brief(destinationPort(withResource(bookinfo(), svc))), [
    { code: PORT_REQUIRED, severity: "warning", resource: "Route/bookinfo/bookinfo", path: "spec.http[1].route[0].destination" },
  ]);
});
