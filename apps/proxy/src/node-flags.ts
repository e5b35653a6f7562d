import v8 from "node:v8";

/**
 * Node.js flags a trellis-proxy runs with in production (docker-compose's sidecar commands,
 * checked by apps/demo/test/compose.test.ts) and in bench/proxy.
 *
 * `--max-semi-space-size=4`: a 4 MB semi-space keeps the young generation small: in bench/proxy
 * on Node 20 it cut peak RSS under saturation from ~170 MB to ~140 MB and the sidecar pair's p99
 * at 1000 rps from ~9 ms to ~5 ms (shorter scavenges), at no measurable throughput cost. Smaller
 * (2 MB) costs throughput and tail latency again; 8 and 16 MB did not lower peak RSS on Node 24.
 *
 * `--max-old-space-size=512`: V8 lets the old generation grow to a multiple of what the last
 * full GC kept before it collects again, and picks that multiple from the heap's hard limit: up
 * to 4× with Node's default limit (over 2 GB), down to ~1.3× for a limit of a few hundred MB.
 * A sidecar keeps ~25–30 MB alive, and under HTTP/2 saturation (100 streams in flight, each
 * request's objects outliving two scavenges) promotes tens of MB a second, so on Node 24 the old
 * generation climbed to ~120 MB between full GCs. With this limit one proxy's peak RSS in
 * bench/proxy (wrk and h2load at saturation) fell from 258 to 159 MB (the Node floor, same
 * flags: 143 → 120 MB), and the pair's client sidecar's from 141–159 to 122 MB; the pair's
 * added latency at 1000 rps did not move beyond the machine's noise (alternating runs, p90
 * medians 1.22 vs 1.15 ms, p99 per round 3–16 ms either way), nor did its CPU. 256 gave the same
 * figures; 512 leaves room for a config of thousands of services. A live heap near the limit
 * ends the process (out of memory) rather than swapping, as a container's memory limit would.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4", "--max-old-space-size=512"];

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
