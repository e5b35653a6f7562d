import { runTimed } from "./children";

/** Saturation throughput over HTTP/2 (h2c with prior knowledge) with h2load, one thread. */

export interface H2loadResult {
  requests: number;
  durationS: number;
  rps: number;
  /** Requests that failed, errored or timed out, plus non-2xx answers. */
  errors: number;
  loadToolCpuS: number;
}

/** Reads h2load's report. Throws when the figures are missing. */
export function parseH2load(out: string): Omit<H2loadResult, "loadToolCpuS"> {
  const fin = /finished in ([\d.]+)(ms|s), ([\d.]+) req\/s/.exec(out);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!fin || !req) throw new Error(`unexpected h2load output:\n${out}`);
  const non2xx = codes ? Number(codes[2]) + Number(codes[3]) + Number(codes[4]) : 0;
  return {
    requests: Number(req[4]),
    durationS: Number(fin[1]) / (fin[2] === "ms" ? 1000 : 1),
    rps: Number(fin[3]),
    errors: Number(req[5]) + Number(req[6]) + Number(req[7]) + non2xx,
  };
}

/** `h2load -t1 -c<connections> -m<streams> -D<seconds>` (h2c prior knowledge) with `:authority` set. */
export async function runH2load(port: number, authority: string, connections: number, streams: number, seconds: number): Promise<H2loadResult> {
  const args = ["-t1", `-c${connections}`, `-m${streams}`, `-D${seconds}`, "-H", `:authority: ${authority}`, `http://127.0.0.1:${port}/`];
  const r = await runTimed("h2load", "h2load", args, (seconds + 30) * 1000);
  return { ...parseH2load(r.stdout), loadToolCpuS: r.cpuS };
}
