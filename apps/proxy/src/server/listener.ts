import net from "node:net";
import type http from "node:http";
import type http2 from "node:http2";
import tls from "node:tls";
import type { MtlsMode } from "@trellis/config";
import type { Logger } from "../core/log";
import type { MeshTls } from "../identity/mesh-tls";
import { PEER_TLS, principalOf } from "../identity/mesh-tls";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");
/** A TLS record of type handshake: the first byte of every ClientHello. */
const TLS_HANDSHAKE = 0x16;
/** A peer that has not finished its handshake by then is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Mesh mTLS on a listener (the inbound one): the identity to serve with and the mode in force. */
export interface ListenerTls {
  meshTls: MeshTls;
  /**
   * The connection-level PeerAuthentication mode now: STRICT refuses plaintext connections,
   * DISABLE refuses TLS ones, PERMISSIVE takes both (port-level exceptions are checked per
   * request, once the port is known).
   */
  mode(): MtlsMode;
  log: Logger;
  /** Counts connections refused by the mode, and failed handshakes (metrics). */
  refused?(reason: "plaintext" | "tls_disabled" | "no_identity" | "handshake"): void;
}

/**
 * One TCP port serving HTTP/1.1 and HTTP/2 with prior knowledge (h2c), and, with `meshTls`,
 * mutual TLS: the first bytes of a connection decide. A TLS ClientHello goes to a TLS server
 * that requires a client certificate chaining to the mesh's trust bundle; once the handshake
 * is done the socket carries its peer's SPIFFE ID (PEER_TLS) and goes, by ALPN, to the HTTP/2
 * or HTTP/1.1 server. Otherwise the HTTP/2 connection preface (`PRI * HTTP/2.0`) picks h2c,
 * anything else HTTP/1.1; the sniffed bytes are put back first.
 */
export function createSniffingListener(h1: http.Server, h2: http2.Http2Server, mtls?: ListenerTls): SniffingListener {
  const sockets = new Set<net.Socket>();
  const tlsServer = mtls ? meshTlsServer(h1, h2, mtls) : undefined;
  const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.once("data", (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (mtls) {
        const mode = mtls.mode();
        if (first[0] === TLS_HANDSHAKE) {
          if (mode === "DISABLE" || !tlsServer!.ready()) {
            mtls.refused?.(mode === "DISABLE" ? "tls_disabled" : "no_identity");
            mtls.log.debug("TLS connection refused", { remote: socket.remoteAddress, reason: mode === "DISABLE" ? "PeerAuthentication DISABLE" : "this proxy has no workload identity" });
            socket.destroy();
            return;
          }
          // tls.Server wraps the socket; what is buffered (the ClientHello) is fed to it first.
          tlsServer!.server.emit("connection", socket);
          return;
        }
        if (mode === "STRICT") {
          mtls.refused?.("plaintext");
          mtls.log.debug("plaintext connection refused: PeerAuthentication STRICT", { remote: socket.remoteAddress });
          socket.destroy();
          return;
        }
      }
      const n = Math.min(first.length, H2_PREFACE.length);
      const isH2 = n >= 3 && first.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2) {
        // The session reads what is already buffered itself (on the next tick), then consumes
        // the handle natively; resuming here would hand the preface to nobody.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    });
  }) as SniffingListener;
  server.once("close", () => tlsServer?.stop());
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.closeAll = async (graceMs = 0) => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (graceMs > 0) {
      // Graceful: idle keep-alive connections go now, HTTP/2 sessions get GOAWAY and finish
      // their streams, busy HTTP/1.1 connections close after their response.
      h1.closeIdleConnections();
      for (const s of sessions) s.close();
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        h1.closeIdleConnections();
      }
    }
    for (const s of sockets) s.destroy();
    await closed;
  };
  return server;
}

/**
 * The TLS side of a mesh listener: a tls.Server never bound to a port, fed sockets by the
 * sniffer. Its secure context follows the workload identity (setSecureContext on renewal:
 * new handshakes get the new certificate, open connections keep theirs).
 */
function meshTlsServer(h1: http.Server, h2: http2.Http2Server, mtls: ListenerTls): { server: tls.Server; ready(): boolean; stop(): void } {
  const server = tls.createServer({ requestCert: true, rejectUnauthorized: true, ALPNProtocols: ["h2", "http/1.1"], handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
  let ready = false;
  const apply = () => {
    const m = mtls.meshTls.current();
    if (!m) return;
    server.setSecureContext({ key: m.keyPem, cert: m.certChainPem, ca: m.bundlePem });
    ready = true;
  };
  apply();
  const unsubscribe = mtls.meshTls.onChange(apply);
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    socket.on("error", () => undefined);
    (socket as tls.TLSSocket & { [PEER_TLS]?: unknown })[PEER_TLS] = { principal: principalOf(socket.getPeerCertificate()) };
    if (socket.alpnProtocol === "h2") h2.emit("connection", socket);
    else h1.emit("connection", socket);
  });
  server.on("tlsClientError", (err: Error & { code?: string }, socket: tls.TLSSocket) => {
    mtls.refused?.("handshake");
    mtls.log.debug("mTLS handshake failed", { remote: socket.remoteAddress, error: err.code ?? err.message });
  });
  return { server, ready: () => ready, stop: unsubscribe };
}

/** A listener that can also drop every open connection (stop), after an optional grace period. */
export type SniffingListener = net.Server & { closeAll(graceMs?: number): Promise<void> };

/** Listens on host:port (0 = any free port) and resolves with the bound port. */
export function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, backlog: 4096 }, () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
