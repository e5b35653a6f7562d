import type { Snapshot } from "@trellis/config";
import type { PeerInfo } from "../core/context";
import { NoRouteError } from "../core/errors";
import { compose } from "../core/types";
import type { Handler, Headers, Layer } from "../core/types";
import { MESH_HEADER_PREFIX, PORT_HEADER } from "../server/peer-metadata";
import { splitAuthority } from "../outbound/host-table";
import { sendHttp } from "../transport/send";
import type { Upstreams } from "../transport/upstreams";

type Listener = Snapshot["inbound"]["listeners"][number];

/** Where the local application listens. */
export interface LocalApp {
  host: string;
  /**
   * The app's port as the sidecar was told (`--app-port`). It wins over the Service's
   * targetPort when the Service has a single port: the operator knows where the app
   * listens on this instance. Multi-port Services use their targetPorts.
   */
  port?: number | undefined;
}

/**
 * The inbound half of one snapshot: picks the listener a request is for (the service port the
 * client proxy named, else the Host port, else the only HTTP listener), runs the inbound
 * policy layers, and forwards to the local app over HTTP/1.1 or h2c as the port's protocol
 * says. Immutable: a new snapshot builds a new one (see Proxy.apply).
 */
export class InboundRouter {
  readonly handler: Handler;
  private readonly byPort = new Map<number, Listener>();
  private readonly onlyHttp: Listener | undefined;

  constructor(
    readonly snapshot: Snapshot,
    private readonly app: LocalApp,
    private readonly upstreams: Upstreams,
    /** This workload, reported as the destination. */
    private readonly self: PeerInfo,
    /** Policy layers in order (authorization, rate limit; authentication arrives with mTLS and JWT). */
    layers: readonly Layer[],
  ) {
    for (const l of snapshot.inbound.listeners) this.byPort.set(l.port, l);
    const http = snapshot.inbound.listeners.filter((l) => l.protocol !== "tcp");
    this.onlyHttp = http.length === 1 ? http[0] : undefined;
    this.handler = compose([this.selectListener, ...layers], this.forward);
  }

  /** The local port traffic for `listener` goes to. */
  targetPort(listener: Listener): number {
    return this.app.port !== undefined && this.snapshot.inbound.listeners.length === 1 ? this.app.port : listener.targetPort;
  }

  /** The listener for a TCP tunnel to service port `port`. */
  tcpListener(port: number | undefined): Listener | undefined {
    if (port !== undefined) return this.byPort.get(port);
    const tcp = this.snapshot.inbound.listeners.filter((l) => l.protocol === "tcp");
    return tcp.length === 1 ? tcp[0] : undefined;
  }

  private listenerFor(headers: Headers, authority: string): Listener | undefined {
    const named = headers[PORT_HEADER];
    if (typeof named === "string") return this.byPort.get(Number(named));
    const { port } = splitAuthority(authority);
    return (port !== undefined ? this.byPort.get(port) : undefined) ?? this.onlyHttp;
  }

  private readonly selectListener: Layer = (next) => (req, ctx, signal) => {
    const listener = this.listenerFor(req.headers, req.authority);
    if (!listener || listener.protocol === "tcp") return Promise.reject(new NoRouteError(`no inbound listener for ${req.authority}`));
    ctx.target = { host: `${this.snapshot.proxy.service}.${this.snapshot.proxy.namespace}`, port: listener.port, cluster: `inbound|${listener.port}||` };
    ctx.destination = this.self;
    for (const k of Object.keys(req.headers)) if (k.startsWith(MESH_HEADER_PREFIX)) delete req.headers[k];
    return next(req, ctx, signal);
  };

  private readonly forward: Handler = (req, ctx, signal) => {
    const listener = this.byPort.get(ctx.target!.port)!;
    ctx.attempts++;
    const port = this.targetPort(listener);
    ctx.upstreamAddress = `${this.app.host}:${port}`;
    const mode = listener.protocol === "http" ? "http1" : "h2c";
    return sendHttp(this.upstreams, mode, this.app.host, port, req, req.body.open(), signal);
  };
}
