import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import type { RetryPolicy } from "@trellis/config";
import { NoHealthyUpstreamError, UpstreamConnectError, UpstreamResetError, UpstreamTimeoutError } from "../core/errors";
import type { ProxyRequest } from "../core/types";
import { retryLayer } from "./retry";
import { RetryBudget } from "./retry-budget";
import { fakeContext, fakeRequest, fakeResponse, hang, requestWithBody, responseWithBody, scripted, settle } from "./test-fakes";

function policy(over: Partial<RetryPolicy> = {}): RetryPolicy {
  return { attempts: 2, retryOn: ["5xx"], budgetPercent: 20, ...over };
}
const noJitter = { random: () => 0 };
const budget = () => new RetryBudget();
const signal = () => new AbortController().signal;

async function readBody(req: ProxyRequest): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req.body.open() ?? []) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe("retryLayer", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  test("a 5xx is retried with the whole body replayed, and the retried response's body destroyed", async () => {
    const seen: string[] = [];
    const failed = responseWithBody(503);
    const next = scripted(
      async (req) => (seen.push(await readBody(req)), failed),
      async (req) => (seen.push(await readBody(req)), fakeResponse(200)),
    );
    const ctx = fakeContext();
    const res = await retryLayer(policy(), { budget: budget(), ...noJitter })(next.handler)(requestWithBody(["hello ", "world"]), ctx, signal());
    assert.equal(res.status, 200);
    assert.deepEqual(seen, ["hello world", "hello world"]);
    assert.equal(failed.body.destroyed, true);
    assert.equal(ctx.flags.has("URX"), false);
    assert.equal(ctx.attempts, 0, "attempts are the endpoint layer's to count");
  });

  test("retries used up: URX and the last response", async () => {
    const next = scripted(() => fakeResponse(503));
    const ctx = fakeContext();
    const res = await retryLayer(policy({ attempts: 3 }), { budget: budget(), ...noJitter })(next.handler)(fakeRequest(), ctx, signal());
    assert.equal(res.status, 503);
    assert.equal(next.calls, 4);
    assert.ok(ctx.flags.has("URX"));
  });

  test("a failure the conditions do not name is final, without URX", async () => {
    const next = scripted(() => fakeResponse(404));
    const ctx = fakeContext();
    assert.equal((await retryLayer(policy(), { budget: budget() })(next.handler)(fakeRequest(), ctx, signal())).status, 404);
    assert.equal(next.calls, 1);
    assert.equal(ctx.flags.size, 0);
  });

  test("connect-failure retries connect errors only; the last error is thrown", async () => {
    const layer = retryLayer(policy({ retryOn: ["connect-failure"] }), { budget: budget(), ...noJitter });
    const connect = scripted(() => Promise.reject(new UpstreamConnectError("refused")));
    const ctx = fakeContext();
    await assert.rejects(layer(connect.handler)(fakeRequest(), ctx, signal()), UpstreamConnectError);
    assert.equal(connect.calls, 3);
    assert.ok(ctx.flags.has("URX"));
    const reset = scripted(() => Promise.reject(new UpstreamResetError("reset")));
    await assert.rejects(layer(reset.handler)(fakeRequest(), fakeContext(), signal()), UpstreamResetError);
    assert.equal(reset.calls, 1);
  });

  test("overflow-like failures and bugs are never retried", async () => {
    const layer = retryLayer(policy({ retryOn: ["5xx", "reset", "gateway-error"] }), { budget: budget(), ...noJitter });
    const uh = scripted(() => Promise.reject(new NoHealthyUpstreamError("none")));
    await assert.rejects(layer(uh.handler)(fakeRequest(), fakeContext(), signal()), NoHealthyUpstreamError);
    const bug = scripted(() => Promise.reject(new TypeError("oops")));
    await assert.rejects(layer(bug.handler)(fakeRequest(), fakeContext(), signal()), TypeError);
    assert.deepEqual([uh.calls, bug.calls], [1, 1]);
  });

  test("gateway-error takes 502/503/504 but not 500; retriable-4xx takes 409", async () => {
    const gw = retryLayer(policy({ retryOn: ["gateway-error"] }), { budget: budget(), ...noJitter });
    const s500 = scripted(() => fakeResponse(500));
    await gw(s500.handler)(fakeRequest(), fakeContext(), signal());
    const s504 = scripted(() => fakeResponse(504), () => fakeResponse(200));
    assert.equal((await gw(s504.handler)(fakeRequest(), fakeContext(), signal())).status, 200);
    const c409 = scripted(() => fakeResponse(409), () => fakeResponse(200));
    assert.equal((await retryLayer(policy({ retryOn: ["retriable-4xx"] }), { budget: budget(), ...noJitter })(c409.handler)(fakeRequest(), fakeContext(), signal())).status, 200);
    assert.deepEqual([s500.calls, s504.calls, c409.calls], [1, 2, 2]);
  });

  test("gRPC conditions read grpc-status from a trailers-only response's headers", async () => {
    const layer = retryLayer(policy({ retryOn: ["unavailable", "resource-exhausted"] }), { budget: budget(), ...noJitter });
    const unavailable = scripted(() => fakeResponse(200, { "grpc-status": "14" }), () => fakeResponse(200, { "grpc-status": "0" }));
    assert.equal((await layer(unavailable.handler)(fakeRequest(), fakeContext({ protocol: "grpc" }), signal())).headers["grpc-status"], "0");
    const internal = scripted(() => fakeResponse(200, { "grpc-status": "13" }));
    await layer(internal.handler)(fakeRequest(), fakeContext({ protocol: "grpc" }), signal());
    assert.deepEqual([unavailable.calls, internal.calls], [2, 1]);
  });

  test("each try gets its own signal; an expired try is retried under 5xx", async () => {
    const next = scripted(hang, () => fakeResponse(200));
    const p = retryLayer(policy({ perTryTimeout: "100ms" }), { budget: budget(), ...noJitter })(next.handler)(fakeRequest(), fakeContext(), signal());
    await settle();
    mock.timers.tick(100);
    assert.equal((await p).status, 200);
    assert.equal(next.calls, 2);
    assert.notEqual(next.signals[0], next.signals[1]);
    assert.equal(next.signals[0]!.aborted, true);
    assert.equal(next.signals[1]!.aborted, false);
  });

  test("the last try expiring throws UpstreamTimeoutError with URX", async () => {
    const next = scripted(hang);
    const ctx = fakeContext();
    const p = retryLayer(policy({ attempts: 1, perTryTimeout: "100ms" }), { budget: budget(), ...noJitter })(next.handler)(fakeRequest(), ctx, signal());
    for (let i = 0; i < 2; i++) {
      await settle();
      mock.timers.tick(100);
    }
    await assert.rejects(p, UpstreamTimeoutError);
    assert.equal(next.calls, 2);
    assert.ok(ctx.flags.has("URX"));
  });

  test("backoff waits between tries, and an abort during it ends the request", async () => {
    const next = scripted(() => fakeResponse(503));
    const ac = new AbortController();
    // random 0.5: the first retry waits half of the 100 ms base, the second half of 200 ms.
    const p = retryLayer(policy({ backoff: { baseInterval: "100ms", maxInterval: "1s" } }), { budget: budget(), random: () => 0.5 })(next.handler)(fakeRequest(), fakeContext(), ac.signal);
    await settle();
    assert.equal(next.calls, 1);
    mock.timers.tick(49);
    await settle();
    assert.equal(next.calls, 1);
    mock.timers.tick(1);
    await settle();
    assert.equal(next.calls, 2);
    const gone = new Error("downstream closed");
    ac.abort(gone);
    await assert.rejects(p, (e) => e === gone);
    mock.timers.tick(1000);
    await settle();
    assert.equal(next.calls, 2);
  });

  test("a body larger than the replay buffer is not retried", async () => {
    const next = scripted(async (req) => (await readBody(req), fakeResponse(503)));
    const res = await retryLayer(policy(), { budget: budget(), ...noJitter })(next.handler)(requestWithBody(["0123456789", "0123456789"], {}, 15), fakeContext(), signal());
    assert.equal(res.status, 503);
    assert.equal(next.calls, 1);
  });

  test("an exhausted budget stops retrying with UO", async () => {
    const b = new RetryBudget({ minRetriesPerSecond: 0.1, windowSeconds: 10 }); // floor: 1 retry per 10 s
    const layer = retryLayer(policy({ attempts: 5, budgetPercent: 0 }), { budget: b, ...noJitter });
    const next = scripted(() => fakeResponse(503));
    const ctx = fakeContext();
    assert.equal((await layer(next.handler)(fakeRequest(), ctx, signal())).status, 503);
    assert.equal(next.calls, 2, "the floor allowed exactly one retry");
    assert.ok(ctx.flags.has("UO"));
    assert.equal(ctx.flags.has("URX"), false);
  });

  test("the cluster's retry limiter caps retries and gets every slot back", async () => {
    let held = 0;
    let refusals = 0;
    const limiter = { tryAcquire: () => (held < 1 ? (held++, true) : (refusals++, false)), release: () => void held-- };
    const next = scripted(() => fakeResponse(503), () => fakeResponse(503), () => fakeResponse(200));
    const res = await retryLayer(policy({ attempts: 3 }), { budget: budget(), retryLimiter: limiter, ...noJitter })(next.handler)(fakeRequest(), fakeContext(), signal());
    assert.equal(res.status, 200);
    assert.equal(held, 0);
    assert.equal(refusals, 0, "slots are released once the retried try answers, so sequential retries all fit");
    held = 1; // another request's retry holds the only slot
    const ctx = fakeContext();
    const blocked = scripted(() => fakeResponse(503));
    assert.equal((await retryLayer(policy(), { budget: budget(), retryLimiter: limiter })(blocked.handler)(fakeRequest(), ctx, signal())).status, 503);
    assert.equal(blocked.calls, 1);
    assert.ok(ctx.flags.has("UO"));
  });

  test("attempts 0 passes straight through without keeping the body", async () => {
    const next = scripted(() => fakeResponse(503));
    const req = requestWithBody(["x"]);
    await retryLayer(policy({ attempts: 0 }), { budget: budget() })(next.handler)(req, fakeContext(), signal());
    assert.equal(next.calls, 1);
    req.body.open();
    assert.equal(req.body.replayable, false);
  });
});
