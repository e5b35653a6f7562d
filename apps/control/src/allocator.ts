import { existsSync, readFileSync } from "node:fs";

/**
 * The control plane's malloc. Node links glibc's, which keeps what it frees inside its heaps:
 * a push to 2000 proxies frees thousands of short-lived buffers (protobuf frames, HTTP/2 and
 * socket buffers) between long-lived per-session allocations (nghttp2's 16 KB frame buffer per
 * session), so the freed pages stay resident and RSS only ratchets up. jemalloc with one arena
 * and no decay delay hands freed pages back to the kernel at once. Measured on Node 24
 * (bench/config-propagation, 2000 proxies, 1000 services, two runs each): peak RSS 302–315 MB
 * on glibc, 259–276 MB on jemalloc with this configuration, for ~10 % more CPU per push. Freed
 * pages must go back at once: with jemalloc's default decay (10 s) the peak stayed at 294–313 MB,
 * with 100 ms or 1 s (background thread purging) at 295–304 MB. The same day, bench/telemetry
 * (1000 proxies' live telemetry, graph.get) did better on this configuration than on glibc:
 * ingest 333–354 vs 373 µs CPU per delta, graph.get p95 43–142 vs 95–225 ms.
 *
 * It is a launch setting (LD_PRELOAD must be in the environment before the process starts), so
 * like CONTROL_PLANE_NODE_FLAGS the launchers carry it: the Dockerfile installs Debian's
 * libjemalloc2 and links it at IMAGE_JEMALLOC, docker-compose.yml, the demo, the test helper
 * and the benchmarks start the control plane with `controlPlaneMallocEnv()`'s variables.
 */
export const JEMALLOC_CONF = "narenas:1,dirty_decay_ms:0,muzzy_decay_ms:0";

/** Where the image links libjemalloc (the Debian path differs per architecture). */
export const IMAGE_JEMALLOC = "/usr/local/lib/libjemalloc.so.2";

/** Where distributions put the library (Debian per architecture, then lib64 and lib), the image's link first. */
const JEMALLOC_PATHS = [IMAGE_JEMALLOC, "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2", "/usr/lib64/libjemalloc.so.2", "/usr/lib/libjemalloc.so.2"];

/** The jemalloc library on this machine, if one is installed where Debian puts it. */
export function findJemalloc(exists: (path: string) => boolean = existsSync): string | undefined {
  return JEMALLOC_PATHS.find((p) => exists(p));
}

/** The environment that starts a control plane on jemalloc, or {} when this machine has none. */
export function controlPlaneMallocEnv(exists?: (path: string) => boolean): Record<string, string> {
  const lib = findJemalloc(exists);
  return lib ? { LD_PRELOAD: lib, MALLOC_CONF: JEMALLOC_CONF } : {};
}

/** Which malloc this process runs on, from its memory map: "jemalloc" once LD_PRELOAD loaded it. */
export function allocatorInUse(maps: () => string = () => readFileSync("/proc/self/maps", "utf8")): "jemalloc" | "system" | "unknown" {
  let text: string;
  try {
    text = maps();
  } catch {
    return "unknown"; // no /proc (not Linux)
  }
  return /\/libjemalloc[^/\n]*\.so/.test(text) ? "jemalloc" : "system";
}
