/**
 * A token bucket as Envoy's local rate limit keeps one: it starts full with `maxTokens`, and
 * every `fillIntervalMs` `tokensPerFill` tokens are added (in whole intervals, capped at
 * `maxTokens`). Refills are computed lazily from the clock on each call, so a bucket costs no
 * timer and idle buckets cost nothing but their memory.
 *
 * Safe use: single-threaded like the rest of the proxy; keep buckets across config swaps in a
 * RateLimitStore rather than rebuilding them, or every swap would refill every caller.
 */
export class TokenBucket {
  private available: number;
  private lastFill: number;
  /** Clock time of the last `tryTake` (idle eviction). */
  lastUsed: number;

  constructor(
    readonly maxTokens: number,
    readonly tokensPerFill: number,
    readonly fillIntervalMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    if (!(maxTokens >= 1 && tokensPerFill >= 1 && fillIntervalMs > 0)) {
      throw new Error(`token bucket needs maxTokens ≥ 1, tokensPerFill ≥ 1 and fillInterval > 0 (got ${maxTokens}, ${tokensPerFill}, ${fillIntervalMs} ms)`);
    }
    this.available = maxTokens;
    this.lastFill = this.lastUsed = now();
  }

  /** Tokens available now. */
  get tokens(): number {
    this.refill();
    return this.available;
  }

  /** Takes `n` tokens if that many are available. */
  tryTake(n = 1): boolean {
    this.refill();
    this.lastUsed = this.now();
    if (this.available < n) return false;
    this.available -= n;
    return true;
  }

  /** When the bucket will be full again if nobody takes from it (eviction: a full bucket is as good as a new one). */
  fullAt(): number {
    this.refill();
    if (this.available >= this.maxTokens) return this.lastFill;
    const fills = Math.ceil((this.maxTokens - this.available) / this.tokensPerFill);
    return this.lastFill + fills * this.fillIntervalMs;
  }

  private refill(): void {
    const now = this.now();
    const fills = Math.floor((now - this.lastFill) / this.fillIntervalMs);
    if (fills <= 0) return;
    this.lastFill += fills * this.fillIntervalMs;
    this.available = Math.min(this.maxTokens, this.available + fills * this.tokensPerFill);
  }
}
