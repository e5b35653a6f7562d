import v8 from "node:v8";

/**
 * How the control plane's V8 heap is sized. V8's defaults are tuned for throughput: a young
 * generation of two 16 MB semi-spaces, and an old generation allowed to grow to up to 4× what
 * the last full GC left alive. Most of what the control plane allocates is short-lived
 * (snapshot compilation, protobuf and JSON encoding), so at 2000 proxies that head-room, and the
 * malloc'd memory that churns with it, more than doubles the RSS: 495 MB peak against 275 MB with
 * the settings below, for about a quarter more CPU per push (bench/config-propagation).
 *
 * - The young generation is fixed when the isolate is created, so it is a launch flag:
 *   CONTROL_PLANE_NODE_FLAGS, which the Dockerfile, docker-compose.yml, the demo and the tests
 *   start the control plane with (NODE_OPTIONS accepts it too).
 * - The old generation's growth factor is read at every GC, so the control plane sets it itself
 *   (TRELLIS_HEAP_GROWTH_PERCENT, default 25 %; 0 keeps V8's adaptive factor).
 * - Buffer's shared slab goes back to Node 20's 8 KB (Node 24 made it 64 KB): a slab lives until
 *   the last buffer cut from it is collected, and a push to 2000 proxies cuts thousands of
 *   short-lived frames, so 64 KB slabs left 30 MB more of dead bytes between collections.
 */
export const CONTROL_PLANE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=2"];

export interface HeapTuning {
  growthPercent: number;
  /** CONTROL_PLANE_NODE_FLAGS missing from the command line and NODE_OPTIONS. */
  missingFlags: string[];
}

/** Node 20's Buffer.poolSize; see the module comment. */
export const BUFFER_POOL_BYTES = 8 * 1024;

/** Applies the old-generation growth factor and the Buffer slab size; reports which launch flags are missing. */
export function tuneHeap(growthPercent: number, execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ""): HeapTuning {
  if (!Number.isInteger(growthPercent) || growthPercent < 0) throw new Error(`TRELLIS_HEAP_GROWTH_PERCENT: must be an integer ≥ 0, got ${growthPercent}`);
  if (growthPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${growthPercent}`);
  Buffer.poolSize = BUFFER_POOL_BYTES;
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map((f) => f.split("=")[0]!.replaceAll("_", "-")));
  const missingFlags = CONTROL_PLANE_NODE_FLAGS.filter((f) => !given.has(f.split("=")[0]!));
  return { growthPercent, missingFlags };
}
