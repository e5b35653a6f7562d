import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { FaultAbortError } from "../core/errors";
import { faultLayer } from "./fault";
import { grpcToHttpStatus, httpToGrpcStatus } from "./status-mapping";
import { fakeContext, fakeRequest, fakeResponse, scripted, settle } from "./test-fakes";

describe("faultLayer", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  test("a chosen delay sets DI and forwards only after fixedDelay", async () => {
    const next = scripted(() => fakeResponse(200));
    const ctx = fakeContext();
    const h = faultLayer({ delay: { fixedDelay: "2s", percentage: 100 } }, { random: () => 0.99 })(next.handler);
    const p = h(fakeRequest(), ctx, new AbortController().signal);
    await settle();
    assert.equal(next.calls, 0);
    assert.ok(ctx.flags.has("DI"));
    mock.timers.tick(1999);
    await settle();
    assert.equal(next.calls, 0);
    mock.timers.tick(1);
    assert.equal((await p).status, 200);
    assert.equal(next.calls, 1);
  });

  test("a delay gives up when the downstream goes away", async () => {
    const next = scripted(() => fakeResponse(200));
    const ac = new AbortController();
    const h = faultLayer({ delay: { fixedDelay: "5s", percentage: 100 } })(next.handler);
    const p = h(fakeRequest(), fakeContext(), ac.signal);
    const gone = new Error("downstream closed");
    ac.abort(gone);
    await assert.rejects(p, (e) => e === gone);
    mock.timers.tick(5000);
    await settle();
    assert.equal(next.calls, 0);
  });

  test("percentages are fractional: 0.1 % takes draws below 0.001", async () => {
    let draw = 0;
    const h = faultLayer({ abort: { httpStatus: 503, percentage: 0.1 } }, { random: () => draw })(scripted(() => fakeResponse(200)).handler);
    draw = 0.00099;
    await assert.rejects(h(fakeRequest(), fakeContext(), new AbortController().signal), FaultAbortError);
    draw = 0.00101;
    assert.equal((await h(fakeRequest(), fakeContext(), new AbortController().signal)).status, 200);
  });

  test("percentage 0 never fires, even on a draw of 0", async () => {
    const ctx = fakeContext();
    const h = faultLayer({ delay: { fixedDelay: "1s", percentage: 0 }, abort: { httpStatus: 500, percentage: 0 } }, { random: () => 0 })(scripted(() => fakeResponse(204)).handler);
    assert.equal((await h(fakeRequest(), ctx, new AbortController().signal)).status, 204);
    assert.equal(ctx.flags.size, 0);
  });

  test("an abort with only httpStatus gives gRPC callers the mapped status", async () => {
    const next = scripted(() => fakeResponse(200));
    const h = faultLayer({ abort: { httpStatus: 503, percentage: 100 } })(next.handler);
    const err = await h(fakeRequest(), fakeContext({ protocol: "grpc" }), new AbortController().signal).catch((e: unknown) => e);
    assert.ok(err instanceof FaultAbortError);
    assert.equal(err.status, 503);
    assert.equal(err.grpcStatus, 14);
    assert.equal(err.flag, "FI");
    assert.equal(next.calls, 0);
  });

  test("an abort with only grpcStatus gives HTTP callers google.rpc's HTTP status", async () => {
    const h = faultLayer({ abort: { grpcStatus: 4, percentage: 100 } })(scripted(() => fakeResponse(200)).handler);
    const err = await h(fakeRequest(), fakeContext(), new AbortController().signal).catch((e: unknown) => e);
    assert.ok(err instanceof FaultAbortError);
    assert.deepEqual([err.status, err.grpcStatus], [504, 4]);
  });

  test("delay then abort: both apply to the same request", async () => {
    const ctx = fakeContext();
    const h = faultLayer({ delay: { fixedDelay: "100ms", percentage: 100 }, abort: { httpStatus: 418, grpcStatus: 9, percentage: 100 } })(scripted(() => fakeResponse(200)).handler);
    const p = h(fakeRequest(), ctx, new AbortController().signal);
    mock.timers.tick(100);
    await assert.rejects(p, (e: unknown) => e instanceof FaultAbortError && e.status === 418 && e.grpcStatus === 9);
    assert.ok(ctx.flags.has("DI"));
  });
});

test("HTTP → gRPC status follows the gRPC spec", () => {
  const pairs: [number, number][] = [[400, 13], [401, 16], [403, 7], [404, 12], [429, 14], [502, 14], [503, 14], [504, 14], [500, 2], [418, 2]];
  for (const [http, grpc] of pairs) assert.equal(httpToGrpcStatus(http), grpc, `HTTP ${http}`);
});

test("gRPC → HTTP status follows google.rpc.Code", () => {
  const pairs: [number, number][] = [[1, 499], [2, 500], [3, 400], [4, 504], [5, 404], [7, 403], [8, 429], [12, 501], [14, 503], [16, 401], [99, 500]];
  for (const [grpc, http] of pairs) assert.equal(grpcToHttpStatus(grpc), http, `gRPC ${grpc}`);
});
