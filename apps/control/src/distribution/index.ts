/**
 * distribution/: compiles per-proxy snapshots and streams them over the ConfigDiscovery gRPC
 * service. The app constructs a ConfigDiscoveryServer with its Postgres-backed ConfigSource,
 * EndpointRegistry and SyncStatusSink, listens, and calls notifyChanged() on every change.
 */
export { ConfigDiscoveryServer } from "./config-discovery-server";
export type { ConfigDiscoveryServerOptions } from "./config-discovery-server";
export { compileSnapshot } from "./compile-snapshot";
export { SnapshotCompiler } from "./snapshot-compiler";
export type { CompileInputs, CompiledSnapshot } from "./snapshot-compiler";
export { PushCoalescer } from "./push-coalescer";
export type { PushCoalescerOptions } from "./push-coalescer";
export type { ConfigSource, EndpointRegistry, ProxySyncStatus, SyncState, SyncStatusSink } from "./ports";
