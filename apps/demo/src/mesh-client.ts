import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/**
 * How a demo app calls other services: always through its own sidecar's outbound port, naming
 * the service in the Host / :authority (or CONNECT target), as an app with HTTP_PROXY pointed at
 * its sidecar would. The sidecar does the rest: routing, mTLS, retries, telemetry.
 */

const PROTO = path.join(path.dirname(fileURLToPath(import.meta.url)), "../proto/reviews.proto");

export interface Review {
  reviewer: string;
  text: string;
  stars: number;
  color: string;
}
export interface ReviewsReply {
  productId: number;
  reviews: Review[];
  version: string;
}

type ReviewsClient = grpc.Client & {
  getReviews(req: { productId: number }, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: ReviewsReply) => void): void;
};

/** The Reviews service definition (proto-loader, camelCase fields). */
export function reviewsService(): grpc.ServiceDefinition {
  const def = protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { bookinfo: { reviews: { v1: { Reviews: grpc.ServiceClientConstructor } } } };
  return pkg.bookinfo.reviews.v1.Reviews.service;
}

/**
 * The headers an app must copy from the request it serves to the calls it makes, so the
 * sidecars' spans join one trace (as Istio asks of Bookinfo): W3C trace context, B3 and the
 * request id.
 */
export const TRACE_HEADERS = ["traceparent", "tracestate", "x-request-id", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"] as const;

/** The trace headers of an incoming request (HTTP headers or gRPC metadata, lower-case names). */
export function traceContext(get: (name: string) => unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of TRACE_HEADERS) {
    const v = get(h);
    const s = Array.isArray(v) ? v[0] : v;
    if (typeof s === "string" && s !== "") out[h] = s;
  }
  return out;
}

export class MeshClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private h2: http2.ClientHttp2Session | undefined;
  private reviews: ReviewsClient | undefined;

  constructor(
    /** The sidecar's outbound port on 127.0.0.1. */
    readonly outboundPort: number,
  ) {}

  /** HTTP/1.1 GET of `path` on `authority`; resolves with status and body (JSON parsed when it is JSON). */
  get(authority: string, pathname: string, timeoutMs = 5_000, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: this.outboundPort, path: pathname, headers: { host: authority, ...headers }, agent: this.agent, timeout: timeoutMs }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          let body: unknown = text;
          if ((res.headers["content-type"] ?? "").includes("json")) {
            try {
              body = JSON.parse(text);
            } catch {
              // keep the text
            }
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on("timeout", () => req.destroy(new Error(`${authority}${pathname}: no answer in ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end();
    });
  }

  /** HTTP/2 (h2c) GET through the sidecar. */
  getH2(authority: string, pathname: string, timeoutMs = 5_000, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
    if (!this.h2 || this.h2.closed || this.h2.destroyed) {
      this.h2 = http2.connect(`http://127.0.0.1:${this.outboundPort}`);
      this.h2.on("error", () => undefined);
      this.h2.unref();
    }
    const session = this.h2;
    return new Promise((resolve, reject) => {
      const stream = session.request({ ...headers, ":method": "GET", ":path": pathname, ":authority": authority });
      const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), timeoutMs);
      let status = 0;
      let text = "";
      stream.setEncoding("utf8");
      stream.on("response", (h) => (status = Number(h[":status"])));
      stream.on("data", (c: string) => (text += c));
      stream.on("end", () => {
        clearTimeout(timer);
        try {
          resolve({ status, body: JSON.parse(text) });
        } catch {
          resolve({ status, body: text });
        }
      });
      stream.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.end();
    });
  }

  /** Reviews.GetReviews over gRPC through the sidecar (h2c to the outbound port, authority `authority`). */
  getReviews(authority: string, productId: number, timeoutMs = 5_000, headers: Record<string, string> = {}): Promise<ReviewsReply> {
    if (!this.reviews) {
      const Ctor = grpc.makeGenericClientConstructor(reviewsService(), "Reviews");
      this.reviews = new Ctor(`127.0.0.1:${this.outboundPort}`, grpc.credentials.createInsecure(), { "grpc.default_authority": authority }) as unknown as ReviewsClient;
    }
    const meta = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) meta.set(k, v);
    return new Promise((resolve, reject) => this.reviews!.getReviews({ productId }, meta, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!))));
  }

  /** One line over a raw TCP connection tunnelled by the sidecar (HTTP CONNECT to `authority`); resolves with the answer line. */
  tcpLine(authority: string, line: string, timeoutMs = 5_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.outboundPort, "127.0.0.1");
      const timer = setTimeout(() => socket.destroy(new Error(`${authority}: no answer in ${timeoutMs} ms`)), timeoutMs);
      let buf = "";
      let tunnelled = false;
      socket.setEncoding("utf8");
      socket.on("data", (c: string) => {
        buf += c;
        if (!tunnelled) {
          const end = buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const status = /^HTTP\/1\.1 (\d{3})/.exec(buf)?.[1];
          if (status !== "200") return socket.destroy(new Error(`${authority}: the sidecar refused the tunnel (${status ?? "?"})`));
          tunnelled = true;
          buf = buf.slice(end + 4);
          socket.write(`${line}\n`);
        }
        const nl = buf.indexOf("\n");
        if (tunnelled && nl >= 0) {
          clearTimeout(timer);
          socket.end();
          resolve(buf.slice(0, nl));
        }
      });
      socket.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on("close", () => {
        clearTimeout(timer);
        reject(new Error(`${authority}: closed before answering`));
      });
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    });
  }

  close(): void {
    this.agent.destroy();
    this.h2?.close();
    this.reviews?.close();
  }
}
