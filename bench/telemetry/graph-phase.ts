/**
 * Graph API latency with the live window full: graph.get over plain HTTP (as the dashboard's
 * tRPC client sends it) for each kind and window, round-robin so every combination sees the
 * same machine, and graph.watch's pushes over SSE. Times are from the request until the last
 * byte of the response; the JSON is parsed afterwards, outside the timing, for buildMs and sizes.
 */
import { sessionFor } from "../../apps/control/test/helpers/test-auth";
import { nowUs } from "./load-protocol";

export const KINDS = ["service", "workload", "app"] as const;
export const WINDOWS = [60, 1800] as const;

export interface GetTiming {
  kind: (typeof KINDS)[number];
  windowSec: number;
  ms: number[];
  buildMs: number[];
  /** How old the graph's window end was when the answer arrived, ms (a live graph is at most one refresh interval behind; see GraphService). */
  ageMs: number[];
  nodes: number;
  edges: number;
  bytes: number;
}

export interface WatchTiming {
  /** Arrival of each push, wall ms. */
  arrivals: number[];
  /** From the end of the second the graph covers (its `to`) until the push arrived, ms. */
  lagMs: number[];
  buildMs: number[];
  bytes: number;
}

interface GraphBody {
  to: number;
  buildMs: number;
  nodes: unknown[];
  edges: unknown[];
}

/** Signed in as the first admin, as the dashboard would be. */
const headers = (api: string) => sessionFor(api, "admin");

async function getGraph(api: string, kind: string, windowSec: number): Promise<{ ms: number; graph: GraphBody; bytes: number; receivedAt: number }> {
  const url = `${api}/trpc/graph.get?input=${encodeURIComponent(JSON.stringify({ kind, windowSec }))}`;
  const auth = await headers(api);
  const t0 = performance.now();
  const res = await fetch(url, { headers: { ...auth } });
  const text = await res.text();
  const ms = performance.now() - t0;
  const receivedAt = Date.now();
  if (!res.ok) throw new Error(`graph.get ${kind} ${windowSec}s: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return { ms, graph: (JSON.parse(text) as { result: { data: GraphBody } }).result.data, bytes: text.length, receivedAt };
}

/** `calls` rounds over every (kind, window) after `warmup` rounds that are not kept; with the measured span in monotonic µs (to cut profiles). */
export async function timeGraphGet(api: string, calls: number, warmup = 2): Promise<{ timings: GetTiming[]; fromUs: number; toUs: number }> {
  const timings: GetTiming[] = KINDS.flatMap((kind) => WINDOWS.map((windowSec) => ({ kind, windowSec, ms: [], buildMs: [], ageMs: [], nodes: 0, edges: 0, bytes: 0 })));
  for (let round = 0; round < warmup; round++) for (const t of timings) await getGraph(api, t.kind, t.windowSec);
  const fromUs = nowUs();
  for (let round = 0; round < calls; round++) {
    for (const t of timings) {
      const r = await getGraph(api, t.kind, t.windowSec);
      t.ms.push(r.ms);
      t.buildMs.push(r.graph.buildMs);
      t.ageMs.push(r.receivedAt - r.graph.to);
      t.nodes = r.graph.nodes.length;
      t.edges = r.graph.edges.length;
      t.bytes = r.bytes;
    }
  }
  return { timings, fromUs, toUs: nowUs() };
}

/** Subscribes to graph.watch (service graph, 60 s) and records `pushes` pushes after the first. */
export async function timeGraphWatch(api: string, pushes: number): Promise<WatchTiming & { fromUs: number; toUs: number }> {
  const input = encodeURIComponent(JSON.stringify({ kind: "service", windowSec: 60 }));
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), (pushes + 15) * 1000);
  const out: WatchTiming = { arrivals: [], lagMs: [], buildMs: [], bytes: 0 };
  const fromUs = nowUs();
  try {
    const res = await fetch(`${api}/trpc/graph.watch?input=${input}`, { headers: { ...(await headers(api)), accept: "text/event-stream" }, signal: ac.signal });
    if (!res.ok || !res.body) throw new Error(`graph.watch: HTTP ${res.status}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let seen = 0;
    while (seen <= pushes) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split("\n").find((l) => l.startsWith("data:"));
        if (!data || !data.includes('"nodes"')) continue;
        const at = Date.now();
        const parsed = JSON.parse(data.slice(5)) as GraphBody | { data: GraphBody };
        const graph = "nodes" in parsed ? parsed : parsed.data;
        // The first push is the subscription's immediate answer, not a per-second push.
        if (seen++ === 0) continue;
        out.arrivals.push(at);
        out.lagMs.push(at - graph.to);
        out.buildMs.push(graph.buildMs);
        out.bytes = data.length;
      }
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { ...out, fromUs, toUs: nowUs() };
}
