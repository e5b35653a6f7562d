import { parseArgs } from "node:util";

export interface Options {
  proxies: number;
  services: number;
  /** Seconds of telemetry measured in the ingest blocks (and as many without, for the peer). */
  seconds: number;
  /** Length of one ingest block, s: blocks with and without telemetry alternate. */
  blockS: number;
  /** Seconds of uninterrupted telemetry before the graph is timed, so the 60 s window is full. */
  fillS: number;
  /** graph.get calls per (kind, window), and graph.watch pushes. */
  calls: number;
  database: "postgres" | "pglite";
  loadProcs: number;
  /** Distinct seconds of deltas each fake proxy encodes up front (they repeat after that). */
  cycle: number;
  /** TRELLIS_TELEMETRY_MEMORY_MB for the control plane; undefined = its default. */
  memoryMb: number | undefined;
  cpRuntime: "bundle" | "tsx";
  cpNodeArgs: string[];
  cpuProfDir: string | undefined;
  quick: boolean;
  json: boolean;
  timeoutMs: number;
}

export const USAGE = `usage: npm run bench:telemetry -- [options]
  --proxies N        fake proxies, one config stream each (default 1000)
  --services S       services in the mesh (default 1000)
  --seconds T        seconds of telemetry measured for ingest, as many without for the peer (default 30)
  --block-s B        ingest blocks with and without telemetry alternate every B s (default 10)
  --fill-s F         uninterrupted telemetry before the graph is timed (default 60: the 60 s window is full;
                     it also runs on past the next minute boundary, where the window's minute slot is measured)
  --calls C          graph.get calls per kind and window, and graph.watch pushes (default 50)
  --database D       postgres (fresh database on 127.0.0.1:5432, dropped at the end) | pglite (default postgres)
  --load-procs K     processes holding the fake proxies (default 2)
  --cycle N          distinct seconds of deltas each fake proxy encodes up front, then repeats (default 60, so a minute slot holds a minute's variety)
  --memory-mb M      the control plane's TRELLIS_TELEMETRY_MEMORY_MB (default: its own, 256)
  --cp-runtime=R     bundle (default: apps/control/dist/main.mjs, built first, as production runs it) or tsx
  --cp-node-args=F   extra node flags for the control plane, space-separated
  --cpu-prof DIR     CPU profile of the control plane into DIR; hot spots per phase are printed
  --quick            smoke run: 200 proxies, 200 services, 6 s, 10 calls; targets not judged
  --timeout-s SEC    overall limit (default 900)
  --json             machine-readable output`;

function int(name: string, v: string | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${v}'\n${USAGE}`);
  return n;
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      proxies: { type: "string" },
      services: { type: "string" },
      seconds: { type: "string" },
      "block-s": { type: "string" },
      "fill-s": { type: "string" },
      calls: { type: "string" },
      database: { type: "string" },
      "load-procs": { type: "string" },
      cycle: { type: "string" },
      "memory-mb": { type: "string" },
      "cp-runtime": { type: "string" },
      "cp-node-args": { type: "string" },
      "cpu-prof": { type: "string" },
      quick: { type: "boolean" },
      json: { type: "boolean" },
      "timeout-s": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const database = values.database ?? "postgres";
  if (database !== "postgres" && database !== "pglite") throw new Error(`--database must be 'postgres' or 'pglite', got '${database}'\n${USAGE}`);
  const runtime = values["cp-runtime"] ?? "bundle";
  if (runtime !== "bundle" && runtime !== "tsx") throw new Error(`--cp-runtime must be 'bundle' or 'tsx', got '${runtime}'\n${USAGE}`);
  const proxies = int("proxies", values.proxies, quick ? 200 : 1000, 1);
  const blockS = int("block-s", values["block-s"], quick ? 3 : 10, 2);
  return {
    proxies,
    services: int("services", values.services, quick ? 200 : 1000, 2),
    seconds: int("seconds", values.seconds, quick ? 6 : 30, blockS),
    blockS,
    fillS: int("fill-s", values["fill-s"], quick ? 5 : 60, 0),
    calls: int("calls", values.calls, quick ? 10 : 50, 1),
    database,
    loadProcs: Math.min(proxies, int("load-procs", values["load-procs"], 2, 1)),
    cycle: int("cycle", values.cycle, 60, 1),
    memoryMb: values["memory-mb"] === undefined ? undefined : int("memory-mb", values["memory-mb"], 256, 8),
    cpRuntime: runtime,
    cpNodeArgs: (values["cp-node-args"] ?? "").split(" ").filter(Boolean),
    cpuProfDir: values["cpu-prof"],
    quick,
    json: values.json ?? false,
    timeoutMs: int("timeout-s", values["timeout-s"], 900, 1) * 1000,
  };
}
