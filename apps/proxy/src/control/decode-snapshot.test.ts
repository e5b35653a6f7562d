import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SnapshotDecodeError, decodeSnapshot } from "./decode-snapshot";
import { snapshotFixture, snapshotMessage } from "./snapshot-fixture";

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SnapshotDecodeError, `expected a SnapshotDecodeError, got ${String(err)}`);
    assert.equal(err.code, "TRELLIS_INVALID_SNAPSHOT");
    return err.message;
  }
  assert.fail("expected the snapshot to be refused");
}

describe("decodeSnapshot", () => {
  test("a valid body decodes to the snapshot", () => {
    const s = snapshotFixture();
    assert.deepEqual(decodeSnapshot(snapshotMessage(s), "default/reviews-a"), s);
  });

  test("an unknown content type is refused, naming the one understood", () => {
    const msg = refusal(() => decodeSnapshot(snapshotMessage(snapshotFixture(), undefined, "application/x-protobuf")));
    assert.match(msg, /unsupported content_type 'application\/x-protobuf': this proxy understands 'application\/vnd\.trellis\.snapshot\.v1\+json'/);
  });

  test("a body that is not JSON is refused", () => {
    assert.match(refusal(() => decodeSnapshot(snapshotMessage("{not json", "0123456789abcdef"))), /snapshot body is not valid JSON/);
  });

  test("a schema violation names the field path", () => {
    const bad = snapshotFixture() as unknown as { inbound: { listeners: { port: unknown }[] }; gateways: unknown };
    bad.inbound.listeners[0]!.port = 70000;
    bad.gateways = "none";
    const msg = refusal(() => decodeSnapshot(snapshotMessage(bad)));
    assert.match(msg, /inbound\.listeners\[0\]\.port: must be at most 65535/);
    assert.match(msg, /gateways: /);
  });

  test("the body's version must equal the envelope's", () => {
    const msg = refusal(() => decodeSnapshot(snapshotMessage(snapshotFixture("0123456789abcdef"), "fedcba9876543210")));
    assert.match(msg, /body has version '0123456789abcdef' but its envelope says 'fedcba9876543210'/);
  });

  test("a snapshot for another proxy is refused", () => {
    const msg = refusal(() => decodeSnapshot(snapshotMessage(snapshotFixture(undefined, 1, "shop/cart-1")), "default/reviews-a"));
    assert.match(msg, /snapshot is for proxy 'shop\/cart-1', not for this proxy 'default\/reviews-a'/);
  });
});
