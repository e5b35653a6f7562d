/**
 * Node.js flags a trellis-proxy runs with in production (the container image's command and
 * bench/proxy use these). A 4 MB semi-space keeps the young generation small: in
 * bench/proxy on Node 20 it cut peak RSS under saturation from ~170 MB to ~140 MB and the
 * sidecar pair's p99 at 1000 rps from ~9 ms to ~5 ms (shorter scavenges), at no measurable
 * throughput cost. Smaller (2 MB) costs throughput and tail latency again.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4"];
