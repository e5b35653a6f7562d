import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { test } from "node:test";
import { withRelease } from "./upstream-cluster";

const response = (body: Readable | null) => ({ status: 200, headers: {}, body, trailers: () => undefined });
const tick = () => new Promise((r) => setImmediate(r));

test("an attempt is released once its response body ends, even when the stream stays open (HTTP/2: the request side still running)", async () => {
  let released = 0;
  // autoDestroy off: 'end' comes, 'close' does not, as on an HTTP/2 stream whose request body is still being sent.
  const body = new Readable({ read() {}, autoDestroy: false });
  withRelease(response(body), () => released++);
  body.push("x");
  body.push(null);
  body.resume();
  await tick();
  assert.equal(released, 1);
  body.destroy();
  await tick();
  assert.equal(released, 1, "released once, not again on close");
  assert.equal(body.listenerCount("end") + body.listenerCount("close"), 0, "nothing of the exchange stays on the body");
});

test("an abandoned or failed body releases on close; no body releases at once", async () => {
  let released = 0;
  const abandoned = new PassThrough();
  withRelease(response(abandoned), () => released++);
  abandoned.destroy();
  await tick();
  assert.equal(released, 1);
  const failed = new PassThrough();
  withRelease(response(failed), () => released++);
  failed.destroy(new Error("upstream reset"));
  await tick();
  assert.equal(released, 2, "an error before anyone listens does not throw, and still releases");
  withRelease(response(null), () => released++);
  assert.equal(released, 3);
});
