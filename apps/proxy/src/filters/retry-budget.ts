/**
 * A retry budget in Linkerd's manner: retries may add at most a percentage of extra load over
 * the original requests, measured over a sliding window, with a floor so that quiet routes can
 * still retry. Retries are allowed while
 *
 *   retries in the window (counting this one) ≤ max(minRetriesPerSecond × window seconds,
 *                                                   percent % of requests in the window)
 *
 * so a failing upstream gets at most `percent`% more traffic from retries, instead of the
 * (attempts + 1)× amplification fixed retry counts give during an outage.
 *
 * Safe use: one instance per route, created by whoever builds routers and kept across config
 * swaps (look it up by route key), so a swap does not hand out a fresh allowance. The percentage
 * comes with each call from the current policy, so a changed budgetPercent takes effect at
 * once. Memory is fixed: one counter pair per second of the window.
 */
export interface RetryBudgetOptions {
  /** Floor of the allowance, in retries per second (Linkerd's default 10). */
  minRetriesPerSecond?: number;
  /** Length of the sliding window in seconds (Linkerd's default 10). */
  windowSeconds?: number;
  now?: () => number;
}

export class RetryBudget {
  private readonly minPerSecond: number;
  private readonly window: number;
  private readonly now: () => number;
  /** Per second slot: the epoch second it holds, requests and retries counted in it. */
  private readonly slotSecond: number[];
  private readonly requests: number[];
  private readonly retries: number[];

  constructor(opts: RetryBudgetOptions = {}) {
    this.minPerSecond = opts.minRetriesPerSecond ?? 10;
    this.window = Math.max(1, Math.floor(opts.windowSeconds ?? 10));
    this.now = opts.now ?? (() => Date.now());
    this.slotSecond = new Array<number>(this.window).fill(-Infinity);
    this.requests = new Array<number>(this.window).fill(0);
    this.retries = new Array<number>(this.window).fill(0);
  }

  /** Counts one original request (not a retry). */
  recordRequest(): void {
    this.requests[this.slot()]!++;
  }

  /** Withdraws one retry if the budget allows it at `percent` (0–100); false: do not retry. */
  tryRetry(percent: number): boolean {
    const slot = this.slot();
    const { requests, retries } = this.totals();
    const allowance = Math.max(this.minPerSecond * this.window, (percent / 100) * requests);
    if (retries + 1 > allowance) return false;
    this.retries[slot]!++;
    return true;
  }

  /** Requests and retries in the window (metrics, admin). */
  totals(): { requests: number; retries: number } {
    const second = Math.floor(this.now() / 1000);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < this.window; i++) {
      if (this.slotSecond[i]! > second - this.window) {
        requests += this.requests[i]!;
        retries += this.retries[i]!;
      }
    }
    return { requests, retries };
  }

  /** The slot of the current second, cleared if it still holds an older second. */
  private slot(): number {
    const second = Math.floor(this.now() / 1000);
    const i = ((second % this.window) + this.window) % this.window;
    if (this.slotSecond[i] !== second) {
      this.slotSecond[i] = second;
      this.requests[i] = 0;
      this.retries[i] = 0;
    }
    return i;
  }
}
