import type { ServiceDefinition } from "@grpc/grpc-js";
import { BinaryWriter, ConfigDiscoveryService, ControlMessage, ProxyMessage, SNAPSHOT_CONTENT_TYPE } from "@trellis/proto";
import { MalformedMessage, OutgoingSnapshot } from "./proxy-connection";
import type { IncomingMessage, OutgoingMessage } from "./proxy-connection";

/**
 * The generated ConfigDiscovery service definition with a tolerant request deserializer:
 * bytes that do not decode become a MalformedMessage, which the connection answers with a
 * Goodbye naming the problem and INVALID_ARGUMENT — instead of grpc-js's bare INTERNAL status.
 *
 * Responses are serialized without short-lived copies. The generated path (a fresh writer per
 * message doubling from 128 B to the message's size, zero-filled, after the snapshot body had
 * been joined, then finish()'s exact-size copy) left ~34 KB of ArrayBuffers per proxy and push
 * to the GC: ~68 MB per push to 2000 proxies, which on Node 24 stayed as RSS. Now:
 * - every message is encoded into one long-lived BinaryWriter;
 * - a snapshot (OutgoingSnapshot) is its protobuf header, written by that writer, then its body
 *   chunks as they were compiled, copied into a scratch buffer that is reused for the next
 *   message. That is safe because grpc-js copies a serializer's result into its own frame
 *   before returning from the write (server-interceptors serializeMessage: allocUnsafe + copy),
 *   and nothing else holds it; service-definition.test.ts checks the bytes against the generated
 *   encoder and that snapshots written back to back to several real streams arrive intact.
 */
const writer = new BinaryWriter();
/** Snapshots up to this size are serialized into `scratch`; larger ones get bytes of their own, so one huge snapshot does not pin its size forever. */
const SCRATCH_MAX = 1 << 20;
let scratch = Buffer.allocUnsafeSlow(16 * 1024);

/** Runs `write` on the shared writer and returns its bytes; a failed write still leaves the writer reset. */
function encodeWith(write: (w: BinaryWriter) => unknown): Uint8Array {
  try {
    write(writer);
    return writer.finish();
  } catch (err) {
    writer.finish(); // resets the position and fork stack a half-written message left behind
    throw err;
  }
}

/**
 * ControlMessage{snapshot (1): Snapshot{version (1), content_type (2), body (3)}}, as the generated
 * encoders write it (tags 10 · 10, 18, 26; their empty fields are left out and never occur
 * here): the two headers from the writer, then the body's chunks.
 */
function serializeSnapshot(s: OutgoingSnapshot): Buffer {
  let bodyLength = 0;
  for (const chunk of s.bodyChunks) bodyLength += chunk.byteLength;
  const inner = encodeWith((w) => w.uint32(10).string(s.version).uint32(18).string(SNAPSHOT_CONTENT_TYPE).uint32(26).uint32(bodyLength));
  const outer = encodeWith((w) => w.uint32(10).uint32(inner.byteLength + bodyLength));
  const total = outer.byteLength + inner.byteLength + bodyLength;
  if (total > SCRATCH_MAX) return fill(Buffer.allocUnsafeSlow(total), outer, inner, s.bodyChunks);
  if (scratch.byteLength < total) scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, Math.max(total, 2 * scratch.byteLength)));
  return fill(scratch, outer, inner, s.bodyChunks).subarray(0, total);
}

function fill(out: Buffer, outer: Uint8Array, inner: Uint8Array, chunks: readonly Uint8Array[]): Buffer {
  out.set(outer, 0);
  out.set(inner, outer.byteLength);
  let pos = outer.byteLength + inner.byteLength;
  for (const chunk of chunks) {
    out.set(chunk, pos);
    pos += chunk.byteLength;
  }
  return out;
}

export const configDiscoveryDefinition = {
  streamConfig: {
    ...ConfigDiscoveryService.streamConfig,
    responseSerialize: (value: OutgoingMessage): Buffer => {
      if (value instanceof OutgoingSnapshot) return serializeSnapshot(value);
      const bytes = encodeWith((w) => ControlMessage.encode(value, w));
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
