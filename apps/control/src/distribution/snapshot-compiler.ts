import type { Endpoint, Resource, Snapshot, SnapshotProxy } from "@trellis/config";
import { canonicalJson, sha256Hex } from "./canonical-json";
import { compileGateways } from "./compile-gateways";
import { compileInbound } from "./compile-inbound";
import { compileOutboundHost, hostVariant } from "./compile-outbound-host";
import { copyProxy } from "./compile-snapshot";
import { buildMeshIndex } from "./mesh-index";
import type { MeshIndex } from "./mesh-index";
import { outboundScope } from "./outbound-hosts";
import { encodeSnapshot, outboundJson, snapshotVersion } from "./snapshot-encoding";

/** What snapshots are compiled from. Resources must be immutable per revision (the revision log guarantees it). */
export interface CompileInputs {
  revision: number;
  resources: readonly Resource[];
  endpoints: readonly Endpoint[];
}

/** A compiled snapshot: its version at once, its body only when it is actually sent. */
export interface CompiledSnapshot {
  version: string;
  revision: number;
  /** The canonical JSON body (UTF-8), built on first call. */
  body(): Buffer;
  /** The snapshot as an object (for tests and config dumps). */
  snapshot(): Snapshot;
}

/**
 * Compiles snapshots for many proxies, sharing the work they have in common: the mesh index
 * once per (revision, endpoint set), each outbound host once per variant (callers in its own
 * namespace or elsewhere, and which DestinationPolicy they see), and the
 * outbound part (JSON and digest) once per namespace — or per Service, for Services that
 * restrict egress. Per proxy only the inbound part, the gateways and a small hash remain.
 * Results are identical to compileSnapshot (same versions, same content).
 *
 * Stateful, single-threaded: call update() with the current inputs, then compile() per proxy.
 */
export class SnapshotCompiler {
  private index: MeshIndex | undefined;
  private inputsKey = "";
  private revision = 0;
  /** host → variant (see hostVariant) → canonical JSON of the host entry */
  private hostJson = new Map<string, Map<string, string>>();
  /** scope key → outbound JSON (UTF-8) and its digest */
  private outbound = new Map<string, { json: Buffer; digest: string }>();
  /** Work counters, to verify sharing. */
  readonly stats = { indexBuilds: 0, hostBuilds: 0, outboundBuilds: 0 };

  /** Sets the inputs; returns false (keeping every cache) when revision and endpoint set are unchanged. */
  update(inputs: CompileInputs): boolean {
    const key = `${inputs.revision}:${endpointsDigest(inputs.endpoints)}`;
    if (this.index && key === this.inputsKey) return false;
    this.index = buildMeshIndex(inputs.resources, inputs.endpoints);
    this.stats.indexBuilds++;
    this.inputsKey = key;
    this.revision = inputs.revision;
    this.hostJson.clear();
    this.outbound.clear();
    return true;
  }

  /** The revision of the current inputs. */
  get currentRevision(): number {
    return this.revision;
  }

  compile(proxy: SnapshotProxy): CompiledSnapshot {
    const index = this.index;
    if (!index) throw new Error("SnapshotCompiler.compile called before update(): there are no inputs to compile from");
    const out = this.outboundFor(index, proxy);
    const parts = { proxy: copyProxy(proxy), inbound: compileInbound(index, proxy), gateways: compileGateways(index, proxy) };
    const version = snapshotVersion(parts, out.digest);
    const revision = this.revision;
    let body: Buffer | undefined;
    const getBody = (): Buffer => (body ??= encodeSnapshot(parts, out.json, revision, version));
    return { version, revision, body: getBody, snapshot: () => JSON.parse(getBody().toString("utf8")) as Snapshot };
  }

  private outboundFor(index: MeshIndex, proxy: SnapshotProxy): { json: Buffer; digest: string } {
    const scope = outboundScope(index, proxy);
    const key = scope.kind === "all" ? `${proxy.namespace}|*` : `${proxy.namespace}|${proxy.service}`;
    const cached = this.outbound.get(key);
    if (cached) return cached;
    const names = scope.kind === "all" ? index.hostNames : scope.hosts;
    const json = outboundJson(names.flatMap((h) => this.hostJsonFor(index, h, proxy.namespace) ?? []));
    const entry = { json: Buffer.from(json, "utf8"), digest: sha256Hex(json) };
    this.outbound.set(key, entry);
    this.stats.outboundBuilds++;
    return entry;
  }

  private hostJsonFor(index: MeshIndex, host: string, namespace: string): string | undefined {
    let variants = this.hostJson.get(host);
    if (!variants) this.hostJson.set(host, (variants = new Map()));
    const variant = hostVariant(index, host, namespace);
    let json = variants.get(variant);
    if (json === undefined) {
      const compiled = compileOutboundHost(index, host, namespace);
      if (!compiled) return undefined;
      json = canonicalJson(compiled);
      variants.set(variant, json);
      this.stats.hostBuilds++;
    }
    return json;
  }
}

/** A digest of the endpoint set, independent of the order the registry lists it in. */
export function endpointsDigest(endpoints: readonly Endpoint[]): string {
  const sorted = [...endpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sha256Hex(canonicalJson(sorted));
}
