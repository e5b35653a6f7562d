import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Hello } from "@trellis/proto";
import { parseHello } from "./parse-hello";

const hello = (over: Partial<Hello> = {}): Hello =>
  Hello.fromPartial({ workload: "reviews-v1-a", service: "reviews", namespace: "default", address: "10.0.0.1", ports: [{ name: "http", port: 9080, protocol: "http" }], proxyVersion: "0.1.0", ...over });

describe("parseHello", () => {
  test("an inbound port becomes the endpoint's inboundPort; 0 (proto3's unset) leaves it out", () => {
    assert.equal(parseHello(hello({ inboundPort: 15006 })).endpoint.inboundPort, 15006);
    const unset = parseHello(hello()).endpoint;
    assert.ok(!("inboundPort" in unset), "no inboundPort key when the proxy did not send one");
  });

  test("an inbound port above 65535 is refused, naming the field", () => {
    assert.throws(() => parseHello(hello({ inboundPort: 70000 })), (err: Error & { code?: string }) => {
      assert.equal(err.code, "TRELLIS_INVALID_HELLO");
      assert.match(err.message, /hello\.inboundPort: must be a port number, 1 to 65535/);
      return true;
    });
  });
});
