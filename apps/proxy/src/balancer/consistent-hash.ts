import type { ProxyRequest } from "../core/types";
import type { EndpointState } from "./endpoint-state";
import type { LoadBalancer } from "./load-balancer";
import { weightedIndex } from "./random";

/** Ring points per unit of weight. */
export const POINTS_PER_WEIGHT = 100;
/** Ring size cap: beyond it every endpoint's points are scaled down alike. */
export const MAX_RING_POINTS = 1 << 16;

interface Ring {
  /** Endpoints the ring was built from, in the order given (cache check). */
  members: readonly EndpointState[];
  weights: number[];
  hashes: Uint32Array;
  owners: EndpointState[];
}

/**
 * Consistent hashing on a request header (Envoy's ring hash): every endpoint owns
 * POINTS_PER_WEIGHT × weight points on a 32-bit ring, placed by hashing `address:port#i`, and a
 * request goes to the owner of the first point at or after the hash of its header value. The
 * same value keeps reaching the same endpoint, and when an endpoint leaves (or is ejected)
 * only the values it owned move; the others stay put. Without the header, a weighted random
 * endpoint (Envoy falls back likewise); a repeated header hashes its values joined with ",".
 *
 * State: the ring of the last endpoint list, rebuilt only when the list (members or weights)
 * changes; the check is O(n) per pick, a lookup O(log points).
 */
export class ConsistentHashBalancer implements LoadBalancer {
  private ring: Ring | undefined;

  constructor(
    private readonly header: string,
    private readonly random: () => number = Math.random,
  ) {}

  pick(endpoints: readonly EndpointState[], req: ProxyRequest): EndpointState | undefined {
    if (endpoints.length <= 1) return endpoints[0];
    const raw = req.headers[this.header];
    if (raw === undefined) return endpoints[weightedIndex(endpoints, this.random)];
    const value = Array.isArray(raw) ? raw.join(",") : raw;
    const ring = this.ringFor(endpoints);
    const h = hash32(value);
    let lo = 0;
    let hi = ring.hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ring.hashes[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return ring.owners[lo === ring.hashes.length ? 0 : lo];
  }

  private ringFor(endpoints: readonly EndpointState[]): Ring {
    const r = this.ring;
    if (r && r.members.length === endpoints.length && endpoints.every((e, i) => r.members[i] === e && r.weights[i] === e.weight)) return r;
    this.ring = buildRing(endpoints);
    return this.ring;
  }
}

function buildRing(endpoints: readonly EndpointState[]): Ring {
  const totalWeight = endpoints.reduce((n, e) => n + e.weight, 0);
  const scale = Math.min(1, MAX_RING_POINTS / (totalWeight * POINTS_PER_WEIGHT));
  const points: { hash: number; owner: EndpointState; tie: string }[] = [];
  for (const e of endpoints) {
    const n = Math.max(1, Math.round(e.weight * POINTS_PER_WEIGHT * scale));
    for (let i = 0; i < n; i++) points.push({ hash: hash32(`${e.key}#${i}`), owner: e, tie: e.key });
  }
  // Ties broken by key so that the ring does not depend on the order endpoints were listed in.
  points.sort((a, b) => a.hash - b.hash || (a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0));
  return {
    members: [...endpoints],
    weights: endpoints.map((e) => e.weight),
    hashes: Uint32Array.from(points, (p) => p.hash),
    owners: points.map((p) => p.owner),
  };
}

/** FNV-1a over UTF-16 code units, finished with murmur3's avalanche so similar strings spread evenly. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
