import v8 from "node:v8";

/**
 * How the control plane's V8 heap is sized. V8's defaults are tuned for throughput: a young
 * generation of two 16 MB semi-spaces, and an old generation allowed to grow to up to 4× what
 * the last full GC left alive. A control plane that holds config only keeps a small heap (~70 MB
 * live at 1000 services) and allocates mostly short-lived data (snapshot compilation, protobuf
 * and JSON encoding), so at 2000 proxies that head-room, and the malloc'd memory that churns with
 * it, made its RSS 495 MB (bench/config-propagation). A control plane that also holds a large
 * mesh's live telemetry has a heap of hundreds of MB, where a tight old generation means a full
 * GC every few graph builds: graph.get p95 went from 65 to 190 ms at 1000 services
 * (bench/telemetry). So:
 *
 * - The young generation is fixed when the isolate is created, so it is a launch flag:
 *   CONTROL_PLANE_NODE_FLAGS (8 MB semi-spaces), which the Dockerfile, docker-compose.yml, the
 *   demo and the tests start the control plane with (NODE_OPTIONS accepts it too).
 * - The old generation's growth factor is read at every GC, so the control plane sets it
 *   itself, by how much memory is in use (V8 heap plus external, where the telemetry window
 *   lives): TRELLIS_HEAP_GROWTH_PERCENT (default 25 %) below LARGE_HEAP_MB, V8's adaptive
 *   factor above (back to tight below SMALL_HEAP_MB). 0 keeps V8's factor throughout. The
 *   telemetry window has a budget of its own (TRELLIS_TELEMETRY_MEMORY_MB).
 * - Buffer's shared slab goes back to Node 20's 8 KB (Node 24 made it 64 KB): a slab lives until
 *   the last buffer cut from it is collected, and a push to 2000 proxies cuts thousands of
 *   short-lived frames, so 64 KB slabs left 30 MB more of dead bytes between collections.
 */
export const CONTROL_PLANE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];

/**
 * Above this much in use (heap plus external memory: the live telemetry window is typed arrays),
 * V8's own growth factor; below SMALL_HEAP_MB, the tight one again.
 */
export const LARGE_HEAP_MB = 192;
export const SMALL_HEAP_MB = 128;
/** How often the heap's size is checked. */
const CHECK_EVERY_MS = 2000;

/** TRELLIS_HEAP_GROWTH_PERCENT's default (env.ts). */
export const DEFAULT_HEAP_GROWTH_PERCENT = 25;

/** Node 20's Buffer.poolSize; see the module comment. */
export const BUFFER_POOL_BYTES = 8 * 1024;

export interface HeapTuning {
  growthPercent: number;
  /** CONTROL_PLANE_NODE_FLAGS missing from the command line and NODE_OPTIONS. */
  missingFlags: string[];
  /** Stops following the heap's size (the process exits anyway; tests call it). */
  stop(): void;
}

/**
 * The growth factor for a heap with `usedMb` in use, given the one in force (`tight` = the
 * configured percent, `adaptive` = V8's): hysteresis between SMALL_HEAP_MB and LARGE_HEAP_MB.
 */
export function growthMode(usedMb: number, current: "tight" | "adaptive"): "tight" | "adaptive" {
  if (current === "tight") return usedMb > LARGE_HEAP_MB ? "adaptive" : "tight";
  return usedMb < SMALL_HEAP_MB ? "tight" : "adaptive";
}

/**
 * Applies the Buffer slab size and the old generation's growth (and keeps it following the
 * heap's size); reports which launch flags are missing.
 */
export function tuneHeap(growthPercent: number, execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ""): HeapTuning {
  if (!Number.isInteger(growthPercent) || growthPercent < 0) throw new Error(`TRELLIS_HEAP_GROWTH_PERCENT: must be an integer ≥ 0, got ${growthPercent}`);
  Buffer.poolSize = BUFFER_POOL_BYTES;
  let timer: NodeJS.Timeout | undefined;
  if (growthPercent > 0) {
    let mode: "tight" | "adaptive" = "tight";
    v8.setFlagsFromString(`--heap-growing-percent=${growthPercent}`);
    timer = setInterval(() => {
      const m = process.memoryUsage();
      const next = growthMode((m.heapUsed + m.external) / 2 ** 20, mode);
      if (next === mode) return;
      mode = next;
      // 0 = V8's own factor (heap_growing_percent only applies when above 0).
      v8.setFlagsFromString(`--heap-growing-percent=${mode === "tight" ? growthPercent : 0}`);
    }, CHECK_EVERY_MS);
    timer.unref();
  }
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map((f) => f.split("=")[0]!.replaceAll("_", "-")));
  const missingFlags = CONTROL_PLANE_NODE_FLAGS.filter((f) => !given.has(f.split("=")[0]!));
  return { growthPercent, missingFlags, stop: () => clearInterval(timer) };
}
