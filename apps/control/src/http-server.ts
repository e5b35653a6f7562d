import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { liveGraphGet } from "./trpc/live-graph-get";
import type { Logger } from "./log";
import type { ControlServices } from "./services";
import { parse as parseCookie } from "cookie";
import type { Principal } from "./auth/auth-service";
import { appRouter } from "./trpc/root";
import { SESSION_COOKIE } from "./trpc/routers/auth";

export interface ApiServerOptions {
  services: ControlServices;
  /** Readiness probe: resolves when the database answers. */
  ready: () => Promise<void>;
  /** The OTLP/HTTP trace receiver, served on /v1/traces (the path every OTLP exporter posts to). */
  otlp?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  log: Logger;
}

/** The principal each API request was authenticated as (undefined: anonymous), for its tRPC context. */
const principals = new WeakMap<IncomingMessage, Principal | undefined>();

/** Whether every procedure a /trpc/ URL names (a batch names several) is sign-in, the one door open to anonymous callers. */
function onlySignIn(url: string): boolean {
  const q = url.indexOf("?");
  const paths = url.slice("/trpc/".length, q === -1 ? undefined : q).split(",");
  return paths.every((p) => p === "auth.login");
}

/** 401 in tRPC's error shape, so clients surface it as UNAUTHORIZED. */
function unauthorized(res: ServerResponse): void {
  const message = "sign in first: no valid session cookie or API token (Authorization: Bearer trellis_…)";
  res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: { message, code: -32001, data: { code: "UNAUTHORIZED", httpStatus: 401 } } }));
}

/** Largest request body the API accepts (a large `apply` of a whole mesh fits). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The control plane's HTTP API: tRPC under /trpc, OTLP traces on /v1/traces, /healthz and /readyz for orchestrators. */
export function createApiServer(opts: ApiServerOptions): http.Server {
  /** The session cookie or bearer token of a request, checked; undefined when it has neither valid one. */
  const authenticate = (req: IncomingMessage): Promise<Principal | undefined> => {
    const authz = req.headers.authorization;
    if (typeof authz === "string" && /^bearer /i.test(authz)) return opts.services.auth.authenticate({ bearer: authz.slice(7).trim() });
    const sessionToken = parseCookie(req.headers.cookie ?? "")[SESSION_COOKIE] || undefined;
    return sessionToken ? opts.services.auth.authenticate({ sessionToken }) : Promise.resolve(undefined);
  };
  const graphGet = liveGraphGet(opts.services.telemetry);
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: MAX_BODY_BYTES,
    createContext: async ({ req, res }) => {
      const jar = parseCookie(req.headers.cookie ?? "");
      const csrf = req.headers["x-trellis-csrf"];
      const principal = principals.get(req);
      return {
        ...opts.services,
        principal,
        author: principal?.username ?? "anonymous",
        remote: req.socket.remoteAddress ?? "",
        sessionToken: jar[SESSION_COOKIE] || undefined,
        csrfHeader: typeof csrf === "string" ? csrf : undefined,
        setCookies: (cookies: string[]) => res.appendHeader("set-cookie", cookies),
      };
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
    if (url.startsWith("/trpc/")) {
      // Who is calling is settled before tRPC sees the request: an anonymous call to anything
      // but sign-in is a 401 here, subscriptions included (tRPC would answer 200 and send the
      // error inside the event stream).
      authenticate(req).then(
        (principal) => {
          if (!principal && !onlySignIn(url)) return unauthorized(res);
          principals.set(req, principal);
          if (principal && url.startsWith("/trpc/graph.get?")) return graphGet(req, res, principal, () => trpc(req, res));
          trpc(req, res);
        },
        (err: { code?: unknown; message?: string }) => {
          // Checking a credential needs the database: say so, as the procedures would.
          const status = err.code === "TRELLIS_DATABASE_UNAVAILABLE" ? 503 : 500;
          if (status === 500) opts.log.error("authenticating an API request failed", { cause: err.message });
          res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: status === 503 ? (err.message ?? "database unavailable") : "internal error", code: -32603, data: status === 503 ? { code: "SERVICE_UNAVAILABLE", httpStatus: 503, trellisCode: "TRELLIS_DATABASE_UNAVAILABLE" } : { code: "INTERNAL_SERVER_ERROR", httpStatus: 500 } } }));
        },
      );
      return;
    }
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
