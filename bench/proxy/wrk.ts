import { runTimed } from "./children";

/** Saturation throughput over HTTP/1.1 keep-alive with wrk (one thread: the load tool's share of the 2 cores stays small). */

export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  /** wrk's latency distribution, ms (closed loop: latency at saturation, not at a given rate). */
  latencyMs: { p50: number; p90: number; p99: number };
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  errors: number;
  /** CPU seconds wrk itself used. */
  loadToolCpuS: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : Number.NaN;
}

/** Reads wrk's report (run with --latency). Throws when the figures are missing. */
export function parseWrk(out: string): Omit<WrkResult, "loadToolCpuS"> {
  const total = /(\d+) requests in ([\d.]+(?:us|ms|s|m|h)),/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!total || !rps) throw new Error(`unexpected wrk output:\n${out}`);
  const pct = (p: number) => {
    const m = new RegExp(`^\\s+${p}(?:\\.000)?%\\s+([\\d.]+(?:us|ms|s|m|h))\\s*$`, "m").exec(out);
    return m ? durationMs(m[1]!) : Number.NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((s, v) => s + Number(v), 0) : 0;
  return {
    requests: Number(total[1]),
    durationS: durationMs(total[2]!) / 1000,
    rps: Number(rps[1]),
    latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99) },
    errors: non2xx + socketErrors,
  };
}

/** `wrk -t1 -c<connections> -d<seconds>s --latency` against http://127.0.0.1:<port>/ with a Host header. */
export async function runWrk(port: number, authority: string, connections: number, seconds: number): Promise<WrkResult> {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-H", `Host: ${authority}`, `http://127.0.0.1:${port}/`];
  const r = await runTimed("wrk", "wrk", args, (seconds + 30) * 1000);
  return { ...parseWrk(r.stdout), loadToolCpuS: r.cpuS };
}
