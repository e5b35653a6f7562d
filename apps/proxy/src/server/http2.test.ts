import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { PassThrough, Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { UNKNOWN_PEER } from "../core/context";
import type { RequestContext } from "../core/context";
import { createLogger } from "../core/log";
import type { ProxyResponse } from "../core/types";
import { createHttp2Server } from "./http2";
import type { RequestOutcome } from "./edge";

// The HTTP/2 edge on a real h2c socket (port 0) with a real node:http2 client; the handler
// stands in for the router, handing back the response body it is given.

async function edge(body: () => Readable) {
  const finished: Array<{ ctx: RequestContext; outcome: RequestOutcome }> = [];
  const streams: http2.ServerHttp2Stream[] = [];
  const server = createHttp2Server({
    direction: "inbound",
    handler: () => async (): Promise<ProxyResponse> => ({ status: 200, headers: { "content-type": "text/plain" }, body: body(), trailers: () => undefined }),
    source: () => UNKNOWN_PEER,
    finish: (ctx, _req, outcome) => finished.push({ ctx, outcome }),
    log: createLogger("error"),
  });
  server.prependListener("stream", (s: http2.ServerHttp2Stream) => streams.push(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  client.on("error", () => undefined);
  after(() => {
    client.destroy();
    server.close();
  });
  return { server, client, finished, streams };
}

describe("HTTP/2 edge", () => {
  it("lets go of the upstream body once it ended: the stream, which closes later, keeps no listener holding it", async () => {
    const { client, finished, streams } = await edge(() => Readable.from([Buffer.alloc(1024, "x"), Buffer.alloc(512, "y")]));
    const req = client.request({ ":path": "/", ":authority": "app" }, { endStream: true });
    let bytes = 0;
    let status = 0;
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", (c: Buffer) => (bytes += c.length));
    await new Promise((r) => req.once("end", r));
    assert.equal(status, 200);
    assert.equal(bytes, 1536);
    const stream = streams[0]!;
    // Before the fix both stayed on the stream until it was collected, keeping the body (and the
    // exchange behind it) alive through scavenges.
    assert.equal(stream.listenerCount("drain"), 0, "no drain listener left on the stream");
    await new Promise((r) => (stream.closed ? r(undefined) : stream.once("close", r)));
    await new Promise((r) => setImmediate(r));
    assert.equal(finished.length, 1);
    assert.equal(finished[0]!.outcome.status, 200);
    assert.equal(finished[0]!.ctx.responseBytes, 1536);
    assert.ok(!finished[0]!.ctx.flags.has("DC") && !finished[0]!.ctx.flags.has("UR"));
  });

  it("an upstream body that fails mid-way resets the stream (UR) and detaches the same way", async () => {
    let upstream!: PassThrough;
    const { client, finished, streams } = await edge(() => (upstream = new PassThrough()));
    const req = client.request({ ":path": "/", ":authority": "app" }, { endStream: true });
    req.on("error", () => undefined);
    await new Promise((r) => req.once("response", r));
    upstream.write(Buffer.alloc(100, "a"));
    upstream.destroy(new Error("upstream reset"));
    await new Promise((r) => req.once("close", r));
    assert.equal(req.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR);
    const stream = streams[0]!;
    assert.equal(stream.listenerCount("drain"), 0);
    await new Promise((r) => (stream.closed ? r(undefined) : stream.once("close", r)));
    await new Promise((r) => setImmediate(r));
    assert.equal(finished.length, 1);
    assert.ok(finished[0]!.ctx.flags.has("UR"), `flags ${[...finished[0]!.ctx.flags].join(",")}`);
  });
});
