import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { TapWatchInputSchema } from "@trellis/config";
import type { TapWatchInput } from "@trellis/config";
import { Direction } from "@trellis/proto";
import type { TelemetrySender } from "../../distribution/ports";
import { LocalTapBus, MAX_TAP_MESSAGE_BYTES, packEvents, parseTapBusMessage } from "./tap-bus";
import type { TapBus, TapBusMessage, WireTapSpec } from "./tap-bus";
import { viewOf } from "./tap-event-schema";
import { TapHub, TapLimitError } from "./tap-hub";
import type { TapHubOptions } from "./tap-hub";
import type { TapWatchItem } from "./tap-watch";
import { event, WEB } from "./test-events";

const CART: TelemetrySender = { proxyId: "shop/cart-1", namespace: "shop", workload: "cart-1", service: "cart", labels: {} };
const input = (i: Partial<TapWatchInput> & { filter?: TapWatchInput["filter"] } = {}) => TapWatchInputSchema.parse(i);
const tick = () => new Promise((r) => setTimeout(r, 5));

const hubs: TapHub[] = [];
afterEach(() => {
  for (const h of hubs.splice(0)) h.close();
});

/** A hub whose proxy pushes are recorded. */
function hub(replicaId: string, bus: TapBus, over: Partial<TapHubOptions> = {}) {
  const pushes: string[][] = [];
  const h = new TapHub({ replicaId, bus, pushTaps: (taps) => void pushes.push(taps.map((t) => t.id)), ...over });
  hubs.push(h);
  return { h, pushes };
}

/** Reads a watch in the background; `items` fills as they come; abort() ends it. */
function watch(h: TapHub, i: TapWatchInput) {
  const ac = new AbortController();
  const items: TapWatchItem[] = [];
  const done = (async () => {
    for await (const item of h.watch(i, ac.signal)) items.push(item);
  })();
  const events = () => items.flatMap((x) => (x.type === "event" ? [x.event] : []));
  const started = async () => {
    for (let n = 0; n < 200; n++) {
      const s = items.find((x) => x.type === "started");
      if (s?.type === "started") return s.tapId;
      await tick();
    }
    throw new Error("the watch never started");
  };
  return { items, events, started, done, stop: () => ac.abort() };
}

