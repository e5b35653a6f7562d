import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startProxy } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

const MB = 1024 * 1024;

/** Waits for `drain`, or for `close` if the response dies first. */
function drainOrClose(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** A one-shot latch the test and the app use to hand control back and forth. */
function latch(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/**
 * The app behind the server sidecar. Each path is one streaming behaviour; the test drives
 * the app through `gates` (the app waits on them) and reads what it observed in `stats`.
 */
function startStreamingApp() {
  const stats = { produced: 0, consumed: 0, connections: 0, aborted: 0, responsesClosedEarly: 0 };
  const gates = { firstChunkSeen: latch(), finishResponse: latch(), startReading: latch() };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://app");
    switch (url.pathname) {
      case "/echo-count": {
        let n = 0;
        for await (const c of req) n += (c as Buffer).length;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ bytes: n }));
        return;
      }
      case "/two-part": {
        // First chunk now, the rest only once the test saw the first one arrive.
        req.resume();
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first\n");
        await gates.finishResponse.promise;
        gates.finishResponse = latch();
        res.end("last\n");
        return;
      }
      case "/report-first-chunk": {
        let n = 0;
        req.on("data", (c: Buffer) => {
          if (n === 0) gates.firstChunkSeen.open();
          n += c.length;
        });
        req.on("end", () => {
          gates.firstChunkSeen = latch();
          res.end(JSON.stringify({ bytes: n }));
        });
        return;
      }
      case "/die-midway": {
        // Promises 1 MB, sends half, then the connection dies.
        req.resume();
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(MB) });
        res.write(Buffer.alloc(MB / 2, 0x64), () => setTimeout(() => req.socket.destroy(), 20));
        return;
      }
      case "/count-or-abort": {
        // Counts the body; an upload that stops short is reported in stats.aborted.
        let n = 0;
        req.on("data", (c: Buffer) => (n += c.length));
        req.on("end", () => res.end(JSON.stringify({ bytes: n })));
        req.on("close", () => {
          if (!req.complete) stats.aborted++;
        });
        return;
      }
      case "/produce": {
        // Writes `bytes` as fast as the path lets it: with backpressure, `produced` stalls while the client does not read.
        req.resume();
        const total = Number(url.searchParams.get("bytes"));
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(total) });
        while (stats.produced < total) {
          const n = Math.min(chunk.length, total - stats.produced);
          stats.produced += n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) await drainOrClose(res);
          if (res.destroyed) {
            stats.responsesClosedEarly++;
            return;
          }
        }
        res.end();
        return;
      }
      case "/read-later": {
        // Does not read the request body until the test says so.
        req.pause();
        await gates.startReading.promise;
        gates.startReading = latch();
        stats.consumed = 0;
        for await (const c of req) stats.consumed += (c as Buffer).length;
        res.end(JSON.stringify({ bytes: stats.consumed }));
        return;
      }
      default:
        res.writeHead(404).end();
    }
  });
  server.on("connection", () => stats.connections++);
  return {
    stats,
    gates,
    server,
    async listen(): Promise<number> {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      return (server.address() as AddressInfo).port;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A request body of `total` bytes made on the fly from one 64 KiB buffer; `pulled()` says how much the sender has taken so far. */
function generatedBody(total: number): { stream: Readable; pulled(): number } {
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
  return { stream, pulled: () => sent };
}

function send(port: number, path: string, opts: { method?: string; headers?: http.OutgoingHttpHeaders; agent?: http.Agent; body?: Readable | string } = {}): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: { host: "stream:8000", ...opts.headers }, agent: opts.agent ?? false }, resolve);
    req.on("error", reject);
    if (opts.body instanceof Readable) opts.body.pipe(req);
    else req.end(opts.body);
  });
}

