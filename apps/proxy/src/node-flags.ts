import v8 from "node:v8";

/**
 * Node.js flags a trellis-proxy runs with in production (docker-compose's sidecar commands,
 * checked by apps/demo/test/compose.test.ts) and in bench/proxy. A 4 MB semi-space keeps the young generation small: in
 * bench/proxy on Node 20 it cut peak RSS under saturation from ~170 MB to ~140 MB and the
 * sidecar pair's p99 at 1000 rps from ~9 ms to ~5 ms (shorter scavenges), at no measurable
 * throughput cost. Smaller (2 MB) costs throughput and tail latency again.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4"];

/**
 * Sets how far V8's old generation may grow past what the last full GC kept, in percent
 * (--heap-growth-percent / TRELLIS_PROXY_HEAP_GROWTH_PERCENT; 0 = V8's own factor, up to 4× for a
 * small heap); undefined leaves V8's flags alone, so a `node --heap-growing-percent=N` launch flag
 * still holds. A trade of memory for latency, measured in one bench/proxy run each on this 2-core
 * machine (pair and mTLS pair at 1000 rps, then saturation): 25 cut a sidecar's peak RSS from
 * 172–176 MB to 101–125 MB, but the pair's added p99 went from +7.9 to +18.4 ms (mTLS +10.5 →
 * +21.6 ms) and its CPU at 1000 rps up 5–20 % — more full GCs on the request path. Set from
 * inside the process (V8 reads the flag at each GC), so it holds however the proxy is launched.
 */
export function tuneProxyHeap(growthPercent: number | undefined): void {
  if (growthPercent !== undefined) v8.setFlagsFromString(`--heap-growing-percent=${growthPercent}`);
}
