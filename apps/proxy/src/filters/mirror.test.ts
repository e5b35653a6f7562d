import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProxyRequest } from "../core/types";
import { mirrorLayer, shadowAuthority } from "./mirror";
import { fakeContext, fakeRequest, fakeResponse, requestWithBody, scripted, settle } from "./test-fakes";

async function drain(req: ProxyRequest): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req.body.open() ?? []) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

test("a chosen request is copied to `send` with a -shadow authority and the whole body", async () => {
  const sent: ProxyRequest[] = [];
  let mainBody = "";
  const next = scripted(async (req) => ((mainBody = await drain(req)), fakeResponse(200)));
  const req = requestWithBody(["a", "b", "c"], { authority: "reviews.default:9080", headers: { "x-id": "1", cookie: ["a", "b"] } });
  const res = await mirrorLayer(100, (r) => void sent.push(r), { random: () => 0.5 })(next.handler)(req, fakeContext(), new AbortController().signal);
  await settle(20);
  assert.equal(res.status, 200);
  assert.equal(mainBody, "abc");
  assert.equal(sent.length, 1);
  const copy = sent[0]!;
  assert.equal(copy.authority, "reviews.default-shadow:9080");
  assert.equal(req.authority, "reviews.default:9080", "the main request is untouched");
  assert.deepEqual(copy.headers, { "x-id": "1", cookie: ["a", "b"] });
  assert.notEqual(copy.headers.cookie, req.headers.cookie, "header arrays are copied, not shared");
  assert.equal(await drain(copy), "abc");
});

test("only the configured share is mirrored", async () => {
  let draw = 0;
  let sent = 0;
  const h = mirrorLayer(25, () => void sent++, { random: () => draw })(scripted(() => fakeResponse(200)).handler);
  for (const d of [0.1, 0.2, 0.249, 0.25, 0.9]) {
    draw = d;
    await h(fakeRequest(), fakeContext(), new AbortController().signal);
  }
  await settle();
  assert.equal(sent, 3);
});

test("a body too large to keep is not mirrored, and the main request still gets it all", async () => {
  let sent = 0;
  let mainBody = "";
  const next = scripted(async (req) => ((mainBody = await drain(req)), fakeResponse(200)));
  await mirrorLayer(100, () => void sent++)(next.handler)(requestWithBody(["0123456789", "0123456789"], {}, 15), fakeContext(), new AbortController().signal);
  await settle(20);
  assert.equal(sent, 0);
  assert.equal(mainBody, "01234567890123456789");
});

test("whatever `send` does never reaches the response", async () => {
  const next = scripted(() => fakeResponse(202));
  const throwing = mirrorLayer(100, () => {
    throw new Error("boom");
  })(next.handler);
  const rejecting = mirrorLayer(100, (() => Promise.reject(new Error("boom"))) as (r: ProxyRequest) => void)(next.handler);
  assert.equal((await throwing(fakeRequest(), fakeContext(), new AbortController().signal)).status, 202);
  assert.equal((await rejecting(fakeRequest(), fakeContext(), new AbortController().signal)).status, 202);
  await settle(20); // an unhandled rejection here would fail the run
});

test("the response does not wait for the mirror", async () => {
  let sent = 0;
  const next = scripted(() => fakeResponse(200));
  // The body is never read by `next`, so it never completes: the copy never goes, the response still does.
  const res = await mirrorLayer(100, () => void sent++)(next.handler)(requestWithBody(["x"]), fakeContext(), new AbortController().signal);
  assert.equal(res.status, 200);
  assert.equal(sent, 0);
});

test("shadowAuthority suffixes the host, keeping the port", () => {
  assert.equal(shadowAuthority("reviews:9080"), "reviews-shadow:9080");
  assert.equal(shadowAuthority("api.example.com"), "api.example.com-shadow");
  assert.equal(shadowAuthority("[::1]:80"), "[::1]-shadow:80");
});
