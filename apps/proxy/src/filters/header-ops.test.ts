import assert from "node:assert/strict";
import { test } from "node:test";
import { headerOpsLayer, rewriteLayer, rewritePath } from "./header-ops";
import { fakeContext, fakeRequest, fakeResponse, scripted } from "./test-fakes";

test("request ops: remove, then set, then add; the caller's request keeps its headers", async () => {
  const next = scripted((req) => fakeResponse(200, { echo: JSON.stringify(req.headers) }));
  const req = fakeRequest({ headers: { "x-drop": "1", "x-set": "old", "x-add": "a", keep: "k" } });
  const res = await headerOpsLayer({ request: { remove: ["X-Drop"], set: { "X-Set": "new" }, add: { "x-add": "b", "x-new": "n" } } })(next.handler)(req, fakeContext(), new AbortController().signal);
  assert.deepEqual(JSON.parse(res.headers.echo as string), { "x-set": "new", "x-add": ["a", "b"], keep: "k", "x-new": "n" });
  assert.deepEqual(req.headers, { "x-drop": "1", "x-set": "old", "x-add": "a", keep: "k" });
});

test("a retry replaying the request does not add twice", async () => {
  const seen: unknown[] = [];
  const inner = headerOpsLayer({ request: { add: { via: "trellis" } } })(async (req) => (seen.push(req.headers.via), fakeResponse(200)));
  const req = fakeRequest({ headers: { via: "client" } });
  await inner(req, fakeContext(), new AbortController().signal);
  await inner(req, fakeContext(), new AbortController().signal);
  assert.deepEqual(seen, [["client", "trellis"], ["client", "trellis"]]);
});

test("response ops apply to the returned headers", async () => {
  const next = scripted(() => fakeResponse(200, { server: "app", "set-cookie": ["a=1"] }));
  const res = await headerOpsLayer({ response: { remove: ["server"], add: { "set-cookie": "b=2" }, set: { "x-served-by": "trellis" } } })(next.handler)(fakeRequest(), fakeContext(), new AbortController().signal);
  assert.deepEqual(res.headers, { "set-cookie": ["a=1", "b=2"], "x-served-by": "trellis" });
});

test("no ops: the layer is the identity", () => {
  const h = scripted(() => fakeResponse(200)).handler;
  assert.equal(headerOpsLayer({ request: { set: {} } })(h), h);
  assert.equal(rewriteLayer({})(h), h);
});

test("uri replaces the matched prefix and keeps the query string", () => {
  assert.equal(rewritePath("/api/v1/items?x=1&y=2", "/svc", "/api"), "/svc/v1/items?x=1&y=2");
  assert.equal(rewritePath("/api/items", "/", "/api/"), "/items");
  assert.equal(rewritePath("/api/items", "/", "/api"), "//items", "a plain replacement, as Envoy's prefix_rewrite");
  assert.equal(rewritePath("/exact?q", "/other"), "/other?q", "no prefix: the whole path");
  assert.equal(rewritePath("/elsewhere", "/svc", "/api"), "/elsewhere", "a path without the prefix is left alone");
});

test("rewriteLayer passes a rewritten copy and leaves the original request alone", async () => {
  const next = scripted((req) => fakeResponse(200, { path: req.path, authority: req.authority }));
  const req = fakeRequest({ path: "/reviews/1?v=2", authority: "reviews:9080" });
  const res = await rewriteLayer({ uri: "/v2/reviews", authority: "reviews-v2:9080" }, "/reviews")(next.handler)(req, fakeContext(), new AbortController().signal);
  assert.deepEqual(res.headers, { path: "/v2/reviews/1?v=2", authority: "reviews-v2:9080" });
  assert.equal(req.path, "/reviews/1?v=2");
});
