import type { Parsed } from "./trace-context";

/**
 * The sampling decision for one request. A decision the caller made (traceparent's sampled
 * flag, B3's sampling state or debug) is always kept, so every hop of a trace agrees and a
 * trace is recorded whole or not at all; only a request without one is sampled here, at the
 * Service's rate. Built per snapshot, so a changed rate takes effect with the next request.
 */
export class Sampler {
  constructor(
    /** Percent of new traces sampled, 0–100. */
    readonly percent: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(percent >= 0 && percent <= 100)) throw new RangeError(`sampling percent must be 0 to 100, got ${percent}`);
  }

  /** Whether a request that brought `parsed` (undefined: no usable context) is sampled. */
  decide(parsed: Parsed | undefined): boolean {
    if (parsed !== undefined && parsed.sampled !== undefined) return parsed.sampled;
    return this.sampleNew();
  }

  /** Whether a new trace started here is sampled. */
  sampleNew(): boolean {
    if (this.percent >= 100) return true;
    return this.percent > 0 && this.random() * 100 < this.percent;
  }
}
