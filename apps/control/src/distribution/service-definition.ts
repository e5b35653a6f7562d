import type { ServiceDefinition } from "@grpc/grpc-js";
import { ConfigDiscoveryService, ControlMessage, ProxyMessage } from "@trellis/proto";
import { MalformedMessage } from "./proxy-connection";
import type { IncomingMessage } from "./proxy-connection";

/**
 * The generated ConfigDiscovery service definition with a tolerant request deserializer:
 * bytes that do not decode become a MalformedMessage, which the connection answers with a
 * Goodbye naming the problem and INVALID_ARGUMENT — instead of grpc-js's bare INTERNAL status.
 * Responses are encoded without the generated serializer's extra copy (grpc-js copies the
 * bytes into its frame anyway): one snapshot copy fewer per proxy and push.
 */
export const configDiscoveryDefinition = {
  streamConfig: {
    ...ConfigDiscoveryService.streamConfig,
    responseSerialize: (value: ControlMessage): Buffer => {
      const bytes = ControlMessage.encode(value).finish();
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
