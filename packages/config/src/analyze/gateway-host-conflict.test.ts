import assert from "node:assert/strict";
import { test } from "node:test";
import { GATEWAY_HOST_CONFLICT, gatewayHostConflict } from "./gateway-host-conflict";
import { bookinfo, brief, parse } from "./test-fixtures";

const server = (port: number, hosts: string[]) => ({ port: { number: port, name: `p${port}`, protocol: "HTTP" }, hosts });
const gateway = (name: string, service: string, servers: unknown[], namespace = "bookinfo") => ({ kind: "Gateway", metadata: { name, namespace }, spec: { selector: { service }, servers } });

test("bookinfo's single gateway server passes", () => {
  assert.deepEqual(gatewayHostConflict(bookinfo()), []);
});

test("a second Gateway on the same proxies and port claiming the host is an error on the later one", () => {
  const mesh = [...bookinfo(), ...parse(gateway("shop-gateway", "ingress-gateway", [server(80, ["shop.example.com", "bookinfo.example.com"])]))];
  const findings = gatewayHostConflict(mesh);
  assert.deepEqual(brief(findings), [{ code: GATEWAY_HOST_CONFLICT, severity: "error", resource: "Gateway/bookinfo/shop-gateway", path: "spec.servers[0].hosts[1]" }]);
  assert.match(findings[0]!.message, /already served by Gateway\/bookinfo\/bookinfo-gateway spec\.servers\[0\]\.hosts\[0\]/);
});

test("two servers of one Gateway on the same port claiming one host conflict", () => {
  const mesh = parse(gateway("gw", "edge", [server(443, ["a.example.com"]), server(443, ["b.example.com", "a.example.com"])]));
  assert.deepEqual(brief(gatewayHostConflict(mesh)).map((f) => f.path), ["spec.servers[1].hosts[1]"]);
});

test("another port or other gateway proxies do not conflict", () => {
  const mesh = [
    ...bookinfo(),
    ...parse(
      gateway("tls", "ingress-gateway", [server(443, ["bookinfo.example.com"])]),
      gateway("internal", "internal-gateway", [server(80, ["bookinfo.example.com"])]),
    ),
  ];
  assert.deepEqual(gatewayHostConflict(mesh), []);
});

test("Gateways in other namespaces selecting the same proxies conflict too", () => {
  const mesh = [...bookinfo(), ...parse(gateway("staging", "ingress-gateway", [server(80, ["bookinfo.example.com"])], "staging"))];
  assert.deepEqual(brief(gatewayHostConflict(mesh)).map((f) => f.resource), ["Gateway/staging/staging"]);
});
