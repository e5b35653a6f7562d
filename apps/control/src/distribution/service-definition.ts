import type { ServiceDefinition } from "@grpc/grpc-js";
import { BinaryWriter, ConfigDiscoveryService, ControlMessage, ProxyMessage, SNAPSHOT_CONTENT_TYPE } from "@trellis/proto";
import { MalformedMessage, OutgoingSnapshot } from "./proxy-connection";
import type { IncomingMessage, OutgoingMessage } from "./proxy-connection";

/**
 * The generated ConfigDiscovery service definition with a tolerant request deserializer:
 * bytes that do not decode become a MalformedMessage, which the connection answers with a
 * Goodbye naming the problem and INVALID_ARGUMENT — instead of grpc-js's bare INTERNAL status.
 *
 * Responses are encoded into one long-lived BinaryWriter, and a snapshot's body goes in as the
 * chunks it was compiled in (OutgoingSnapshot). A fresh writer per message starts at 128 bytes
 * and doubles up to the message's size (128 B … 8 KB, zero-filled, for a 6 KB snapshot), and
 * the body was joined before that: a push to 2000 proxies left ~30 MB of short-lived
 * ArrayBuffers to the GC, which on Node 24 showed as RSS. Now each message costs one exact-size
 * copy (finish()), which grpc-js copies into its frame.
 */
const writer = new BinaryWriter();

/**
 * ControlMessage{snapshot (1): Snapshot{version (1), content_type (2), body (3)}} as the generated
 * encoders write it (tags 10, 10, 18, 26; empty fields are left out there and never occur here),
 * with the body's chunks written in place. service-definition.test.ts checks the
 * bytes equal the generated encoding.
 */
function writeSnapshot(w: BinaryWriter, s: OutgoingSnapshot): void {
  let bodyLength = 0;
  for (const chunk of s.bodyChunks) bodyLength += chunk.byteLength;
  w.uint32(10).fork();
  w.uint32(10).string(s.version).uint32(18).string(SNAPSHOT_CONTENT_TYPE).uint32(26).uint32(bodyLength);
  for (const chunk of s.bodyChunks) w.raw(chunk);
  w.join();
}

export const configDiscoveryDefinition = {
  streamConfig: {
    ...ConfigDiscoveryService.streamConfig,
    responseSerialize: (value: OutgoingMessage): Buffer => {
      let bytes: Uint8Array;
      try {
        if (value instanceof OutgoingSnapshot) writeSnapshot(writer, value);
        else ControlMessage.encode(value, writer);
        bytes = writer.finish();
      } catch (err) {
        writer.finish(); // resets the position and fork stack a half-written message left behind
        throw err;
      }
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    requestDeserialize: (buf: Buffer): IncomingMessage => {
      try {
        return ProxyMessage.decode(buf);
      } catch (err) {
        return new MalformedMessage(err instanceof Error ? err.message : String(err));
      }
    },
  },
} satisfies ServiceDefinition;
