import net from "node:net";
import type http from "node:http";
import type http2 from "node:http2";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");

/**
 * One TCP port serving both HTTP/1.1 and HTTP/2 with prior knowledge (h2c): the first bytes
 * of a connection decide (the HTTP/2 connection preface starts `PRI * HTTP/2.0`), then the
 * socket is handed to the matching server with those bytes put back. TLS (ALPN) arrives with
 * mTLS in the security issue.
 */
export function createSniffingListener(h1: http.Server, h2: http2.Http2Server): SniffingListener {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.once("data", (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
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
