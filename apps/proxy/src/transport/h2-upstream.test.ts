import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { H2Upstream } from "./h2-upstream";

// H2Upstream against a real h2c server on port 0.

describe("H2Upstream", () => {
  it("once the response headers are in, the stream (now the body) keeps none of the request's listeners; trailers still arrive", async () => {
    const server = http2.createServer();
    server.on("stream", (stream) => {
      stream.respond({ ":status": 200, "content-type": "text/plain" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "x-done": "yes" }));
      stream.end("hello");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    after(() => server.close());
    const up = new H2Upstream("127.0.0.1", (server.address() as AddressInfo).port);
    after(() => up.close());
    const res = await up.send({ ":method": "GET", ":path": "/", ":authority": "app", ":scheme": "http" }, null, new AbortController().signal);
    assert.equal(res.status, 200);
    const stream = res.body as http2.ClientHttp2Stream;
    // Before: the pre-response error and close listeners (holding the request's body, promise
    // and signal) stayed on the stream for its whole life.
    assert.equal(stream.listenerCount("error"), 1, "one error listener, holding nothing");
    let text = "";
    stream.setEncoding("utf8");
    stream.on("data", (c: string) => (text += c));
    await new Promise((r) => stream.once("close", r));
    assert.equal(text, "hello");
    assert.deepEqual(res.trailers(), { "x-done": "yes" });
    assert.equal(stream.listenerCount("trailers"), 0, "trailers listener gone after the close");
  });
});
