import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { ControlMessage, SNAPSHOT_CONTENT_TYPE } from "@trellis/proto";
import { MalformedMessage, OutgoingSnapshot } from "./proxy-connection";
import type { IncomingMessage, OutgoingMessage } from "./proxy-connection";
import { configDiscoveryDefinition } from "./service-definition";
import { FakeProxy, waitFor } from "./test/fake-proxy";

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

  test("messages serialized one after another through the shared writer and scratch do not bleed into each other", () => {
    const big = Buffer.from(responseSerialize(new OutgoingSnapshot("big", [Buffer.alloc(10_000, 0x61)])));
    const small = responseSerialize({ message: { $case: "goodbye", value: { code: "C", reason: "r" } } });
    const tiny = Buffer.from(responseSerialize(new OutgoingSnapshot("t", [Buffer.from("{}")])));
    const again = responseSerialize(new OutgoingSnapshot("big", [Buffer.alloc(10_000, 0x61)]));
    assert.deepEqual(ControlMessage.decode(small), { message: { $case: "goodbye", value: { code: "C", reason: "r" } } });
    assert.deepEqual(tiny, generated("t", [Buffer.from("{}")]), "a short snapshot after a long one carries none of its bytes");
    assert.deepEqual(again, big, "the same snapshot encodes the same way after others");
    const huge = responseSerialize(new OutgoingSnapshot("huge", [Buffer.alloc(2 << 20, 0x62)]));
    assert.deepEqual(huge, generated("huge", [Buffer.alloc(2 << 20, 0x62)]), "over the scratch size: bytes of its own");
  });

  test("snapshots written back to back to several real streams arrive intact (grpc-js copies each before the next is serialized)", async (t) => {
    const streams: grpc.ServerDuplexStream<IncomingMessage, OutgoingMessage>[] = [];
    const server = new grpc.Server();
    server.addService(configDiscoveryDefinition, { streamConfig: (call: grpc.ServerDuplexStream<IncomingMessage, OutgoingMessage>) => void call.once("data", () => streams.push(call)) });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    const proxies = [0, 1, 2, 3].map(() => new FakeProxy(port));
    t.after(() => (proxies.forEach((p) => p.close()), server.forceShutdown()));
    proxies.forEach((p, i) => p.hello({ workload: `w${i}`, service: "s" }));
    await waitFor("four streams", () => streams.length === 4);
    // Three snapshots per stream without waiting for any write to finish: the first of each is
    // serialized at once, the others when grpc-js drains its queue — both while others reuse the scratch.
    const body = (stream: number, n: number) => Buffer.from(`{"stream":${stream},"n":${n},"pad":"${String.fromCharCode(97 + stream).repeat(3000 + 4000 * n + stream)}"}`);
    for (let n = 0; n < 3; n++) streams.forEach((call, i) => call.write(new OutgoingSnapshot(`s${i}-${n}`, [body(i, n).subarray(0, 10), body(i, n).subarray(10)])));
    await waitFor("every snapshot delivered", () => proxies.every((p) => p.received.length === 3));
    // Streams are matched to proxies by the stream number in the bodies they received.
    for (const p of proxies) {
      const got = p.received.map((m) => (m.message?.$case === "snapshot" ? m.message.value : undefined));
      const i = Number(/"stream":(\d)/.exec(Buffer.from(got[0]?.body ?? []).toString())?.[1]);
      got.forEach((snap, n) => {
        assert.equal(snap?.version, `s${i}-${n}`);
        assert.ok(snap && Buffer.from(snap.body).equals(body(i, n)), `stream ${i} snapshot ${n} arrived byte for byte`);
      });
    }
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
