import assert from "node:assert/strict";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { H1Upstream } from "./h1-upstream";

// Runs without undici's package index loaded (undici-modules.test.ts compares against it in a process of its own):
// the index mixes the request API into Dispatcher.prototype, which would hide a pool that lacks it.

test("an HTTP/1.1 exchange through the pool: status, headers, streamed body", async (t) => {
  const server = http.createServer((req, res) => res.writeHead(201, { "x-up": req.headers.host ?? "" }).end(`${req.method} ${req.url}`));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  const up = new H1Upstream(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.after(() => up.close());
  assert.equal(Object.keys(createRequire(import.meta.url).cache).some((f) => /undici[\\/]index\.js$/.test(f)), false, "undici's index is not loaded here");
  const res = await up.send("GET", "/a?b=1", "svc:8080", {}, null, new AbortController().signal);
  assert.equal(res.status, 201);
  assert.equal(res.headers["x-up"], "svc:8080");
  let text = "";
  for await (const c of res.body!) text += String(c);
  assert.equal(text, "GET /a?b=1");
});
