import type { PeerInfo } from "../core/context";

/**
 * Peer metadata exchange between sidecars (Istio's `x-envoy-peer-metadata`): the client proxy
 * says who is calling on the request, the server proxy says who answered on the response, so
 * both report the full source/destination labels. Until mTLS lands the request side is
 * unauthenticated; the outbound edge strips any `x-trellis-` header the app sends, so an app
 * cannot forge it through its own sidecar.
 */
export const PEER_HEADER = "x-trellis-peer";
/** The destination service port, set by the client proxy so the peer's inbound picks the listener. */
export const PORT_HEADER = "x-trellis-port";
/** Prefix of every mesh-internal header. */
export const MESH_HEADER_PREFIX = "x-trellis-";

export function encodePeer(p: PeerInfo): string {
  return `w=${encodeURIComponent(p.workload)};a=${encodeURIComponent(p.app)};v=${encodeURIComponent(p.version)};n=${encodeURIComponent(p.namespace)}`;
}

/** Parses a peer header; anything malformed gives undefined (the caller then reports `unknown`). */
export function decodePeer(v: string | string[] | undefined): PeerInfo | undefined {
  if (typeof v !== "string" || v.length > 1024) return undefined;
  const out: Record<string, string> = {};
  for (const part of v.split(";")) {
    const i = part.indexOf("=");
    if (i <= 0) return undefined;
    try {
      out[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1));
    } catch {
      return undefined;
    }
  }
  const { w, a, v: ver, n } = out;
  if (!w || !a || !ver || !n) return undefined;
  return { workload: w, app: a, version: ver, namespace: n };
}
