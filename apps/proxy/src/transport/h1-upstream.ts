import type { Dispatcher, Pool as UndiciPool } from "undici";
import type { Readable } from "node:stream";
import type { Headers, ProxyResponse } from "../core/types";
import { Pool, request } from "./undici";
import { upstreamError } from "./upstream-errors";

/** Limits for one upstream origin's HTTP/1.1 pool (from DestinationPolicy connectionPool). */
export interface H1PoolOptions {
  /** Maximum connections (undefined: unlimited). */
  maxConnections?: number | undefined;
  /** Connect timeout in ms. */
  connectTimeoutMs?: number | undefined;
  /** Idle keep-alive connections close after this long. */
  idleTimeoutMs?: number | undefined;
  /** Requests per connection before it is recycled (0/undefined: unlimited). */
  maxRequestsPerConnection?: number | undefined;
}

/**
 * HTTP/1.1 to one origin (`http://address:port`) through an undici Pool: keep-alive
 * connections, no pipelining, streaming bodies both ways with backpressure. Timeouts are the
 * route's business (timeout/retry layers abort the signal), so undici's own are off.
 */
export class H1Upstream {
  private readonly pool: UndiciPool;

  constructor(
    readonly origin: string,
    opts: H1PoolOptions = {},
  ) {
    this.pool = new Pool(origin, {
      connections: opts.maxConnections ?? null,
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: opts.idleTimeoutMs ?? 60_000,
      keepAliveMaxTimeout: opts.idleTimeoutMs ?? 600_000,
      maxRequestsPerClient: opts.maxRequestsPerConnection || undefined,
      connect: { timeout: opts.connectTimeoutMs ?? 10_000 },
    } as UndiciPool.Options);
  }

  /** Connections open or opening, requests queued for a connection. */
  get stats(): { connected: number; pending: number; running: number } {
    const s = this.pool.stats;
    return { connected: s.connected, pending: s.pending, running: s.running };
  }

  async send(method: string, path: string, authority: string, headers: Headers, body: Readable | null, signal: AbortSignal): Promise<ProxyResponse> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request.call(this.pool, {
        method: method as Dispatcher.HttpMethod,
        path,
        headers: { ...headers, host: authority },
        body,
        signal,
        // A request with a body and no Content-Length is sent chunked.
      });
    } catch (err) {
      if (body && !body.destroyed) body.destroy();
      throw upstreamError(err, `HTTP/1.1 ${this.origin}`);
    }
    const trailers = res.trailers as Headers;
    const bodyless = method === "HEAD" || res.statusCode === 204 || res.statusCode === 304;
    if (bodyless) res.body.resume();
    return {
      status: res.statusCode,
      headers: res.headers as Headers,
      body: bodyless ? null : (res.body as unknown as Readable),
      trailers: () => (Object.keys(trailers).length ? trailers : undefined),
    };
  }

  close(): Promise<void> {
    return this.pool.close().catch(() => undefined);
  }
}
