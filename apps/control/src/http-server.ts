import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import type { Logger } from "./log";
import type { ControlServices } from "./services";
import { appRouter } from "./trpc/root";

export interface ApiServerOptions {
  services: ControlServices;
  /** Readiness probe: resolves when the database answers. */
  ready: () => Promise<void>;
  /** The OTLP/HTTP trace receiver, served on /v1/traces (the path every OTLP exporter posts to). */
  otlp?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  log: Logger;
}

/** Largest request body the API accepts (a large `apply` of a whole mesh fits). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The control plane's HTTP API: tRPC under /trpc, OTLP traces on /v1/traces, /healthz and /readyz for orchestrators. */
export function createApiServer(opts: ApiServerOptions): http.Server {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: MAX_BODY_BYTES,
    createContext: ({ req }) => {
      const user = req.headers["x-trellis-user"];
      return { ...opts.services, author: typeof user === "string" && user.length > 0 ? user.slice(0, 200) : "anonymous" };
    },
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") opts.log.error("api error", { path, cause: error.message });
    },
  });
  return http.createServer((req, res) => {
    const url = req.url ?? "/";
    if (url === "/healthz") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    if (url === "/readyz") {
      opts.ready().then(
        () => res.writeHead(200, { "content-type": "text/plain" }).end("ready\n"),
        (err: Error) => res.writeHead(503, { "content-type": "text/plain" }).end(`not ready: ${err.message}\n`),
      );
      return;
    }
    if (url.startsWith("/trpc/")) return trpc(req, res);
    if (opts.otlp && (url === "/v1/traces" || url.startsWith("/v1/traces?"))) return opts.otlp(req, res);
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: `no route for ${url}; the API is under /trpc/` }));
  });
}

export async function listen(server: http.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
