import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { UpstreamTimeoutError } from "../core/errors";
import { timeoutLayer } from "./timeout";
import { fakeContext, fakeRequest, fakeResponse, hang, responseWithBody, scripted, settle } from "./test-fakes";

describe("timeoutLayer", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  test("expiry aborts the signal given to next and throws UpstreamTimeoutError", async () => {
    const next = scripted(hang);
    const p = timeoutLayer(1000)(next.handler)(fakeRequest(), fakeContext(), new AbortController().signal);
    await settle();
    assert.equal(next.signals[0]!.aborted, false);
    mock.timers.tick(1000);
    const err = await p.catch((e: unknown) => e);
    assert.ok(err instanceof UpstreamTimeoutError);
    assert.equal(err.flag, "UT");
    assert.equal(next.signals[0]!.aborted, true);
    assert.equal(next.signals[0]!.reason, err, "the transport sees why it was cancelled");
  });

  test("headers in time: the response passes and the timer no longer matters", async () => {
    const next = scripted(() => fakeResponse(201));
    const res = await timeoutLayer(1000)(next.handler)(fakeRequest(), fakeContext(), new AbortController().signal);
    assert.equal(res.status, 201);
    mock.timers.tick(5000);
    assert.equal(next.signals[0]!.aborted, false, "a streaming body is not cut off by the route timeout");
  });

  test("a response arriving after the timeout is discarded", async () => {
    let answer!: (r: ReturnType<typeof responseWithBody>) => void;
    const late = responseWithBody(200);
    const next = scripted(() => new Promise((r) => (answer = r)));
    const p = timeoutLayer(50)(next.handler)(fakeRequest(), fakeContext(), new AbortController().signal);
    await settle();
    mock.timers.tick(50);
    await assert.rejects(p, UpstreamTimeoutError);
    answer(late);
    await settle();
    assert.equal(late.body.destroyed, true);
  });

  test("the downstream going away aborts the child with the downstream's reason", async () => {
    const next = scripted(hang);
    const ac = new AbortController();
    const p = timeoutLayer(1000)(next.handler)(fakeRequest(), fakeContext(), ac.signal);
    await settle();
    const gone = new Error("downstream closed");
    ac.abort(gone);
    await assert.rejects(p, (e) => e === gone);
  });

  test("0 means no timeout", async () => {
    const next = scripted(() => fakeResponse(200));
    const layer = timeoutLayer(0);
    assert.equal(layer(next.handler), next.handler);
  });
});
