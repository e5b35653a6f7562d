import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { redactSecrets } from "@trellis/config";
import type { Logger } from "../core/log";
import type { ProxyMetrics } from "../telemetry/metrics";
import { clustersJson, clustersText } from "./cluster-status";
import type { ClusterStatus } from "./cluster-status";

/**
 * The proxy's admin port, after Envoy's: read-only views for probes, Prometheus and operators.
 *
 *   GET /ready        200 "ready", or 503 with the reason (no config yet, draining, ...)
 *   GET /metrics      Prometheus text of the proxy's registry
 *   GET /config_dump  the snapshot served, its version and revision, when applied, the last NACK (secrets redacted)
 *   GET /clusters     endpoints per cluster with health and request counts (JSON; `?format=text` for Envoy's lines)
 *   GET /stats        a few counters (JSON; `?format=text` for `name: value` lines)
 *
 * Every other path is 404, every other method 405. A handler failure is a 500 and a log line,
 * never a crash: the admin port must stay up while the proxy is in trouble, which is when it
 * is needed. Bind it to loopback unless something outside the pod must scrape it.
 */

/** What the admin server shows; the proxy's assembly implements it over its live state. */
export interface AdminSource {
  /** Whether the proxy can serve traffic, and if not why. */
  ready(): { ready: boolean; reason?: string };
  metrics: ProxyMetrics;
  /** The config dump as JSON-ready data (see ConfigDump); secrets are redacted here before it is sent. */
  configDump(): unknown;
  clusters(): ClusterStatus[];
  stats(): Record<string, number>;
}

/** The shape `configDump()` is expected to return (informational: the server prints whatever it gets). */
export interface ConfigDump {
  /** The snapshot being served; null before the first one applied. */
  snapshot: unknown;
  version: string | null;
  revision: number | null;
  /** When the snapshot was applied (ISO time). */
  appliedAt: string | null;
  /** The last snapshot refused, if any. */
  lastNack: { version: string; reason: string; at: string } | null;
}

export interface AdminServerOptions {
  /** Address to bind; `127.0.0.1` keeps it off the network. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  source: AdminSource;
  log: Logger;
}

export interface AdminServer {
  /** The port actually bound. */
  port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

type Reply = { status: number; type: string; body: string };
type Route = (url: URL, source: AdminSource) => Reply | Promise<Reply>;

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";

const routes: Record<string, Route> = {
  "/ready": (_url, source) => {
    const r = source.ready();
    return r.ready ? text(200, "ready\n") : text(503, `not ready: ${r.reason ?? "unknown"}\n`);
  },
  "/metrics": async (_url, source) => {
    const registry = source.metrics.registry;
    return { status: 200, type: registry.contentType, body: await registry.metrics() };
  },
  "/config_dump": (_url, source) => json(redactSecrets(source.configDump())),
  "/clusters": (url, source) => {
    const clusters = source.clusters();
    return url.searchParams.get("format") === "text" ? text(200, clustersText(clusters)) : json(clustersJson(clusters));
  },
  "/stats": (url, source) => {
    const stats = source.stats();
    if (url.searchParams.get("format") !== "text") return json(stats);
    return text(200, Object.entries(stats).map(([k, v]) => `${k}: ${v}\n`).join(""));
  },
};

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const { source, log } = opts;
  const server = createServer((req, res) => {
    handle(req, res, source).catch((err: unknown) => {
      log.error("admin request failed", { path: safePath(req.url), error: String((err as Error)?.stack ?? err) });
      if (!res.headersSent) send(res, text(500, "internal error\n"));
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // Malformed HTTP: answer 400 and close rather than let the error surface.
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => log.error("admin server error", { error: String(err) }));
  const port = (server.address() as AddressInfo).port;
  log.info("admin server listening", { host: opts.host, port });

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections (Prometheus, fetch) would hold close() open until they idle out.
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, source: AdminSource): Promise<void> {
  req.resume(); // no route reads a body; drain any so the connection can be reused
  if (req.method !== "GET") {
    res.setHeader("allow", "GET");
    return send(res, text(405, "method not allowed: the admin API is read-only (GET)\n"));
  }
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://admin.invalid");
  } catch {
    return send(res, text(400, "bad request target\n"));
  }
  const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
  if (route === undefined) return send(res, text(404, `not found; try ${Object.keys(routes).join(", ")}\n`));
  send(res, await route(url, source));
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { "content-type": reply.type, "cache-control": "no-store", "content-length": Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

function text(status: number, body: string): Reply {
  return { status, type: TEXT, body };
}

function json(value: unknown): Reply {
  return { status: 200, type: JSON_TYPE, body: JSON.stringify(value, null, 2) + "\n" };
}

/** The path for a log line, query cut (it is not ours to keep) and length bounded. */
function safePath(url: string | undefined): string {
  const p = (url ?? "").split("?")[0] ?? "";
  return p.length > 200 ? p.slice(0, 200) : p;
}
