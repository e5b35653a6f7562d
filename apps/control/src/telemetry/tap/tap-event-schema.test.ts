import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TAP_LIMITS, TAP_REDACTED } from "@trellis/config";
import { Direction } from "@trellis/proto";
import { tapEventsProblem, viewOf } from "./tap-event-schema";
import { event, WEB } from "./test-events";

describe("tapEventsProblem", () => {
  test("accepts well-formed events", () => {
    assert.equal(tapEventsProblem([event(), event({ direction: Direction.DIRECTION_INBOUND })]), undefined);
  });

  test("refuses a malformed message, naming the first bad field", () => {
    const cases: Array<[unknown[], RegExp]> = [
      [[], /^events: empty/],
      [Array.from({ length: TAP_LIMITS.eventsPerMessage + 1 }, () => event()), /^events: 1001 in one message/],
      [[event(), event({ path: "/x?token=1" })], /^events\[1\]\.path: must not carry a query string/],
      [[event({ tapIds: [] })], /^events\[0\]\.tapIds: must name at least one tap/],
      [[event({ direction: Direction.DIRECTION_UNSPECIFIED })], /^events\[0\]\.direction: must be OUTBOUND/],
      [[event({ method: "G".repeat(33) })], /^events\[0\]\.method: must be at most 32 characters/],
      [[event({ status: 1000 })], /^events\[0\]\.status: must be at most 999/],
      [[event({ durationMs: -1 })], /^events\[0\]\.durationMs/],
      [[event({ requestHeaders: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, "v"])) })], /^events\[0\]\.requestHeaders: must be a map of at most 64 headers/],
      [[event({ requestHeaders: { a: "v".repeat(TAP_LIMITS.headerValue + 1) } })], /^events\[0\]\.requestHeaders\.a: must be at most 1024 characters/],
      [[event({ traceId: "xyz" })], /^events\[0\]\.traceId/],
    ];
    for (const [events, reason] of cases) assert.match(tapEventsProblem(events) ?? "(accepted)", reason);
  });
});

describe("viewOf", () => {
  test("the reporting side is the sender's identity: a proxy cannot report for another workload", () => {
    const out = viewOf(event({ sourceWorkload: "admin-console", sourceNamespace: "kube-system" }), WEB);
    assert.equal(out.direction, "outbound");
    assert.equal(out.reporter, "shop/web-1");
    assert.deepEqual([out.sourceWorkload, out.sourceNamespace, out.destinationService], ["web-1", "shop", "cart"]);
    const inbound = viewOf(event({ direction: Direction.DIRECTION_INBOUND, sourceWorkload: "caller", destinationService: "payments", destinationWorkload: "x" }), WEB);
    assert.deepEqual([inbound.sourceWorkload, inbound.destinationService, inbound.destinationNamespace, inbound.destinationWorkload], ["caller", "web", "shop", "web-1"]);
  });

  test("credentials are redacted again and mesh headers left out, whatever the proxy sent", () => {
    const out = viewOf(event({ requestHeaders: { Authorization: "Bearer leaked", cookie: "sid=1", "x-trellis-peer": "w=a", accept: "*/*" } }), WEB);
    assert.deepEqual(out.requestHeaders, { authorization: TAP_REDACTED, cookie: TAP_REDACTED, accept: "*/*" });
  });
});
