import assert from "node:assert/strict";
import { test } from "node:test";
import { RateLimitedError } from "../core/errors";
import { rateLimitLayer, RateLimitStore } from "./rate-limit";
import type { RateLimit, RateLimitEntry } from "./rate-limit";
import { fakeContext, fakeRequest, fakeResponse, scripted } from "./test-fakes";

const SRC = "RateLimitPolicy/default/reviews";
function limit(over: Partial<RateLimit> = {}, max = 2): RateLimitEntry {
  return { source: SRC, limit: { perCaller: false, bucket: { maxTokens: max, tokensPerFill: 1, fillInterval: "1s" }, ...over } };
}

function setup(limits: RateLimitEntry[], store = new RateLimitStore({ now: () => 0 })) {
  const next = scripted(() => fakeResponse(200));
  const h = rateLimitLayer(limits, store)(next.handler);
  const call = async (over: Parameters<typeof fakeRequest>[0] = {}, ctx = fakeContext()) => {
    try {
      return (await h(fakeRequest(over), ctx, new AbortController().signal)).status;
    } catch (e) {
      assert.ok(e instanceof RateLimitedError);
      assert.equal(e.flag, "RL");
      return e.status;
    }
  };
  return { call, next, store };
}

test("a shared bucket refuses with 429 once empty", async () => {
  const { call } = setup([limit()]);
  assert.deepEqual([await call(), await call(), await call()], [200, 200, 429]);
});

test("only matching requests draw: path (query ignored), method and route name", async () => {
  const { call } = setup([limit({ match: { path: { prefix: "/api" }, method: "POST", route: "writes" } }, 1)]);
  const routed = () => {
    const ctx = fakeContext();
    ctx.route = { name: "writes", source: "Route/default/reviews" };
    return ctx;
  };
  assert.equal(await call({ path: "/api/x?y=1", method: "GET" }, routed()), 200);
  assert.equal(await call({ path: "/other", method: "POST" }, routed()), 200);
  assert.equal(await call({ path: "/api/x", method: "POST" }), 200, "no route name on ctx: the limit does not apply");
  assert.equal(await call({ path: "/api/x?y=1", method: "POST" }, routed()), 200);
  assert.equal(await call({ path: "/api/x", method: "POST" }, routed()), 429);
});

test("per caller: by principal, else by downstream address", async () => {
  const { call } = setup([limit({ perCaller: true }, 1)]);
  const from = (principal: string | undefined, addr: string) => {
    const ctx = fakeContext({ downstreamAddress: addr, source: { workload: "w", app: "a", version: "v1", namespace: "n" } });
    ctx.peerPrincipal = principal; // proven by the caller's mTLS certificate
    return ctx;
  };
  assert.equal(await call({}, from("spiffe://t/ns/n/sa/a", "10.0.0.1")), 200);
  assert.equal(await call({}, from("spiffe://t/ns/n/sa/a", "10.0.0.2")), 429, "same principal from another address");
  assert.equal(await call({}, from("spiffe://t/ns/n/sa/b", "10.0.0.1")), 200);
  assert.equal(await call({}, from(undefined, "10.0.0.3")), 200);
  assert.equal(await call({}, from(undefined, "10.0.0.3")), 429);
});

test("every matching limit must pass, and a refusal takes no token from the others", async () => {
  const { call, store } = setup([limit({ name: "wide" }, 5), limit({ name: "narrow", match: { method: "POST" } }, 1)]);
  assert.equal(await call({ method: "POST" }), 200);
  assert.equal(await call({ method: "POST" }), 429);
  assert.equal(store.bucket(`${SRC}\u0000wide`, { maxTokens: 5, tokensPerFill: 1, fillIntervalMs: 1000 }).tokens, 4);
});

test("buckets survive a config swap; changed numbers start a new bucket", async () => {
  const store = new RateLimitStore({ now: () => 0 });
  const first = setup([limit({}, 1)], store);
  assert.equal(await first.call(), 200);
  const same = setup([limit({}, 1)], store);
  assert.equal(await same.call(), 429, "the rebuilt layer sees the drained bucket");
  const bigger = setup([limit({}, 3)], store);
  assert.equal(await bigger.call(), 200);
});

test("per-caller buckets are bounded: idle full ones go first, then the least recently used", () => {
  let now = 0;
  const store = new RateLimitStore({ maxCallerBuckets: 3, now: () => now });
  const spec = { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 1000 };
  for (const c of ["a", "b", "c"]) store.bucket("L", spec, c).tryTake();
  store.bucket("L", spec, "d").tryTake();
  assert.equal(store.size.perCaller, 3, "the cap holds");
  assert.equal(store.bucket("L", spec, "a").tokens, 1, "a, the least recently used, was dropped and starts full");
  now = 5000;
  store.sweep(10);
  assert.equal(store.size.perCaller, 0, "refilled buckets are as good as new, so they go");
});
