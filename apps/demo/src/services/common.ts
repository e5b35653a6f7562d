import http from "node:http";
import type { Knobs } from "../knobs";
import { apply } from "../knobs";

/** Writes a JSON answer. */
export function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * An HTTP/1.1 server for one demo service: /healthz always answers; every other request goes
 * through the knobs (latency, failure → 503) and then `route`, whose exceptions become 500s.
 */
export function httpService(name: string, knobs: Knobs, route: (req: http.IncomingMessage, url: URL, res: http.ServerResponse) => Promise<void> | void): http.Server {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://local");
    if (url.pathname === "/healthz") return json(res, 200, { service: name, ok: true });
    void (async () => {
      if (await apply(knobs)) return json(res, 503, { error: `${name}: injected failure (--failure-rate)` });
      await route(req, url, res);
    })().catch((err: Error) => {
      if (!res.headersSent) json(res, 500, { error: `${name}: ${err.message}` });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

/** The number at the end of `/things/<n>`, or undefined. */
export function idOf(pathname: string, prefix: string): number | undefined {
  const m = new RegExp(`^${prefix}/(\\d{1,6})$`).exec(pathname);
  return m ? Number(m[1]) : undefined;
}
