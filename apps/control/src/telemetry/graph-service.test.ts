import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ResourceSchema } from "@trellis/config";
import { silentLogger } from "@trellis/config/log";
import type { Resource } from "@trellis/config";
import { GraphQuerySchema } from "../graph/types";
import { GraphService, liveRefreshSec } from "./graph-service";
import { LiveTelemetry } from "./live/live-telemetry";
import { T0, TestClock, httpRow } from "./live/test-rows";

const PP = { namespace: "default", service: "productpage", workload: "productpage-a", version: "v1" };
const REVIEWS = { namespace: "default", service: "reviews", workload: "reviews-a", version: "v1" };

function setup() {
  const clock = new TestClock(T0);
  const live = new LiveTelemetry({ now: clock.now }, silentLogger);
  const resources: Resource[] = ["productpage", "reviews"].map((name) => ResourceSchema.parse({ kind: "Service", metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }] } }));
  const reads = { resources: 0 };
  const service = new GraphService(live, {
    resources: async () => {
      reads.resources++;
      return resources;
    },
    endpoints: async () => [],
  });
  /** `rps` requests in second `sec`, then the clock at the start of the next second (which closes `sec`). */
  const second = (sec: number, rps: number) => {
    clock.set(sec);
    live.window.ingest([httpRow("source", PP, REVIEWS, { byClass: [0, 0, rps] })]);
    clock.set(sec + 1);
    live.window.advance();
  };
  return { live, service, reads, second };
}

const edgeRps = (g: { edges: { traffic: { rps: number } | null }[] }) => g.edges[0]?.traffic?.rps;

describe("GraphService live graphs", () => {
  test("callers asking the same live query in the same second share one build", async () => {
    const { service, reads, second } = setup();
    second(T0, 10);
    const q = GraphQuerySchema.parse({ windowSec: 1 });
    const [a, b] = await Promise.all([service.graph(q), service.graph(q)]);
    assert.equal(a, b);
    assert.equal(reads.resources, 1);
    assert.equal(edgeRps(a), 10);
    assert.equal(a.to, (T0 + 1) * 1000);
  });

  test("each second gets its own graph; the config is read again at most once a second", async () => {
    const { service, reads, second } = setup();
    second(T0, 10);
    const q = GraphQuerySchema.parse({ windowSec: 1 });
    assert.equal(edgeRps(await service.graph(q)), 10);
    second(T0 + 1, 30);
    const g = await service.graph(q);
    assert.equal(g.to, (T0 + 2) * 1000);
    assert.equal(edgeRps(g), 30);
    assert.equal(reads.resources, 1, "the config read a moment ago is reused");
    await new Promise((r) => setTimeout(r, 1100));
    second(T0 + 2, 5);
    assert.equal(edgeRps(await service.graph(q)), 5);
    assert.equal(reads.resources, 2, "and read again after a second");
  });

  test("a replayed window (until) is built for its caller", async () => {
    const { service, reads, second } = setup();
    second(T0, 10);
    second(T0 + 1, 20);
    const g = await service.graph(GraphQuerySchema.parse({ windowSec: 1, until: (T0 + 1) * 1000 }));
    assert.equal(edgeRps(g), 10);
    assert.equal(reads.resources, 1);
    assert.equal(await service.graph(GraphQuerySchema.parse({ windowSec: 1, until: (T0 + 1) * 1000 })) === g, false, "a replay is built for each caller");
  });

  test("a long window is rebuilt every liveRefreshSec seconds, and callers meanwhile get the graph built last", async () => {
    const { service, second } = setup();
    assert.equal(liveRefreshSec(60), 1);
    assert.equal(liveRefreshSec(719), 1);
    assert.equal(liveRefreshSec(1800), 5);
    const q = GraphQuerySchema.parse({ windowSec: 1800 });
    second(T0, 10);
    const first = await service.graph(q);
    assert.equal(first.to, (T0 + 1) * 1000);
    for (let s = 1; s < 5; s++) {
      second(T0 + s, 10);
      assert.equal(await service.graph(q), first, `${s} s later the 30-minute graph is the one built at ${T0 + 1}`);
    }
    second(T0 + 5, 10);
    const next = await service.graph(q);
    assert.notEqual(next, first, "5 s later it is rebuilt");
    assert.equal(next.to, (T0 + 6) * 1000);
    assert.equal(next.edges[0]?.traffic?.requests, 60, "with every second up to the last complete one");
    const minute = GraphQuerySchema.parse({ windowSec: 60 });
    const m = await service.graph(minute);
    second(T0 + 6, 10);
    assert.notEqual(await service.graph(minute), m, "a one-minute window still moves every second");
  });

  test("with stale, a caller in a new second gets the last graph at once and the new one is built after its answer", async () => {
    const { service, reads, second } = setup();
    const q = GraphQuerySchema.parse({ windowSec: 1 });
    second(T0, 10);
    const first = await service.graph(q, { stale: true });
    assert.equal(first.to, (T0 + 1) * 1000, "nothing built yet: the caller waits for the fresh graph");
    second(T0 + 1, 30);
    const quick = await service.graph(q, { stale: true });
    assert.equal(quick, first, "the previous second's graph, while this second's is still to be built");
    const fresh = await service.graph(q);
    assert.equal(fresh.to, (T0 + 2) * 1000);
    assert.equal(edgeRps(fresh), 30);
    assert.equal(await service.graph(q, { stale: true }), fresh, "once built, everyone gets the new graph");
    assert.equal(reads.resources, 1);
    second(T0 + 2, 5);
    second(T0 + 3, 5);
    const later = await service.graph(q, { stale: true });
    assert.equal(later.to, (T0 + 4) * 1000, "a graph two seconds old is not handed out: the caller waits");
  });

  test("more live queries than are remembered, asked in turn, still share their builds", async () => {
    const { service, second } = setup();
    second(T0, 10);
    const queries = Array.from({ length: 12 }, (_, i) => GraphQuerySchema.parse({ windowSec: 10 + i }));
    const first = await Promise.all(queries.map((q) => service.graph(q)));
    const again = await Promise.all(queries.map((q) => service.graph(q)));
    again.forEach((g, i) => assert.equal(g, first[i], `query ${i}: the same graph, not a rebuild (none was evicted while in use)`));
  });

  test("a build that outlasts a second is joined by the callers of the next seconds of its refresh interval", async () => {
    const clock = new TestClock(T0);
    const live = new LiveTelemetry({ now: clock.now }, silentLogger);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const service = new GraphService(live, { resources: async () => (await gate, []), endpoints: async () => [] });
    const advance = (sec: number) => (clock.set(sec), live.window.advance());
    advance(T0 + 1);
    const q = GraphQuerySchema.parse({ windowSec: 1800 });
    const a = service.graph(q);
    advance(T0 + 2);
    advance(T0 + 3);
    const b = service.graph(q);
    release();
    assert.equal(await b, await a, "the slow build was joined, not started again");
    assert.equal((await a).to, (T0 + 1) * 1000);
  });
});
