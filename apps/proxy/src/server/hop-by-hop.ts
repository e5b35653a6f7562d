import type { Headers } from "../core/types";

/**
 * Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus the HTTP/2-forbidden
 * connection-specific ones. A proxy must not forward them; HTTP/2 refuses them outright.
 */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "http2-settings", "host", "expect"]);

/**
 * Copies `raw` without hop-by-hop headers, headers named in `Connection`, pseudo-headers and
 * (when `dropPrefix` is given) headers starting with it — the mesh's own `x-trellis-` headers
 * an application must not be able to forge. `te: trailers` survives: gRPC needs it end to end.
 */
export function forwardableHeaders(raw: Record<string, string | string[] | undefined>, dropPrefix?: string): Headers {
  const out: Headers = {};
  const named = connectionNamed(raw["connection"]);
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined || name.charCodeAt(0) === 58 /* ':' */) continue;
    if (HOP_BY_HOP.has(name)) {
      if (name === "te" && String(value).toLowerCase().includes("trailers")) out["te"] = "trailers";
      continue;
    }
    if (named?.includes(name)) continue;
    if (dropPrefix !== undefined && name.startsWith(dropPrefix)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The header names a `Connection` header lists, or undefined when it lists none besides the
 * hop-by-hop tokens themselves (`keep-alive`, `close`: nearly every message says one of them,
 * and those are dropped anyway).
 */
function connectionNamed(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const s = (typeof v === "string" ? v : v.join(",")).toLowerCase();
  if (s === "keep-alive" || s === "close") return undefined;
  return s.split(",").map((t) => t.trim());
}
