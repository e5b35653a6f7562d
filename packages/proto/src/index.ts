/**
 * @trellis/proto: the control plane <-> proxy API. The message types (interfaces plus codec
 * objects of the same name), the gRPC service definition for servers and the client
 * constructor for proxies, all generated from proto/trellis/discovery/v1/discovery.proto.
 */
export {
  Ack,
  ConfigDiscoveryClient,
  ConfigDiscoveryService,
  ControlMessage,
  Goodbye,
  Hello,
  Nack,
  Port,
  ProxyMessage,
  Snapshot,
  protobufPackage,
} from "./generated/trellis/discovery/v1/discovery";
export type { ConfigDiscoveryServer } from "./generated/trellis/discovery/v1/discovery";

/** The `Snapshot.content_type` of a JSON-encoded `SnapshotSchema` body (@trellis/config). */
export const SNAPSHOT_CONTENT_TYPE = "application/vnd.trellis.snapshot.v1+json";
