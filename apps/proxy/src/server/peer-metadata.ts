import type { PeerInfo } from "../core/context";

/**
 * Peer metadata exchange between sidecars (Istio's `x-envoy-peer-metadata`): the client proxy
 * says who is calling on the request, the server proxy says who answered on the response, so
 * both report the full source/destination labels. It is telemetry, not identity: who the
 * caller is for policy comes from its mTLS certificate (ctx.peerPrincipal). The outbound edge
 * strips any `x-trellis-` header the app sends, so an app cannot forge it through its own
 * sidecar.
 */
export const PEER_HEADER = "x-trellis-peer";
/** The destination service port, set by the client proxy so the peer's inbound picks the listener. */
export const PORT_HEADER = "x-trellis-port";
/** Prefix of every mesh-internal header. */
export const MESH_HEADER_PREFIX = "x-trellis-";

// A proxy sends the same few identities on every request: encode each once.
const encoded = new WeakMap<PeerInfo, string>();

export function encodePeer(p: PeerInfo): string {
  let e = encoded.get(p);
  if (e === undefined) {
    e = `w=${encodeURIComponent(p.workload)};a=${encodeURIComponent(p.app)};v=${encodeURIComponent(p.version)};n=${encodeURIComponent(p.namespace)}`;
    encoded.set(p, e);
  }
  return e;
}

/** Parsed headers by value: a sidecar hears from a bounded set of peers, so most lookups hit. */
const decoded = new Map<string, PeerInfo>();
const MAX_DECODED = 1024;

/** Parses a peer header; anything malformed gives undefined (the caller then reports `unknown`). The result is frozen and shared. */
export function decodePeer(v: string | string[] | undefined): PeerInfo | undefined {
  if (typeof v !== "string" || v.length > 1024) return undefined;
  const hit = decoded.get(v);
  if (hit !== undefined) return hit;
  const peer = parsePeer(v);
  if (peer) {
    if (decoded.size >= MAX_DECODED) decoded.clear();
    decoded.set(v, peer);
  }
  return peer;
}

function parsePeer(v: string): PeerInfo | undefined {
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
  return Object.freeze({ workload: w, app: a, version: ver, namespace: n });
}
