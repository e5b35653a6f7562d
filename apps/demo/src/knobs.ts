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

/**
 * Follows a JSON file of knobs (`{"failureRate": 0.5, "latencyMs": 200}`): read every second
 * while it exists, its fields replacing the running instance's, so problems can be switched on
 * and off without a restart (the demo gives every instance `<data dir>/knobs/<workload>.json`).
 * A bad file is reported once per change and ignored. Returns a stop function.
 */
const FLAG: Record<keyof Knobs, string> = { latencyMs: "latency-ms", jitterMs: "jitter-ms", failureRate: "failure-rate" };

export function followKnobsFile(file: string, knobs: Knobs, readFile: (f: string) => string | undefined, report: (message: string) => void): () => void {
  const initial = { ...knobs };
  let last: string | undefined;
  const timer = setInterval(() => {
    const text = readFile(file);
    if (text === last) return;
    last = text;
    if (text === undefined) {
      Object.assign(knobs, initial);
      report(`knobs file ${file} gone: back to ${JSON.stringify(initial)}`);
      return;
    }
    try {
      const obj = JSON.parse(text) as unknown;
      if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new Error("must be a JSON object");
      const keys = Object.keys(obj);
      const unknown = keys.filter((k) => !(k in FLAG));
      if (unknown.length) throw new Error(`unknown knob ${unknown.join(", ")}: use ${Object.keys(FLAG).join(", ")}`);
      const next = readKnobs(new Map(keys.map((k) => [FLAG[k as keyof Knobs], String((obj as Record<string, unknown>)[k])])), {});
      Object.assign(knobs, initial, Object.fromEntries(keys.map((k) => [k, next[k as keyof Knobs]])));
      report(`knobs now ${JSON.stringify(knobs)}`);
    } catch (err) {
      report(`knobs file ${file} ignored: ${(err as Error).message}`);
    }
  }, 1000);
  timer.unref();
  return () => clearInterval(timer);
}
