import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { after, describe, it } from "node:test";
import { UNKNOWN_PEER } from "../core/context";
import { createLogger } from "../core/log";
import { createHttp1Server } from "./http1";

// The HTTP/1.1 edge on a real socket (port 0) with node:http as the client; the handler stands
// in for the router and hands back a response body the test holds on to.

describe("HTTP/1.1 edge", () => {
  it("takes its listeners off the upstream body once it ended (a peer's HTTP/2 stream outlives the exchange)", async () => {
    const bodies: PassThrough[] = [];
    const statuses: number[] = [];
    const server = createHttp1Server({
      direction: "outbound",
      handler: () => async () => {
        const body = new PassThrough();
        bodies.push(body);
        body.end(Buffer.alloc(1500, "b"));
        return { status: 200, headers: { "content-type": "text/plain" }, body, trailers: () => undefined };
      },
      source: () => UNKNOWN_PEER,
      finish: (_ctx, _req, outcome) => statuses.push(outcome.status),
      log: createLogger("error"),
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true });
    after(() => agent.destroy());
    for (let i = 0; i < 2; i++) {
      const got = await new Promise<{ status: number; bytes: number }>((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path: "/", agent, headers: { host: "app" } }, (res) => {
          let bytes = 0;
          res.on("data", (c: Buffer) => (bytes += c.length));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
        }).on("error", reject);
      });
      assert.deepEqual(got, { status: 200, bytes: 1500 });
    }
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(statuses, [200, 200]);
    for (const b of bodies) {
      // Before, the data and error listeners stayed, holding the response and the request's context.
      assert.equal(b.listenerCount("data"), 0, "data listener removed");
      assert.equal(b.listenerCount("end"), 0, "end listener removed");
    }
  });

  it("keeps the connection's abort entry between requests, and still aborts when the client leaves", async () => {
    // Each request's layers add and remove an abort listener on the connection's signal (undici
    // does, for every upstream request). Were the signal left with no listener between requests,
    // Node's EventTarget would delete and re-insert its "abort" entry each time, rehashing a Map
    // that by then lives in old space; the heap profile of a sidecar at saturation showed those
    // backing stores as its largest source of promoted bytes. One listener stays for the
    // connection's life, so each request only links and unlinks its own.
    const signals: AbortSignal[] = [];
    const server = createHttp1Server({
      direction: "outbound",
      handler: () => async (_req, _ctx, signal) => {
        const onAbort = () => undefined;
        signal.addEventListener("abort", onAbort, { once: true });
        signals.push(signal);
        signal.removeEventListener("abort", onAbort);
        return { status: 204, headers: {}, body: null, trailers: () => undefined };
      },
      source: () => UNKNOWN_PEER,
      finish: () => undefined,
      log: createLogger("error"),
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    after(() => agent.destroy());
    for (let i = 0; i < 3; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path: "/", agent, headers: { host: "app" } }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        }).on("error", reject);
      });
      assert.equal(status, 204);
      assert.equal(getEventListeners(signals[i]!, "abort").length, 1, `after request ${i + 1}: only the connection's own listener`);
    }
    assert.equal(new Set(signals).size, 1, "one signal per connection");
    agent.destroy();
    const signal = signals[0]!;
    for (let i = 0; i < 100 && !signal.aborted; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(signal.aborted, true, "the client's close aborts the connection's signal");
  });

  it("reports a request whose client went away while it was dispatched (DC), and drops the upstream body", async () => {
    const finished: Array<{ status: number; flags: string }> = [];
    let body: PassThrough | undefined;
    let answer!: () => void;
    const server = createHttp1Server({
      direction: "outbound",
      handler: () => () =>
        new Promise((resolve) => {
          answer = () => {
            body = new PassThrough();
            resolve({ status: 200, headers: {}, body, trailers: () => undefined });
          };
        }),
      source: () => UNKNOWN_PEER,
      finish: (ctx, _req, outcome) => finished.push({ status: outcome.status, flags: ctx.flags.format() }),
      log: createLogger("error"),
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const req = http.get({ host: "127.0.0.1", port, path: "/", headers: { host: "app" } });
    req.on("error", () => undefined);
    while (answer === undefined) await new Promise((r) => setTimeout(r, 5));
    req.destroy();
    await new Promise((r) => setTimeout(r, 50)); // the server saw the connection close
    answer();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(finished, [{ status: 200, flags: "DC" }]);
    assert.ok(body?.destroyed, "the upstream body is dropped");
  });
});
