/**
 * The Node peer: `http-proxy` (the most used Node reverse proxy) in front of the app, as a
 * child process. argv[2]: the app's port. Prints `{"event":"listening","port":N}`.
 *
 * Configured the way one would run it in production, and fairly: one process (trellis-proxy
 * is one process too), keep-alive to the app through an http.Agent with no socket limit
 * (idle sockets kept), keep-alive to clients, no per-request logging, no X-Forwarded-*
 * headers. It does less than a sidecar (no routing table, metrics, access log, retries,
 * outlier detection), so it is the throughput a Node proxy reaches with nearly no features.
 *
 * Plain JavaScript, so it runs without a TypeScript loader, like trellis-proxy's bundle.
 */
import http from "node:http";
import httpProxy from "http-proxy";

const appPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, keepAliveMsecs: 60_000 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${appPort}`, agent, xfwd: false });
proxy.on("error", (_err, _req, res) => {
  if (typeof res.writeHead === "function" && !res.headersSent) res.writeHead(502).end();
  else res.destroy();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 75_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ event: "listening", port: server.address().port }) + "\n");
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
