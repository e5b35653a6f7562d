/**
 * @trellis/proto: the control plane <-> proxy API. The message types (interfaces plus codec
 * objects of the same name), the gRPC service definition for servers and the client
 * constructor for proxies, all generated from proto/trellis/discovery/v1/discovery.proto,
 * telemetry.proto (per-second traffic deltas and live tap, sent on the same stream) and
 * identity.proto (workload certificates from the mesh CA).
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
export { CertifyRequest, CertifyResponse, IdentityClient, IdentityService } from "./generated/trellis/discovery/v1/identity";
export type { IdentityServer } from "./generated/trellis/discovery/v1/identity";
export {
  Direction,
  RequestRow,
  SaturationRow,
  TapControl,
  TapEvent,
  TapEvents,
  TapFilter,
  TapSpec,
  TcpRow,
  TelemetryDelta,
  TelemetryPeer,
  TelemetryRejected,
  TrafficProtocol,
} from "./generated/trellis/discovery/v1/telemetry";

/** The `Snapshot.content_type` of a JSON-encoded `SnapshotSchema` body (@trellis/config). */
export const SNAPSHOT_CONTENT_TYPE = "application/vnd.trellis.snapshot.v1+json";
export { MemoryCertificateProvider } from "./memory-certificate-provider";
/** The wire writer the generated `encode(message, writer)` functions write into (for callers that reuse one). */
export { BinaryWriter } from "@bufbuild/protobuf/wire";
