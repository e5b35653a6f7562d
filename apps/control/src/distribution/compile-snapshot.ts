import { DEFAULT_TRACE_SAMPLING_PERCENT } from "@trellis/config";
import type { Endpoint, Resource, Snapshot, SnapshotProxy, SnapshotTracing, SnapshotTrust } from "@trellis/config";
import { canonicalJson, sha256Hex } from "./canonical-json";
import { compileGateways } from "./compile-gateways";
import { compileInbound } from "./compile-inbound";
import { compileOutboundHost } from "./compile-outbound-host";
import { buildMeshIndex } from "./mesh-index";
import type { MeshIndex } from "./mesh-index";
import { outboundScope } from "./outbound-hosts";
import { outboundJson, snapshotVersion } from "./snapshot-encoding";

/**
 * Compiles the snapshot one proxy receives: only what it needs (policies selecting its
 * workload, the outbound hosts its Service may call, the Gateways it runs). A pure function of
 * its arguments: no clock, no randomness, no I/O; equal inputs give an equal snapshot and
 * version. For many proxies at once use SnapshotCompiler, which shares the common parts.
 */
export function compileSnapshot(resources: readonly Resource[], endpoints: readonly Endpoint[], proxy: SnapshotProxy, revision: number, trust?: SnapshotTrust): Snapshot {
  return compileFromIndex(buildMeshIndex(resources, endpoints), proxy, revision, trust);
}

/** compileSnapshot over an index built beforehand. */
export function compileFromIndex(index: MeshIndex, proxy: SnapshotProxy, revision: number, trust?: SnapshotTrust): Snapshot {
  const scope = outboundScope(index, proxy);
  const names = scope.kind === "all" ? index.hostNames : scope.hosts;
  const hosts = names.flatMap((h) => compileOutboundHost(index, h, proxy.namespace) ?? []);
  const parts = { proxy: copyProxy(proxy), inbound: compileInbound(index, proxy), gateways: compileGateways(index, proxy), tracing: compileTracing(index, proxy), trust };
  const version = snapshotVersion(parts, sha256Hex(outboundJson(hosts.map(canonicalJson))));
  return { version, revision, proxy: parts.proxy, inbound: parts.inbound, outbound: { hosts }, gateways: parts.gateways, tracing: parts.tracing, ...(trust ? { trust } : {}) };
}

/** The proxy's own Service's trace sampling (the default rate for a workload whose Service is not defined). */
export function compileTracing(index: MeshIndex, proxy: SnapshotProxy): SnapshotTracing {
  const target = index.targets.get(`${proxy.service}.${proxy.namespace}`);
  const percent = target?.kind === "service" ? target.service.spec.traceSampling : undefined;
  return { samplingPercent: percent ?? DEFAULT_TRACE_SAMPLING_PERCENT };
}

/** Only the identity fields, so extra properties on the argument never leak into the snapshot. */
export function copyProxy(p: SnapshotProxy): SnapshotProxy {
  return { id: p.id, service: p.service, namespace: p.namespace, labels: { ...p.labels } };
}
