import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ControlMessage, SNAPSHOT_CONTENT_TYPE } from "@trellis/proto";
import { MalformedMessage, OutgoingSnapshot } from "./proxy-connection";
import { configDiscoveryDefinition } from "./service-definition";

const { responseSerialize, requestDeserialize } = configDiscoveryDefinition.streamConfig;

/** What the generated encoder writes for the same snapshot with its body joined. */
function generated(version: string, chunks: Buffer[]): Buffer {
  return Buffer.from(ControlMessage.encode({ message: { $case: "snapshot", value: { version, contentType: SNAPSHOT_CONTENT_TYPE, body: Buffer.concat(chunks) } } }).finish());
}

describe("config stream serializer", () => {
  test("a chunked snapshot is byte-for-byte the generated encoding of the joined body, at every length-prefix width", () => {
    // Body lengths around the one-, two- and three-byte varint boundaries of the snapshot's own
    // length prefix (the writer's fork() reserves one byte and widens on join()).
    for (const size of [1, 80, 127, 128, 200, 6262, 16_383, 16_384, 300_000]) {
      const body = Buffer.from(`{"pad":"${"é".repeat(Math.max(0, Math.floor((size - 10) / 2)))}"}`, "utf8");
      const chunks = [body.subarray(0, Math.floor(body.length / 3)), body.subarray(Math.floor(body.length / 3), body.length - 5), body.subarray(body.length - 5)];
      const version = `v-${size}`;
      const bytes = responseSerialize(new OutgoingSnapshot(version, chunks));
      assert.deepEqual(bytes, generated(version, chunks), `body of ${body.length} bytes`);
      const back = ControlMessage.decode(bytes);
      assert.equal(back.message?.$case, "snapshot");
      if (back.message?.$case === "snapshot") assert.deepEqual(Buffer.from(back.message.value.body), body);
    }
  });

  test("messages serialized one after another through the shared writer do not bleed into each other", () => {
    const big = responseSerialize(new OutgoingSnapshot("big", [Buffer.alloc(10_000, 0x61)]));
    const small = responseSerialize({ message: { $case: "goodbye", value: { code: "C", reason: "r" } } });
    const again = responseSerialize(new OutgoingSnapshot("big", [Buffer.alloc(10_000, 0x61)]));
    assert.deepEqual(ControlMessage.decode(small), { message: { $case: "goodbye", value: { code: "C", reason: "r" } } });
    assert.deepEqual(again, big, "the second encoding equals the first: the writer was reset in between");
    assert.notEqual(again.buffer, big.buffer, "each message owns its bytes (grpc-js may hold one while the next is encoded)");
  });

  test("a message that fails to encode leaves the shared writer clean for the next", () => {
    assert.throws(() => responseSerialize({ message: { $case: "telemetryRejected", value: { sequence: -1, reason: "x" } } } as ControlMessage));
    const after = responseSerialize(new OutgoingSnapshot("v1", [Buffer.from("{}")]));
    assert.deepEqual(after, generated("v1", [Buffer.from("{}")]));
  });

  test("bytes that do not decode become a MalformedMessage naming the problem", () => {
    const msg = requestDeserialize(Buffer.from([0x0a, 0xff, 0xff]));
    assert.ok(msg instanceof MalformedMessage);
    assert.match(msg.error, /\S/);
  });
});
