import type { Inbound, SnapshotGateway, SnapshotProxy, SnapshotTracing, SnapshotTrust } from "@trellis/config";
import { canonicalJson, sha256Hex } from "./canonical-json";

/**
 * How a snapshot becomes a version and a body, shared by compileSnapshot and SnapshotCompiler
 * so both give byte-identical results.
 *
 * version = first 16 hex digits of sha256(canonicalJson({ gateways, inbound, outbound: D, proxy, tracing, trust? }))
 * where D = sha256 of the canonical JSON of `outbound`. Hashing the outbound part by its digest
 * (a Merkle step) lets the compiler hash the large part shared by many proxies once, not once
 * per proxy. `revision` is left out, so a revision that does not touch a proxy's configuration
 * leaves its version unchanged and nothing is pushed to it.
 */

/** The per-proxy parts of a snapshot (the outbound part is passed as canonical JSON). */
export interface SnapshotParts {
  proxy: SnapshotProxy;
  inbound: Inbound;
  gateways: SnapshotGateway[];
  tracing: SnapshotTracing;
  /** Absent when the control plane runs no CA (the key is then left out of version and body). */
  trust?: SnapshotTrust | undefined;
}

/** Canonical JSON of `{ hosts }` from the canonical JSON of each host, in order. */
export function outboundJson(hostJsons: readonly string[]): string {
  return `{"hosts":[${hostJsons.join(",")}]}`;
}

/** The canonical JSON of each per-proxy part, encoded once for both the version and the body. */
export interface EncodedParts {
  gateways: string;
  inbound: string;
  proxy: string;
  tracing: string;
  /** `,"trust":{…}` or empty: the key sorts after "tracing", and an absent trust leaves no key. */
  trust: string;
}

export function encodeParts(parts: SnapshotParts): EncodedParts {
  return { gateways: canonicalJson(parts.gateways), inbound: canonicalJson(parts.inbound), proxy: canonicalJson(parts.proxy), tracing: canonicalJson(parts.tracing), trust: parts.trust ? `,"trust":${canonicalJson(parts.trust)}` : "" };
}

/** The snapshot version; see the module comment. */
export function snapshotVersion(parts: SnapshotParts, outboundDigest: string): string {
  return encodedVersion(encodeParts(parts), outboundDigest);
}

/**
 * snapshotVersion from parts encoded beforehand: the hashed text is canonicalJson({ gateways,
 * inbound, outbound, proxy, tracing }), written out from each part's canonical JSON in sorted key order.
 */
export function encodedVersion(e: EncodedParts, outboundDigest: string): string {
  return sha256Hex(`{"gateways":${e.gateways},"inbound":${e.inbound},"outbound":${JSON.stringify(outboundDigest)},"proxy":${e.proxy},"tracing":${e.tracing}${e.trust}}`).slice(0, 16);
}

/**
 * The canonical JSON body of the whole snapshot (keys sorted), as UTF-8 chunks: the per-proxy
 * head, the outbound part as already-encoded bytes (shared by many proxies, encoded once), and
 * the per-proxy tail. Their concatenation is the body; the config stream writes them straight
 * into its frame (service-definition.ts) without joining them first.
 */
export function encodeSnapshotChunks(e: EncodedParts, outbound: Buffer, revision: number, version: string): [Buffer, Buffer, Buffer] {
  const head = `{"gateways":${e.gateways},"inbound":${e.inbound},"outbound":`;
  const tail = `,"proxy":${e.proxy},"revision":${canonicalJson(revision)},"tracing":${e.tracing}${e.trust},"version":${JSON.stringify(version)}}`;
  return [Buffer.from(head, "utf8"), outbound, Buffer.from(tail, "utf8")];
}