async function waitFor(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function text(res: http.IncomingMessage): Promise<string> {
  let s = "";
  for await (const c of res) s += (c as Buffer).toString();
  return s;
}

/** The first body chunk, or a failure if it did not come on its own within 3 s. */
function firstChunk(res: NodeJS.ReadableStream): Promise<string> {
  return Promise.race([
    new Promise<string>((resolve) => res.once("data", (c: Buffer) => resolve(c.toString()))),
    sleep(3_000, undefined, { ref: false }).then(() => assert.fail("the first chunk did not arrive before the app finished the response")),
  ]);
}

describe("HTTP/1.1 streaming through a sidecar pair", () => {
  let app: ReturnType<typeof startStreamingApp>;
  let server: TestProxy;
  let client: TestProxy;
  let port: number;

  before(async () => {
    app = startStreamingApp();
    const appPort = await app.listen();
    server = await startProxy({ app: "stream" }, snapshot({ service: "stream", listeners: [{ name: "http", port: 8000, targetPort: appPort, protocol: "http" }] }));
    client = await startProxy({ app: "caller" }, snapshot({ service: "caller", hosts: [host({ name: "stream", ports: [{ port: 8000, protocol: "http" }], endpoints: [{ port: server.inboundPort, sidecar: true }] })] }));
    port = client.dp.ports.outbound;
  });
  after(async () => {
    await client.stop();
    await server.stop();
    await app.close();
  });

  it("keeps the downstream connection alive across requests, local replies included", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const appConnections = app.stats.connections;
    try {
      const sockets = new Set<number>();
      const statuses: number[] = [];
      const steps: Array<[string, string, string | undefined]> = [
        ["GET", "/echo-count", undefined],
        ["POST", "/echo-count", "x".repeat(50_000)],
        ["GET", "/missing", undefined],
        ["POST", "/echo-count", "y".repeat(10)],
      ];
      for (const [method, path, body] of steps) {
        const res = await send(port, path, { method, agent, body, ...(body ? { headers: { "content-length": String(body.length) } } : {}) });
        sockets.add(res.socket.localPort!);
        statuses.push(res.statusCode!);
        const t = await text(res);
        if (path === "/echo-count") assert.equal((JSON.parse(t) as { bytes: number }).bytes, body?.length ?? 0);
      }
      // A local reply (no route) on the same connection must not close it either.
      const nr = await new Promise<http.IncomingMessage>((resolve, reject) => http.request({ host: "127.0.0.1", port, path: "/", headers: { host: "nowhere:1" }, agent }, resolve).on("error", reject).end());
      sockets.add(nr.socket.localPort!);
      statuses.push(nr.statusCode!);
      await text(nr);
      const again = await send(port, "/echo-count", { agent });
      sockets.add(again.socket.localPort!);
      await text(again);
      assert.deepEqual(statuses, [200, 200, 404, 200, 404]);
      assert.equal(sockets.size, 1, `every request used one downstream connection (saw ${sockets.size})`);
      assert.ok(app.stats.connections - appConnections <= 1, `the server sidecar reused its connection to the app (opened ${app.stats.connections - appConnections})`);
    } finally {
      agent.destroy();
    }
  });

  it("delivers the first response chunk before the app finished the response", async () => {
    const res = await send(port, "/two-part");
    assert.equal(res.statusCode, 200);
    const first = await firstChunk(res);
    assert.equal(first, "first\n", "the first chunk arrived on its own; the app is still waiting on us");
    app.gates.finishResponse.open();
    assert.equal(await text(res), "last\n");
  });

  it("streams a request body to the app before the client finished sending it (chunked)", async () => {
    const body = new Readable({ read() {} });
    const response = send(port, "/report-first-chunk", { method: "POST", body, headers: { "transfer-encoding": "chunked" } });
    body.push(Buffer.alloc(1000, 0x63));
    // Only the first part is sent; the app has to see it while the rest is still unwritten.
    await Promise.race([app.gates.firstChunkSeen.promise, sleep(3_000, undefined, { ref: false }).then(() => assert.fail("the app did not see the first chunk while the client was still sending"))]);
    body.push(Buffer.alloc(2000, 0x63));
    body.push(null);
    const res = await response;
    assert.equal((JSON.parse(await text(res)) as { bytes: number }).bytes, 3000);
  });

  it("applies backpressure to the upstream when the client stops reading", async (t) => {
    const total = 256 * MB;
    app.stats.produced = 0;
    const res = await send(port, `/produce?bytes=${total}`);
    res.pause();
    await sleep(500);
    const stalled = app.stats.produced;
    t.diagnostic(`app produced ${(stalled / MB).toFixed(1)} MiB before it blocked`);
    await sleep(300);
    assert.equal(app.stats.produced, stalled, "the app is blocked while the client does not read");
    assert.ok(stalled < 32 * MB, `at most socket and window buffers are in flight (app produced ${(stalled / MB).toFixed(1)} MiB)`);
    let received = 0;
    res.on("data", (c: Buffer) => (received += c.length));
    res.resume();
    await new Promise((r) => res.once("end", r));
    assert.equal(received, total);
  });

  it("applies backpressure to the client when the app stops reading", async (t) => {
    const total = 256 * MB;
    const body = generatedBody(total);
    const response = send(port, "/read-later", { method: "PUT", body: body.stream, headers: { "content-length": String(total) } });
    await sleep(500);
    const stalled = body.pulled();
    t.diagnostic(`client sent ${(stalled / MB).toFixed(1)} MiB before it blocked`);
    await sleep(300);
    assert.equal(body.pulled(), stalled, "the client is blocked while the app does not read");
    assert.ok(stalled < 32 * MB, `at most socket and window buffers are in flight (client sent ${(stalled / MB).toFixed(1)} MiB)`);
    app.gates.startReading.open();
    const res = await response;
    assert.equal((JSON.parse(await text(res)) as { bytes: number }).bytes, total);
  });

  it("cuts the client's response short when the app dies mid-response", async () => {
    const res = await send(port, "/die-midway");
    assert.equal(res.statusCode, 200);
    let received = 0;
    res.on("data", (c: Buffer) => (received += c.length));
    const outcome = await new Promise<string>((resolve) => {
      res.once("end", () => resolve("end"));
      res.once("error", () => resolve("error"));
      res.once("aborted", () => resolve("aborted"));
    });
    assert.notEqual(outcome, "end", "a truncated body must not look complete");
    assert.ok(received < MB, `got ${received} of ${MB} bytes`);
    // Both sidecars blame the upstream reset, not the downstream (DC).
    const logged = (p: TestProxy) => p.accessLog.lines.find((l) => l.path === "/die-midway");
    await waitFor("both sidecars to log the request", () => logged(server) !== undefined && logged(client) !== undefined);
    assert.equal(logged(server)!.response_flags, "UR");
    assert.equal(logged(client)!.response_flags, "UR");
  });

  it("stops the app's response when the client goes away mid-download", async () => {
    const before = app.stats.responsesClosedEarly;
    app.stats.produced = 0;
    const res = await send(port, `/produce?bytes=${1024 * MB}`);
    let received = 0;
    await new Promise<void>((resolve) => {
      res.on("data", (c: Buffer) => {
        received += c.length;
        if (received > 4 * MB) {
          res.destroy();
          resolve();
        }
      });
    });
    await waitFor("the app's response to be closed", () => app.stats.responsesClosedEarly > before);
    assert.ok(app.stats.produced < 128 * MB, `the app stopped early (${(app.stats.produced / MB).toFixed(0)} MiB)`);
  });

  it("aborts the app's request when the client goes away mid-upload", async () => {
    const before = app.stats.aborted;
    const body = generatedBody(1024 * MB);
    const req = http.request({ host: "127.0.0.1", port, path: "/count-or-abort", method: "POST", headers: { host: "stream:8000", "content-length": String(1024 * MB) }, agent: false });
    req.on("error", () => undefined);
    body.stream.pipe(req);
    await waitFor("some of the upload to be sent", () => body.pulled() > 8 * MB);
    req.destroy();
    await waitFor("the app to see the request aborted", () => app.stats.aborted > before);
  });

  describe("with an HTTP/2 (h2c) caller", () => {
    let session: http2.ClientHttp2Session;
    before(() => {
      session = http2.connect(`http://127.0.0.1:${port}`);
      session.on("error", () => undefined);
    });
    after(() => session.close());

    /** Opens a stream to the app's `path`; resolves with the stream once the response headers arrived. */
    const open = (path: string, method = "GET", endStream = true) => {
      const stream = session.request({ ":method": method, ":path": path, ":authority": "stream:8000" }, { endStream });
      const response = new Promise<{ status: number; stream: http2.ClientHttp2Stream }>((resolve, reject) => {
        stream.once("response", (h) => resolve({ status: Number(h[":status"]), stream }));
        stream.once("error", reject);
      });
      return { stream, response };
    };

    it("delivers the first response chunk before the app finished the response", async () => {
      const { status, stream } = await open("/two-part").response;
      assert.equal(status, 200);
      assert.equal(await firstChunk(stream), "first\n");
      app.gates.finishResponse.open();
      assert.equal(await text(stream as unknown as http.IncomingMessage), "last\n");
    });

    it("streams a request body of unknown length to the HTTP/1.1 app before the caller finished it", async () => {
      const { stream, response } = open("/report-first-chunk", "POST", false);
      stream.write(Buffer.alloc(1000, 0x63));
      await Promise.race([app.gates.firstChunkSeen.promise, sleep(3_000, undefined, { ref: false }).then(() => assert.fail("the app did not see the first chunk while the caller was still sending"))]);
      stream.end(Buffer.alloc(2000, 0x63));
      const res = await response;
      assert.equal((JSON.parse(await text(res.stream as unknown as http.IncomingMessage)) as { bytes: number }).bytes, 3000);
    });

    it("applies backpressure to the upstream when the caller stops reading", async (t) => {
      const total = 256 * MB;
      app.stats.produced = 0;
      const { status, stream } = await open(`/produce?bytes=${total}`).response;
      assert.equal(status, 200);
      stream.pause();
      await sleep(500);
      const stalled = app.stats.produced;
      t.diagnostic(`app produced ${(stalled / MB).toFixed(1)} MiB before it blocked`);
      await sleep(300);
      assert.equal(app.stats.produced, stalled, "the app is blocked while the caller does not read");
      assert.ok(stalled < 32 * MB, `at most socket and window buffers are in flight (app produced ${(stalled / MB).toFixed(1)} MiB)`);
      let received = 0;
      stream.on("data", (c: Buffer) => (received += c.length));
      stream.resume();
      await new Promise((r) => stream.once("end", r));
      assert.equal(received, total);
    });

    it("uploads 256 MiB at a useful rate", async (t) => {
      const total = 256 * MB;
      const started = performance.now();
      const { stream, response } = open("/echo-count", "POST", false);
      generatedBody(total).stream.pipe(stream);
      const res = await response;
      assert.equal((JSON.parse(await text(res.stream as unknown as http.IncomingMessage)) as { bytes: number }).bytes, total);
      const seconds = (performance.now() - started) / 1000;
      t.diagnostic(`256 MiB h2c upload: ${seconds.toFixed(1)} s (${(256 / seconds).toFixed(0)} MiB/s)`);
    });
  });

  it("uploads 1 GiB through the pair with bounded memory", async (t) => {
    const total = 1024 * MB;
    const base = process.memoryUsage();
    let peakRss = base.rss;
    let peakArrayBuffers = base.arrayBuffers;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
    }, 50);
    const started = performance.now();
    try {
      const body = generatedBody(total);
      const res = await send(port, "/echo-count", { method: "POST", body: body.stream, headers: { "content-length": String(total) } });
      assert.equal(res.statusCode, 200);
      assert.equal((JSON.parse(await text(res)) as { bytes: number }).bytes, total, "the app counted every byte");
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    const rssGrowth = (peakRss - base.rss) / MB;
    const abGrowth = (peakArrayBuffers - base.arrayBuffers) / MB;
    t.diagnostic(`1 GiB upload: ${seconds.toFixed(1)} s (${(1024 / seconds).toFixed(0)} MiB/s), peak RSS +${rssGrowth.toFixed(0)} MiB, peak arrayBuffers +${abGrowth.toFixed(0)} MiB`);
    assert.ok(rssGrowth < 200, `RSS grew by ${rssGrowth.toFixed(0)} MiB`);
    assert.ok(abGrowth < 100, `arrayBuffers grew by ${abGrowth.toFixed(0)} MiB`);
    const inbound = server.accessLog.lines.at(-1)!;
    assert.equal(inbound.bytes_received, total);
    assert.equal(client.accessLog.lines.at(-1)!.bytes_received, total);
  });
});
