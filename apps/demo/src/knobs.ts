/**
 * Every demo instance's knobs, so that problems can come from the app as well as the mesh:
 * added latency (fixed plus jitter) and a failure rate, from flags or DEMO_* variables.
 */
export interface Knobs {
  /** Added to every answer, ms. */
  latencyMs: number;
  /** Up to this much more, uniformly, ms. */
  jitterMs: number;
  /** Share of requests answered with an error (HTTP 503 / gRPC UNAVAILABLE / TCP "ERR"), 0–1. */
  failureRate: number;
}

export function readKnobs(flags: Map<string, string>, env: NodeJS.ProcessEnv = process.env): Knobs {
  const num = (flag: string, variable: string, def: number, max: number): number => {
    const raw = flags.get(flag) ?? env[variable];
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > max) throw new Error(`--${flag} / ${variable}: expected a number from 0 to ${max}, got '${raw}'`);
    return n;
  };
  return {
    latencyMs: num("latency-ms", "DEMO_LATENCY_MS", 0, 60_000),
    jitterMs: num("jitter-ms", "DEMO_JITTER_MS", 0, 60_000),
    failureRate: num("failure-rate", "DEMO_FAILURE_RATE", 0, 1),
  };
}

/** Waits the configured latency; resolves to true when this request should fail. */
export async function apply(k: Knobs): Promise<boolean> {
  const ms = k.latencyMs + Math.random() * k.jitterMs;
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  return Math.random() < k.failureRate;
}
