import net from "node:net";
import type { Duplex } from "node:stream";
import type { RequestContext } from "../core/context";
import type { Logger } from "../core/log";
import { decodePeer, encodePeer, PEER_HEADER } from "../server/peer-metadata";
import type { Upstreams } from "../transport/upstreams";
import type { UpstreamCluster } from "./upstream-cluster";

/** Reports a TCP connection's life (metrics: opened/closed, bytes; access log). */
export interface TcpReporter {
  opened(ctx: RequestContext): void;
  closed(ctx: RequestContext, bytes: { sent: number; received: number }): void;
}

/**
 * Carries one TCP connection to a cluster: L4 load balancing over the cluster's endpoints,
 * to a peer sidecar as an HTTP/2 CONNECT stream on the shared session (so many TCP
 * connections ride one multiplexed mTLS connection), or straight to an external
 * endpoint. Bytes are counted both ways; either side closing closes the other.
 * `ready(200)` tells the downstream the tunnel is up (CONNECT's response); other codes refuse it.
 */
export async function tunnelTcp(downstream: Duplex, ctx: RequestContext, cluster: UpstreamCluster, upstreams: Upstreams, reporter: TcpReporter, log: Logger, ready: (status: number) => boolean): Promise<void> {
  const ep = cluster.pick();
  ctx.target = { host: cluster.host.host, port: cluster.cluster.port, subset: cluster.cluster.subset, cluster: cluster.cluster.name };
  if (!ep) {
    ctx.flags.add("UH");
    ready(503);
    reporter.closed(ctx, { sent: 0, received: 0 });
    return;
  }
  ctx.upstreamAddress = ep.key;
  ctx.attempts = 1;
  let upstream: Duplex;
  try {
    if (ep.sidecar) {
      const identity = cluster.peerIdentity(ep);
      const tunnel = await upstreams.http2(ep.address, ep.port, true, identity).connect({ ":authority": `${cluster.host.host}:${cluster.cluster.port}`, [PEER_HEADER]: encodePeer(ctx.source) }, ctx.signal);
      upstream = tunnel.stream;
      ctx.connectionSecurity = identity ? "mutual_tls" : "none";
      ctx.peerPrincipal = identity;
      const peer = decodePeer(tunnel.headers[PEER_HEADER]);
      if (peer) ctx.destination = peer;
    } else {
      upstream = await connectTcp(ep.address, ep.port, ctx.signal);
    }
  } catch (err) {
    if (ctx.signal.aborted) {
      // The caller left while we were connecting: not the endpoint's failure.
      ctx.flags.add("DC");
    } else {
      cluster.state.outlier.record(ep, false);
      ctx.flags.add("UF");
      log.debug("TCP upstream connect failed", { cluster: cluster.cluster.name, endpoint: ep.key, error: String((err as Error).message) });
    }
    ready(503);
    reporter.closed(ctx, { sent: 0, received: 0 });
    return;
  }
  cluster.state.outlier.record(ep, true);
  if (!ready(200)) {
    upstream.destroy();
    ctx.flags.add("DC");
    reporter.closed(ctx, { sent: 0, received: 0 });
    return;
  }
  ep.active++;
  reporter.opened(ctx);
  splice(downstream, upstream, () => {
    ep.active--;
    reporter.closed(ctx, { sent: ctx.responseBytes, received: ctx.requestBytes });
  }, ctx);
}

/** Connects to host:port; rejects on failure or abort. */
export function connectTcp(host: string, port: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true });
    const onAbort = () => s.destroy(new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    s.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (err) => {
      signal.removeEventListener("abort", onAbort);
      reject(err);
    });
  });
}

/**
 * Pipes both ways with backpressure, counting bytes into ctx (received: downstream → upstream,
 * sent: upstream → downstream, from the proxy's point of view towards the caller). Half-close
 * is passed on; an error on either side destroys both. `done` runs once.
 */
export function splice(downstream: Duplex, upstream: Duplex, done: () => void, ctx: RequestContext): void {
  // Half-close is passed on below, so neither side may end itself when its reader ends
  // (a socket's default): a client that sends its request and then FIN still gets the reply.
  downstream.allowHalfOpen = true;
  upstream.allowHalfOpen = true;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    downstream.destroy();
    upstream.destroy();
    done();
  };
  downstream.on("data", (c: Buffer) => {
    ctx.requestBytes += c.length;
    if (!upstream.write(c)) downstream.pause();
  });
  upstream.on("drain", () => downstream.resume());
  upstream.on("data", (c: Buffer) => {
    ctx.responseBytes += c.length;
    if (!downstream.write(c)) upstream.pause();
  });
  downstream.on("drain", () => upstream.resume());
  downstream.once("end", () => upstream.end());
  upstream.once("end", () => downstream.end());
  downstream.once("error", finish);
  upstream.once("error", finish);
  let closed = 0;
  const onClose = () => {
    if (++closed === 2) finish();
    else setTimeout(finish, 5_000).unref(); // the other side gets a moment to drain, then both go
  };
  downstream.once("close", onClose);
  upstream.once("close", onClose);
}
