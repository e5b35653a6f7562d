import http2 from "node:http2";
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, IncomingHttpStatusHeader, SecureClientSessionOptions } from "node:http2";
import type { Readable } from "node:stream";
import { UpstreamConnectError, UpstreamResetError } from "../core/errors";
import type { Headers, ProxyResponse } from "../core/types";
import { forwardableHeaders } from "../server/hop-by-hop";
import { upstreamError } from "./upstream-errors";
import { ignoreError } from "./cancel-body";

const { NGHTTP2_CANCEL } = http2.constants;

/**
 * How a session is opened: plaintext h2c, or (Upstreams' mesh connector) TLS with the workload
 * certificate, checking the peer's SPIFFE ID; the request path is the same either way.
 */
export interface H2Connector {
  /** The URL authority for `http2.connect` (`http://host:port` or `https://…`). */
  url(address: string, port: number): string;
  /** Extra connect options (TLS material, SNI, checkServerIdentity). */
  options(address: string, port: number): SecureClientSessionOptions;
  /** `mutual_tls` when sessions it opens are mTLS. */
  readonly security: "none" | "mutual_tls";
}

export const plaintextConnector: H2Connector = {
  url: (address, port) => `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
  options: () => ({}),
  security: "none",
};

/**
 * One multiplexed HTTP/2 session to one upstream (a peer proxy's inbound listener, or an h2c /
 * gRPC application), reopened on demand after it closes. Requests share the session; a session
 * that fails to connect fails every request waiting for it with UpstreamConnectError (UF).
 */
export class H2Upstream {
  private session: ClientHttp2Session | undefined;
  private connecting: Promise<ClientHttp2Session> | undefined;
  private closed = false;

  constructor(
    readonly address: string,
    readonly port: number,
    private readonly connector: H2Connector = plaintextConnector,
    private readonly connectTimeoutMs = 10_000,
  ) {}

  get security(): "none" | "mutual_tls" {
    return this.connector.security;
  }

  /** Whether a session is currently open. */
  get connected(): boolean {
    return this.session !== undefined && !this.session.closed && !this.session.destroyed;
  }

  private getSession(): Promise<ClientHttp2Session> {
    if (this.session && !this.session.closed && !this.session.destroyed) return Promise.resolve(this.session);
    if (this.closed) return Promise.reject(new UpstreamConnectError(`h2 ${this.address}:${this.port}: upstream closed`));
    this.connecting ??= new Promise<ClientHttp2Session>((resolve, reject) => {
      let options: SecureClientSessionOptions;
      try {
        options = this.connector.options(this.address, this.port);
      } catch (err) {
        this.connecting = undefined;
        reject(new UpstreamConnectError(`h2 ${this.address}:${this.port}: ${(err as Error).message}`));
        return;
      }
      const s = http2.connect(this.connector.url(this.address, this.port), { ...options, peerMaxConcurrentStreams: 1000 });
      const timer = setTimeout(() => s.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })), this.connectTimeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        this.connecting = undefined;
        this.session = s;
        resolve(s);
      });
      s.on("error", (err) => {
        clearTimeout(timer);
        if (this.connecting) {
          // Anything before the session is up (refused, TLS handshake or peer identity failures) is a connect failure (UF).
          this.connecting = undefined;
          const e = err as NodeJS.ErrnoException;
          reject(new UpstreamConnectError(`h2 ${this.address}:${this.port}: ${e.code && !e.message.includes(e.code) ? `${e.code} ` : ""}${e.message}`));
        }
      });
      s.once("close", () => {
        clearTimeout(timer);
        if (this.session === s) this.session = undefined;
        if (this.connecting) {
          this.connecting = undefined;
          reject(new UpstreamConnectError(`h2 ${this.address}:${this.port}: closed while connecting`));
        }
      });
      s.on("goaway", () => {
        if (this.session === s) this.session = undefined;
      });
      // Idle sessions must not keep the process (or a test) alive.
      s.unref();
    });
    return this.connecting;
  }

  /** Opens a stream with these headers (pseudo-headers included by the caller) and resolves at the response headers. */
  async send(requestHeaders: Record<string, string | string[]>, body: Readable | null, signal: AbortSignal): Promise<ProxyResponse> {
    const session = await this.getSession();
    if (signal.aborted) throw signal.reason;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(requestHeaders, { endStream: body === null, signal });
    } catch (err) {
      throw upstreamError(err, `h2 ${this.address}:${this.port}`);
    }
    if (body) {
      body.pipe(stream);
      body.once("error", () => stream.close(NGHTTP2_CANCEL));
    }
    return new Promise<ProxyResponse>((resolve, reject) => {
      let trailers: Headers | undefined;
      let settled = false;
      stream.once("response", (headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number) => {
        settled = true;
        // The stream is the response body from here on, and its JS object outlives the
        // exchange: the listeners that hold this request (its body, promise, signal) go now.
        stream.off("error", fail);
        stream.off("close", onCloseEarly);
        stream.on("error", ignoreError);
        const status = Number(headers[":status"]);
        const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
        if (endStream) stream.resume();
        resolve({ status, headers: forwardableHeaders(headers), body: endStream ? null : stream, trailers: () => trailers });
      });
      const onTrailers = (t: IncomingHttpHeaders) => {
        trailers = forwardableHeaders(t);
      };
      stream.once("trailers", onTrailers);
      stream.once("close", () => stream.off("trailers", onTrailers));
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        if (body && !body.destroyed) body.destroy();
        reject(signal.aborted ? signal.reason : upstreamError(err, `h2 ${this.address}:${this.port}`));
      };
      const onCloseEarly = () => fail(Object.assign(new Error(`stream closed before response (rst ${stream.rstCode})`), { code: "ECONNRESET" }));
      stream.once("error", fail);
      stream.once("close", onCloseEarly);
    });
  }

  /**
   * Opens a CONNECT tunnel (RFC 9113 §8.5) to `authority`; resolves with the stream and the
   * peer's response headers (its peer metadata) once it answered 200.
   */
  async connect(requestHeaders: Record<string, string | string[]>, signal: AbortSignal): Promise<{ stream: ClientHttp2Stream; headers: Headers }> {
    const session = await this.getSession();
    const stream = session.request({ ...requestHeaders, ":method": "CONNECT" }, { signal });
    return new Promise((resolve, reject) => {
      stream.once("response", (headers: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
        const status = Number(headers[":status"]);
        if (status === 200) resolve({ stream, headers: forwardableHeaders(headers) });
        else {
          stream.destroy();
          reject(Object.assign(new Error(`peer refused the tunnel with ${status}`), { status, flags: headers["x-trellis-response-flags"] }));
        }
      });
      stream.once("error", (err) => reject(upstreamError(err, `h2 CONNECT ${this.address}:${this.port}`)));
      // A stream that closes without an answer (session gone, reset with NO_ERROR) must not leave the caller waiting.
      stream.once("close", () => reject(new UpstreamResetError(`h2 CONNECT ${this.address}:${this.port}: stream closed before the peer answered (rst ${stream.rstCode})`)));
    });
  }

  close(): void {
    this.closed = true;
    this.session?.close();
  }
}
