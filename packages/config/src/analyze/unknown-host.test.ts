import assert from "node:assert/strict";
import { test } from "node:test";
import { UNKNOWN_HOST, unknownHost } from "./unknown-host";
import { bookinfo, brief, get, withResource } from "./test-fixtures";

test("bookinfo: services, name.namespace, wildcard ServiceEntry and gateway hosts all resolve", () => {
  assert.deepEqual(unknownHost(bookinfo()), []);
});

test("a route destination to a misspelt service is an error", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[1].route[1].destination.host = "reveiws";
  const findings = unknownHost(withResource(bookinfo(), route));
  assert.deepEqual(brief(findings), [{ code: UNKNOWN_HOST, severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[1].route[1].destination.host" }]);
  assert.match(findings[0]!.message, /no Service bookinfo\/reveiws and no ServiceEntry/);
});

test("a mirror to a service in a namespace where it does not exist is an error", () => {
  const route = get(bookinfo(), "Route/bookinfo/reviews");
  route.spec.http[1].mirror.destination.host = "reviews.staging";
  assert.deepEqual(brief(unknownHost(withResource(bookinfo(), route))), [
    { code: UNKNOWN_HOST, severity: "error", resource: "Route/bookinfo/reviews", path: "spec.http[1].mirror.destination.host" },
  ]);
});

test("a mesh Route host that is neither a Service nor a ServiceEntry host is an error", () => {
  const route = get(bookinfo(), "Route/bookinfo/googleapis");
  route.spec.hosts = ["www.googleapis.com", "api.stripe.com"];
  assert.deepEqual(brief(unknownHost(withResource(bookinfo(), route))), [
    { code: UNKNOWN_HOST, severity: "error", resource: "Route/bookinfo/googleapis", path: "spec.hosts[1]" },
  ]);
});

test("the wildcard ServiceEntry does not cover its bare domain", () => {
  const route = get(bookinfo(), "Route/bookinfo/googleapis");
  route.spec.http[0].route[0].destination.host = "googleapis.com";
  assert.deepEqual(brief(unknownHost(withResource(bookinfo(), route))).map((f) => f.path), ["spec.http[0].route[0].destination.host"]);
});
