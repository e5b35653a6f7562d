/**
 * A synthetic service graph shaped like graph.get's answer (apps/control/src/graph/types.ts):
 * N services over ⌈N/50⌉ namespaces, E directed edges. A few ingress services call in; every
 * service calls 1–6 others, a third of the calls going to the first N/50 services (the shared
 * dependencies a real mesh has), so degrees are skewed as in a real mesh, not uniform. Each
 * edge carries request signals (rate, errors, latency, mTLS share) or, one in ten, TCP
 * signals; health follows the error rate as the control plane computes it. Deterministic for
 * a seed, so both contenders of a run draw the same picture.
 */
import type { Badge, Graph, GraphEdge, GraphNode } from "../../apps/control/src/graph/types";
import type { RequestSignals } from "../../apps/control/src/telemetry/live/window-query";

// The graph API's own types (type-only: nothing of the control plane goes into the page's bundle).

/** mulberry32: a small seeded PRNG, so a run is repeatable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BADGES: Badge[] = ["split", "retry", "timeout", "authorization", "circuit-breaker"];

function health(errorRate: number | null): GraphNode["health"] {
  if (errorRate === null) return "idle";
  return errorRate >= 0.1 ? "failure" : errorRate > 0 ? "degraded" : "healthy";
}

function signals(rand: () => number, windowSec: number): RequestSignals {
  const rps = Math.round((0.5 + rand() * rand() * 60) * 100) / 100;
  const requests = Math.round(rps * windowSec);
  const bad = rand() < 0.85 ? 0 : rand() < 0.8 ? 0.02 * rand() : 0.1 + 0.3 * rand();
  const errors = Math.round(requests * bad);
  const p50 = Math.round((2 + rand() * 60) * 10) / 10;
  return { requests, rps, errors, errorRate: requests ? errors / requests : null, p50, p95: Math.round(p50 * (2 + rand() * 3) * 10) / 10, p99: Math.round(p50 * (5 + rand() * 5) * 10) / 10, bytesPerSec: Math.round(rps * 800), mtlsShare: rand() < 0.9 ? 1 : 0, byClass: [0, 0, requests - errors, 0, 0, errors] };
}

/** The graph: `nodes` services, `edges` distinct edges (no self-calls), window `windowSec`. */
export function syntheticGraph(nodes: number, edges: number, seed = 1, windowSec = 60): Graph {
  if (edges > nodes * (nodes - 1)) throw new Error(`cannot draw ${edges} distinct edges between ${nodes} nodes`);
  const rand = prng(seed);
  const namespaces = Math.max(1, Math.ceil(nodes / 50));
  const shared = Math.max(1, Math.floor(nodes / 50));
  const id = (i: number) => `svc:ns-${i % namespaces}/svc-${i}`;
  const out: GraphEdge[] = [];
  const seen = new Set<string>();
  const add = (s: number, t: number) => {
    if (s === t) return;
    const key = `${id(s)}>${id(t)}`;
    if (seen.has(key)) return;
    seen.add(key);
    const tcp = rand() < 0.1;
    const traffic = tcp ? null : signals(rand, windowSec);
    out.push({
      id: `${key}>${tcp ? "tcp" : rand() < 0.2 ? "grpc" : "http"}`,
      source: id(s),
      target: id(t),
      protocol: tcp ? "tcp" : "http",
      traffic,
      tcp: tcp ? { connectionsOpened: 3, connectionsPerSec: 0.05, bytesPerSec: 2000, mtlsShare: 1 } : null,
      health: tcp ? "healthy" : health(traffic!.errorRate),
      routes: [],
    });
  };
  // Every service but the ingresses (the first few) is called by someone: the graph is connected downwards.
  const ingresses = Math.max(1, Math.floor(nodes / 200));
  for (let t = ingresses; t < nodes && out.length < edges; t++) add(Math.floor(rand() * t), t);
  while (out.length < edges) {
    const s = Math.floor(rand() * nodes);
    const t = rand() < 0.33 ? ingresses + Math.floor(rand() * shared) : Math.floor(rand() * nodes);
    if (t >= ingresses) add(s, t);
  }
  const inbound = new Map<string, GraphEdge[]>();
  for (const e of out) inbound.set(e.target, [...(inbound.get(e.target) ?? []), e]);
  const ns: GraphNode[] = [];
  for (let i = 0; i < nodes; i++) {
    const into = inbound.get(id(i)) ?? [];
    const sig = into.find((e) => e.traffic)?.traffic ?? null;
    ns.push({
      id: id(i),
      type: "service",
      label: `svc-${i}`,
      namespace: `ns-${i % namespaces}`,
      service: `svc-${i}`,
      health: into.length ? into.reduce<GraphNode["health"]>((h, e) => (e.health === "failure" || h === "failure" ? "failure" : e.health === "degraded" || h === "degraded" ? "degraded" : "healthy"), "healthy") : "idle",
      badges: rand() < 0.15 ? [BADGES[Math.floor(rand() * BADGES.length)]!] : [],
      inbound: sig,
      outbound: null,
      idle: into.length === 0 && i >= ingresses,
    });
  }
  const to = Date.now();
  return { kind: "service", from: to - windowSec * 1000, to, nodes: ns, edges: out, buildMs: 0 };
}

/** The same graph a second later: every edge's figures moved a little, as a live graph's do. */
export function nextSecond(g: Graph, rand: () => number): Graph {
  return {
    ...g,
    from: g.from + 1000,
    to: g.to + 1000,
    edges: g.edges.map((e) => (e.traffic ? { ...e, traffic: { ...e.traffic, rps: Math.round(e.traffic.rps * (0.9 + rand() * 0.2) * 100) / 100, p95: e.traffic.p95 === null ? null : Math.round(e.traffic.p95 * (0.9 + rand() * 0.2) * 10) / 10 } } : e)),
  };
}
