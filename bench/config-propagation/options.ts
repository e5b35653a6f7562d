import { parseArgs } from "node:util";
import { controlPlaneMallocEnv, findJemalloc } from "../../apps/control/src/allocator";

export interface Options {
  proxies: number;
  services: number;
  writes: number;
  database: "postgres" | "pglite";
  fleetProcs: number;
  json: boolean;
  /** Pause between two measured changes, ms. */
  pauseMs: number;
  /** Whole-run limit, ms; also bounds the connect phases. */
  timeoutMs: number;
  /** When set, the control plane writes a V8 CPU profile there (--cpu-prof). */
  cpuProfDir: string | undefined;
  /** Extra node flags for the control plane (experiments such as --max-semi-space-size=4). */
  cpNodeArgs: string[];
  /** bundle: the production build (apps/control/dist, plain JS); tsx: the TypeScript sources through tsx. */
  cpRuntime: "bundle" | "tsx";
  /** Skip the floor peer (for profiling runs only; ratios are then absent). */
  noFloor: boolean;
  /** The control plane's and the floor's malloc: jemalloc as production runs it (allocator.ts), or the system's. */
  malloc: "jemalloc" | "system";
}

export const USAGE = `usage: npm run bench:config-propagation -- [options]
  --proxies N        fake proxies (default 1000)
  --services S       services in the mesh (default 1000)
  --writes W         measured edits of svc-0's route (default 20)
  --database D       postgres (fresh database on 127.0.0.1:5432, dropped at the end) | pglite (default postgres)
  --fleet-procs K    processes holding the fake proxies (default 1 up to 2000 proxies, then one per 2000)
  --pause-ms MS      pause between edits (default 300)
  --timeout-s SEC    overall limit (default 600)
  --cpu-prof DIR     write a CPU profile of the control plane into DIR
  --cp-runtime=R     bundle (default: apps/control/dist/main.mjs, built first, as production runs it) or tsx (the sources)
  --cp-node-args=F   extra node flags for the control plane, space-separated (e.g. --cp-node-args='--max-semi-space-size=4')
  --malloc M         jemalloc (default: as production, apps/control/src/allocator.ts; needs Debian's libjemalloc2) or system
  --no-floor         skip the transport-floor peer
  --json             machine-readable output`;

function int(name: string, v: string | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${v}'\n${USAGE}`);
  return n;
}

function runtime(v: string | undefined): "bundle" | "tsx" {
  if (v === undefined || v === "bundle" || v === "tsx") return v ?? "bundle";
  throw new Error(`--cp-runtime must be 'bundle' or 'tsx', got '${v}'\n${USAGE}`);
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      proxies: { type: "string" },
      services: { type: "string" },
      writes: { type: "string" },
      database: { type: "string" },
      "fleet-procs": { type: "string" },
      "pause-ms": { type: "string" },
      "timeout-s": { type: "string" },
      "cpu-prof": { type: "string" },
      "cp-node-args": { type: "string" },
      "cp-runtime": { type: "string" },
      "no-floor": { type: "boolean" },
      malloc: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const proxies = int("proxies", values.proxies, 1000, 1);
  const malloc = values.malloc ?? "jemalloc";
  if (malloc !== "jemalloc" && malloc !== "system") throw new Error(`--malloc must be 'jemalloc' or 'system', got '${malloc}'\n${USAGE}`);
  if (malloc === "jemalloc" && !findJemalloc()) throw new Error(`--malloc jemalloc: libjemalloc.so.2 not found; apt-get install -y libjemalloc2, or run with --malloc system\n${USAGE}`);
  const database = values.database ?? "postgres";
  if (database !== "postgres" && database !== "pglite") throw new Error(`--database must be 'postgres' or 'pglite', got '${database}'\n${USAGE}`);
  return {
    proxies,
    services: int("services", values.services, 1000, 1),
    writes: int("writes", values.writes, 20, 1),
    database,
    fleetProcs: Math.min(proxies, int("fleet-procs", values["fleet-procs"], Math.max(1, Math.ceil(proxies / 2000)), 1)),
    json: values.json ?? false,
    pauseMs: int("pause-ms", values["pause-ms"], 300, 0),
    timeoutMs: int("timeout-s", values["timeout-s"], 600, 1) * 1000,
    cpuProfDir: values["cpu-prof"],
    cpNodeArgs: (values["cp-node-args"] ?? "").split(" ").filter(Boolean),
    cpRuntime: runtime(values["cp-runtime"]),
    noFloor: values["no-floor"] ?? false,
    malloc,
  };
}

/** The environment that gives a server under test the run's malloc (LD_PRELOAD emptied for the system's). */
export function mallocEnv(o: Options): Record<string, string> {
  return o.malloc === "jemalloc" ? controlPlaneMallocEnv() : { LD_PRELOAD: "" };
}
