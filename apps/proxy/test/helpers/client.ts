import http from "node:http";

/** One finished exchange as a test sees it. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Wall time from sending to the end of the body. */
  ms: number;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * An HTTP/1.1 caller of one proxy listener with its own keep-alive agent, as an application
 * talking to its sidecar would be. `localAddress` picks the loopback address it calls from
 * (127.0.0.2, …), so per-caller limits can tell two callers on this machine apart.
 *
 * Safe use: `close()` in after(), or open sockets keep the test process alive.
 */
export class HttpClient {
  private readonly agent: http.Agent;

  constructor(
    readonly port: number,
    opts: { localAddress?: string; maxSockets?: number } = {},
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  }

  /** A request to `authority` (the Host header) for `path`; never rejects on an HTTP status, only on a socket error. */
  request(authority: string, path = "/", opts: RequestOptions = {}): Promise<Reply> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { host: authority, ...opts.headers };
      if (opts.body !== undefined) headers["content-length"] = String(Buffer.byteLength(opts.body));
      const req = http.request({ host: "127.0.0.1", port: this.port, method: opts.method ?? "GET", path, headers, agent: this.agent }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ms: performance.now() - started }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(opts.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `count` calls of `fn` with at most `concurrency` in flight; results in call order. */
export async function inParallel<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

/** How many times each key occurs. */
export function tally(keys: Iterable<string | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k ?? "(none)"] = (out[k ?? "(none)"] ?? 0) + 1;
  return out;
}

/** The `x-app` header of a reply (which test app answered). */
export function servedBy(r: Reply): string | undefined {
  const v = r.headers["x-app"];
  return Array.isArray(v) ? v[0] : v;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `ok` every 10 ms until it holds; throws `what` after `ms`. */
export async function until(ok: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Polls `f` until it returns a value (not undefined); a throw counts as "not yet" and is kept for
 * the timeout message. For state that settles asynchronously: pushes, telemetry, registrations.
 */
export async function eventually<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${String(last)}`);
    await sleep(everyMs);
  }
}
