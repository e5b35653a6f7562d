import type { RateLimitSchema } from "@trellis/config";
import { durationMs, compileStringMatch } from "@trellis/config";
import type { z } from "zod";
import { RateLimitedError } from "../core/errors";
import type { RequestContext } from "../core/context";
import type { Layer } from "../core/types";
import { TokenBucket } from "./token-bucket";

/** One limit of a RateLimitPolicy (@trellis/config exports the schema only). */
export type RateLimit = z.infer<typeof RateLimitSchema>;

/** A limit as the snapshot carries it: the limit and the RateLimitPolicy it came from. */
export interface RateLimitEntry {
  limit: RateLimit;
  /** The RateLimitPolicy's resource key. */
  source: string;
}

/** Per-caller buckets kept at most, across every limit (≈ 200 bytes each: about 2 MB by default). */
export const DEFAULT_MAX_CALLER_BUCKETS = 10_000;

/**
 * The token buckets of a proxy's rate limits, kept across config swaps so a new snapshot does
 * not refill them: keyed by (RateLimitPolicy key, limit name or its index in the policy,
 * caller). A bucket whose limit changed its numbers is replaced.
 *
 * Memory is bounded: shared buckets number one per configured limit (plus ones from removed
 * limits until they idle out), and per-caller buckets at most `maxCallerBuckets`. Buckets that
 * would be full again by now are dropped as lookups pass (a full bucket is indistinguishable
 * from a new one, so this changes no decision); beyond the cap the least recently used caller
 * bucket goes even if not full, which lets that caller start over with a full burst.
 * rateLimitLayer sweeps after each admitted request.
 *
 * Safe use: one instance per proxy, handed to every rateLimitLayer built from successive
 * snapshots. No timers: the cap is enforced on lookups, idle eviction on sweeps.
 */
export class RateLimitStore {
  private readonly shared = new Map<string, TokenBucket>();
  private readonly callers = new Map<string, TokenBucket>();
  private readonly maxCallerBuckets: number;
  private readonly now: () => number;

  constructor(opts: { maxCallerBuckets?: number; now?: () => number } = {}) {
    this.maxCallerBuckets = Math.max(1, opts.maxCallerBuckets ?? DEFAULT_MAX_CALLER_BUCKETS);
    this.now = opts.now ?? (() => Date.now());
  }

  /** The bucket for a limit (and caller, for per-caller limits), created full if absent. */
  bucket(limitKey: string, spec: { maxTokens: number; tokensPerFill: number; fillIntervalMs: number }, caller?: string): TokenBucket {
    const map = caller === undefined ? this.shared : this.callers;
    const key = caller === undefined ? limitKey : `${limitKey}\u0000${caller}`;
    let b = map.get(key);
    if (b && (b.maxTokens !== spec.maxTokens || b.tokensPerFill !== spec.tokensPerFill || b.fillIntervalMs !== spec.fillIntervalMs)) b = undefined;
    if (b) map.delete(key); // re-inserted below: Map order is least recently used first
    else b = new TokenBucket(spec.maxTokens, spec.tokensPerFill, spec.fillIntervalMs, this.now);
    map.set(key, b);
    if (map === this.callers && map.size > this.maxCallerBuckets) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    return b;
  }

  /** Buckets held (metrics, tests). */
  get size(): { shared: number; perCaller: number } {
    return { shared: this.shared.size, perCaller: this.callers.size };
  }

  /**
   * Drops up to `max` least recently used buckets of each kind that are full again. Call it
   * after taking tokens, so the buckets just used (no longer full) cannot go.
   */
  sweep(max = 2): void {
    const now = this.now();
    for (const map of [this.shared, this.callers]) {
      for (let i = 0; i < max; i++) {
        const head = map.entries().next();
        if (head.done || head.value[1].fullAt() > now) break;
        map.delete(head.value[0]);
      }
    }
  }
}

/**
 * Local rate limiting (Envoy's local rate limit, per RateLimitPolicy): a request must pass
 * every limit whose match it meets — path (without the query string), method, and route rule
 * name from `ctx.route` — and draws one token from each. Per-caller limits keep a bucket per
 * `callerKey` (principal, else the calling workload, else the source address). If any bucket is empty the request
 * is refused with RateLimitedError (429, flag RL) and takes no token from the others.
 */
export function rateLimitLayer(limits: readonly RateLimitEntry[], store: RateLimitStore): Layer {
  if (limits.length === 0) return (next) => next;
  const perSource = new Map<string, number>();
  const compiled = limits.map(({ limit, source }) => {
    const index = perSource.get(source) ?? 0;
    perSource.set(source, index + 1);
    const path = limit.match?.path ? compileStringMatch(limit.match.path) : undefined;
    return {
      key: `${source}\u0000${limit.name ?? `#${index}`}`,
      path,
      method: limit.match?.method,
      route: limit.match?.route,
      perCaller: limit.perCaller,
      spec: { maxTokens: limit.bucket.maxTokens, tokensPerFill: limit.bucket.tokensPerFill, fillIntervalMs: durationMs(limit.bucket.fillInterval) },
    };
  });
  return (next) => (req, ctx, signal) => {
    const q = req.path.indexOf("?");
    const path = q === -1 ? req.path : req.path.slice(0, q);
    const buckets: TokenBucket[] = [];
    for (const l of compiled) {
      if (l.method !== undefined && l.method !== req.method) continue;
      if (l.route !== undefined && l.route !== ctx.route?.name) continue;
      if (l.path && !l.path(path)) continue;
      const bucket = store.bucket(l.key, l.spec, l.perCaller ? callerKey(ctx) : undefined);
      if (bucket.tokens < 1) return Promise.reject(new RateLimitedError("local rate limit exceeded"));
      buckets.push(bucket);
    }
    for (const b of buckets) b.tryTake();
    store.sweep();
    return next(req, ctx, signal);
  };
}

/**
 * Who a per-caller bucket belongs to: the mTLS principal once proven, else the calling
 * workload its sidecar named, else the source address (a caller outside the mesh).
 */
function callerKey(ctx: RequestContext): string {
  if (ctx.peerPrincipal) return ctx.peerPrincipal;
  if (ctx.source.workload !== "unknown") return `${ctx.source.namespace}/${ctx.source.workload}`;
  return ctx.downstreamAddress;
}
