/**
 * A null OTLP/HTTP trace receiver for the proxy benchmark: accepts POST /v1/traces, reads the
 * body, answers 200 with an empty ExportTraceServiceResponse (zero protobuf bytes). The
 * proxies pay their whole export cost (encoding, batching, the POST); nothing on the machine
 * pays for storing spans, so the proxies' figures are theirs. `--otlp control-plane` sends to
 * the real store instead. Prints `{"event":"listening","port":N}`; `GET /stats` gives the
 * requests and bytes received.
 */
import http from "node:http";

const stats = { requests: 0, bytes: 0 };
const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats));
  if (req.method !== "POST" || !req.url?.startsWith("/v1/traces")) return res.writeHead(404).end();
  req.on("data", (c) => (stats.bytes += c.length));
  req.on("end", () => {
    stats.requests++;
    res.writeHead(200, { "content-type": "application/x-protobuf", "content-length": 0 }).end();
  });
});
server.keepAliveTimeout = 75_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ event: "listening", port: server.address().port }) + "\n"));
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