async function until(what: string, f: () => boolean): Promise<void> {
  for (let n = 0; n < 400; n++) {
    if (f()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("TapHub, one replica", () => {
  test("a watch opens a tap on the proxies; matching events reach the watcher; leaving stops the tap", async () => {
    const { h, pushes } = hub("r1", new LocalTapBus());
    const w = watch(h, input({ filter: { destinationService: "cart", pathPrefix: "/cart" } }));
    const id = await w.started();
    assert.deepEqual(pushes, [[id]]);
    assert.equal(h.tapEvents(WEB, { events: [event({ tapIds: [id] }), event({ tapIds: [id], path: "/other" }), event({ tapIds: ["nobody"] })] }), undefined);
    await until("the event", () => w.events().length === 1);
    assert.equal(w.events()[0]!.path, "/cart/items");
    const s = h.stats();
    assert.deepEqual([s.received, s.delivered, s.mismatched, s.unknownTap], [3, 1, 1, 1], "the control plane checks the filter again");
    w.stop();
    await w.done;
    assert.deepEqual(pushes, [[id], []], "the proxies are told the tap stopped");
    assert.equal(h.stats().localTaps, 0);
  });

  test("malformed events are refused with the reason and counted; nothing is delivered", async () => {
    const { h } = hub("r1", new LocalTapBus());
    const w = watch(h, input());
    const id = await w.started();
    const reason = h.tapEvents(WEB, { events: [event({ tapIds: [id] }), event({ tapIds: [id], path: "/login?password=x" })] });
    assert.match(reason ?? "", /^events\[1\]\.path: /);
    assert.equal(h.stats().refused, 1);
    assert.match(h.stats().lastRefusal ?? "", /^shop\/web-1: events\[1\]\.path/);
    await tick();
    assert.equal(w.events().length, 0);
    w.stop();
  });

  test("a slow watcher costs at most its queue: newer events are dropped and reported as lost", async () => {
    const { h } = hub("r1", new LocalTapBus(), { watcherCapacity: 5 });
    const ac = new AbortController();
    const it = h.watch(input(), ac.signal);
    const first = await it.next();
    assert.equal(first.value?.type, "started");
    const id = first.value?.type === "started" ? first.value.tapId : "";
    h.tapEvents(WEB, { events: Array.from({ length: 50 }, () => event({ tapIds: [id] })) });
    const lost = await it.next();
    assert.deepEqual(lost.value, { type: "lost", count: 45 });
    for (let n = 0; n < 5; n++) assert.equal((await it.next()).value?.type, "event", `queued event ${n}`);
    ac.abort();
    assert.equal((await it.next()).done, true);
  });

  test("too many taps on one replica: TapLimitError", async () => {
    const { h } = hub("r1", new LocalTapBus(), { maxLocalTaps: 1 });
    const w = watch(h, input());
    await w.started();
    await assert.rejects(h.watch(input()).next(), TapLimitError);
    w.stop();
  });
});

describe("TapHub across replicas (one bus)", () => {
  test("a tap opened on A runs on B's proxies; B relays their events to A's watcher; closing stops it on B", async () => {
    const bus = new LocalTapBus();
    const a = hub("replica-a", bus);
    const b = hub("replica-b", bus);
    const w = watch(a.h, input({ filter: { destinationService: "cart" } }));
    const id = await w.started();
    await until("B pushes the tap", () => b.pushes.length === 1);
    assert.deepEqual(b.pushes[0], [id]);
    // cart-1's inbound side, connected to B, saw a request from web-1.
    assert.equal(b.h.tapEvents(CART, { events: [event({ tapIds: [id], direction: Direction.DIRECTION_INBOUND, requestHeaders: { cookie: "sid=1" } })] }), undefined);
    await until("the relayed event on A", () => w.events().length === 1);
    const e = w.events()[0]!;
    assert.deepEqual([e.direction, e.reporter, e.destinationWorkload, e.requestHeaders["cookie"]], ["inbound", "shop/cart-1", "cart-1", "[redacted]"]);
    assert.equal(b.h.stats().relayed, 1);
    assert.equal(a.h.stats().relayReceived, 1);
    w.stop();
    await w.done;
    await until("B stops the tap", () => b.pushes.length === 2);
    assert.deepEqual(b.pushes[1], []);
  });

  test("a tap whose owner goes quiet expires on the other replicas at the next renewal after its ttl", async () => {
    const bus = new LocalTapBus();
    const b = hub("replica-b", bus, { renewEveryMs: 20 });
    const spec: WireTapSpec = { id: "replica-a.x", filter: { sourceWorkload: "", sourceNamespace: "", destinationService: "", destinationNamespace: "", pathPrefix: "", statusMin: 0, statusMax: 0 }, sampleRate: 1, maxPerSecond: 10, ttlMs: 50 };
    bus.publish({ type: "open", origin: "replica-a", tap: spec });
    await until("B runs it", () => b.pushes.some((p) => p.includes("replica-a.x")));
    await until("B drops it", () => b.pushes.at(-1)?.length === 0);
    assert.equal(b.h.stats().remoteTaps, 0);
  });
});

describe("tap bus messages", () => {
  test("events are packed into NOTIFY-sized messages; an event too big alone loses its headers, not the event", () => {
    const big = viewOf(event({ requestHeaders: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`h${i}`, "v".repeat(1000)])) }), WEB);
    const small = viewOf(event(), WEB);
    const { messages, oversized } = packEvents({ type: "events", origin: "b", owner: "a", tapId: "t" }, [small, big, ...Array.from({ length: 100 }, () => small)]);
    assert.equal(oversized, 0);
    assert.equal(messages.reduce((n, m) => n + m.events.length, 0), 102);
    for (const m of messages) {
      const payload = JSON.stringify(m);
      assert.ok(Buffer.byteLength(payload) <= MAX_TAP_MESSAGE_BYTES, `${Buffer.byteLength(payload)} bytes`);
      assert.ok(parseTapBusMessage(payload), "parses back");
    }
    assert.ok(messages.length > 1);
  });

  test("malformed notifications are ignored", () => {
    const bad: unknown[] = ["", "not json", "{}", { type: "open", origin: "a" }, { type: "events", origin: "a", owner: "b", tapId: "t", events: [{ path: "/x" }] }, { type: "close", origin: "a", id: "" }];
    for (const b of bad) assert.equal(parseTapBusMessage(typeof b === "string" ? b : JSON.stringify(b)), undefined, JSON.stringify(b));
    const ok: TapBusMessage = { type: "close", origin: "a", id: "a.1" };
    assert.deepEqual(parseTapBusMessage(JSON.stringify(ok)), ok);
  });
});
