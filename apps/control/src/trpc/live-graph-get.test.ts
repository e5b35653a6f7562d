import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Principal } from "../auth/auth-service";
import type { Graph, GraphQuery } from "../graph/types";
import { liveGraphGet } from "./live-graph-get";

// A real HTTP server on port 0 with the handler in front of a stand-in for tRPC (which answers
// 299 so a fall-through is visible); the graph source is a stub that hands out one Graph object
// per query, as GraphService does within a second. (tRPC's own bytes for the same graph are
// compared in apps/proxy/test/live-graph.test.ts, against the real control plane.)

describe("liveGraphGet", () => {
  let server: http.Server;
  let base = "";
  let serializations = 0;
  const calls: GraphQuery[] = [];
  const graph = { nodes: [], edges: [], from: 1, to: 2, buildMs: 1 } as unknown as Graph;
  // Counts how often the graph is serialized: JSON.stringify reads `kind` once per run.
  Object.defineProperty(graph, "kind", { enumerable: true, get: () => (serializations++, "service") });
  const viewer = { username: "v", role: "viewer", via: "session" } as unknown as Principal;

  before(async () => {
    const handle = liveGraphGet({
      graph: async (q: GraphQuery) => {
        calls.push(q);
        if (q.windowSec === 7) throw new Error("no such window");
        return graph;
      },
    });
    server = http.createServer((req, res) => handle(req, res, viewer, () => res.writeHead(299).end("trpc")));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
  };
  const input = (q: object) => `/trpc/graph.get?input=${encodeURIComponent(JSON.stringify(q))}`;

  it("answers a live graph with tRPC's envelope, serialized once however many callers ask", async () => {
    const a = await get(input({ kind: "service", windowSec: 60 }));
    const b = await get(input({ kind: "service", windowSec: 60 }));
    assert.equal(a.status, 200);
    assert.equal(a.type, "application/json");
    assert.deepEqual(JSON.parse(a.body), { result: { data: { nodes: [], edges: [], from: 1, to: 2, buildMs: 1, kind: "service" } } });
    assert.equal(b.body, a.body);
    assert.equal(serializations, 1);
    assert.equal(calls.at(-1)!.includeIdle, true, "the input went through the procedure's schema (defaults applied)");
  });

  it("leaves batches, replays, bad input, other procedures and failed builds to tRPC", async () => {
    const before = calls.length;
    for (const path of [
      `/trpc/graph.get?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { windowSec: 60 } }))}`,
      input({ windowSec: 60, until: 1_700_000_000_000 }),
      input({ windowSec: -1 }),
      "/trpc/graph.get?input=%7Bnot%20json",
      "/trpc/graph.get",
      "/trpc/graph.getX?input=%7B%7D",
    ]) {
      const r = await get(path);
      assert.equal(r.status, 299, path);
    }
    assert.equal(calls.length, before, "none of them reached the graph source");
    assert.equal((await get(input({ windowSec: 7 }))).status, 299, "a build that fails: tRPC answers (with its error shape)");
  });
});
