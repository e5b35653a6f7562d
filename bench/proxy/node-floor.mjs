/**
 * The Node floor: the least a Node.js process does to carry these requests, built from the
 * same runtime modules trellis-proxy is built on, with none of its work (no routing table,
 * metrics, access log, retries, policies, peer metadata). What they reach on this machine is
 * the best any proxy on Node's HTTP stack can reach here, so a target the floor itself misses
 * cannot be met by trellis-proxy either, whatever it trims. One process per role:
 *
 *   node node-floor.mjs single APP_H1_PORT
 *       node:http (HTTP/1.1) and node:http2 (h2c) listeners → undici Pool → app: the floor of
 *       "one trellis-proxy" (its outbound side is the same three modules).
 *   node node-floor.mjs pair-server APP_H1_PORT
 *       node:http2 (h2c) listener → undici Pool → app: the floor of the server sidecar.
 *   node node-floor.mjs pair-client SERVER_PORT
 *       node:http listener → one multiplexed node:http2 session → SERVER_PORT: the floor of
 *       the client sidecar (the pair speaks HTTP/2 between the two, as sidecars do).
 *   node node-floor.mjs pipe APP_H1_PORT APP_H2_PORT
 *       bytes relayed between sockets, one upstream connection per downstream connection, no
 *       HTTP at all: the ceiling of any userland proxy in Node on this machine.
 *
 * Each prints `{"event":"listening","h1":PORT,"h2":PORT}` (h2 absent where there is none).
 * Bodies stream both ways; hop-by-hop headers are dropped. Plain JavaScript, so it runs
 * without a TypeScript loader, like trellis-proxy's bundle.
 */
import { createRequire } from "node:module";
import http2 from "node:http2";
import net from "node:net";
import { PassThrough } from "node:stream";

// Loaded as trellis-proxy's bundle loads them (transport/h1-upstream.ts, scripts/build-app.mjs), so
// the floor does not carry memory the proxy does not: undici's Pool and request API from their own
// files (the index loads fetch, WebSocket and more), node:http through require (Node 24's ES view
// of it loads Node's bundled undici).
const require = createRequire(import.meta.url);
const http = require("node:http");
const Pool = require("undici/lib/dispatcher/pool.js");
const request = require("undici/lib/api/api-request.js");

const [role, a, b] = process.argv.slice(2);
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host"]);

/** Request or response headers without hop-by-hop ones and HTTP/2 pseudo-headers. */
function endToEnd(headers) {
  const out = {};
  for (const k in headers) if (k[0] !== ":" && !HOP_BY_HOP.has(k)) out[k] = headers[k];
  return out;
}

/** Forwards one request to the app through the pool; `respond(status, headers, body)` writes it back. */
function toApp(pool, method, path, authority, headers, body, respond, fail) {
  request.call(pool, { method, path, headers: { ...endToEnd(headers), host: authority }, body: body ?? undefined }).then(
    (res) => respond(res.statusCode, endToEnd(res.headers), res.body),
    fail,
  );
}

function h1Listener(handle) {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, handle);
  return server;
}

/** HTTP/1.1 side: node:http in, `forward` out. */
function h1Handler(forward) {
  return (req, res) => {
    const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
    forward(req.method, req.url, req.headers.host ?? "", req.headers, hasBody ? req.pipe(new PassThrough()) : null, (status, headers, body) => {
      res.writeHead(status, headers);
      body.pipe(res);
    }, () => {
      // A failure after the response started (the upstream stream reset mid-body) can only drop the connection.
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    });
  };
}

/** HTTP/2 side: node:http2 streams in, `forward` out. */
function h2Server(forward) {
  const server = http2.createServer();
  server.on("stream", (stream, headers, flags) => {
    stream.on("error", () => undefined);
    const ended = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    // undici destroys a request body it has sent; the stream is also the response, so it gets a PassThrough (trellis-proxy's RequestBody does the same).
    forward(headers[":method"], headers[":path"], headers[":authority"] ?? "", headers, ended ? null : stream.pipe(new PassThrough()), (status, out, body) => {
      if (stream.destroyed) return body.resume();
      stream.respond({ ":status": status, ...out });
      body.pipe(stream);
    }, () => {
      if (!stream.destroyed) stream.respond({ ":status": 502 }, { endStream: true });
    });
  });
  return server;
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

const out = {};
if (role === "single" || role === "pair-server") {
  const pool = new Pool(`http://127.0.0.1:${a}`, { connections: 256, pipelining: 1 });
  const forward = (method, path, authority, headers, body, respond, fail) => toApp(pool, method, path, authority, headers, body, respond, fail);
  out.h2 = await listen(h2Server(forward));
  if (role === "single") out.h1 = await listen(h1Listener(h1Handler(forward)));
} else if (role === "pair-client") {
  let session;
  const connect = () => {
    session = http2.connect(`http://127.0.0.1:${a}`, { peerMaxConcurrentStreams: 1000 });
    session.on("error", () => undefined);
    session.on("close", () => (session = undefined));
  };
  const forward = (method, path, authority, headers, body, respond, fail) => {
    if (!session) connect();
    const stream = session.request({ ":method": method, ":path": path, ":authority": authority, ...endToEnd(headers) }, { endStream: body === null });
    if (body) body.pipe(stream);
    stream.once("response", (h) => respond(h[":status"], endToEnd(h), stream));
    stream.once("error", fail);
  };
  out.h1 = await listen(h1Listener(h1Handler(forward)));
} else if (role === "pipe") {
  const relay = (appPort) =>
    net.createServer({ noDelay: true }, (down) => {
      const up = net.connect({ host: "127.0.0.1", port: appPort, noDelay: true });
      down.pipe(up).pipe(down);
      const close = () => (down.destroy(), up.destroy());
      for (const s of [down, up]) s.on("error", close).on("close", close);
    });
  out.h1 = await listen(relay(Number(a)));
  out.h2 = await listen(relay(Number(b)));
} else {
  process.stderr.write("usage: node node-floor.mjs single|pair-server APP_PORT | pair-client SERVER_PORT | pipe APP_H1_PORT APP_H2_PORT\n");
  process.exit(2);
}
process.stdout.write(JSON.stringify({ event: "listening", ...out }) + "\n");
process.on("SIGTERM", () => process.exit(0));
