import { normalizePath, splitAuthority } from "@trellis/config";
import type { MtlsMode, Snapshot } from "@trellis/config";
import type { PeerInfo, RouteTarget } from "../core/context";
import { BadRequestError, MtlsRequiredError, NoRouteError } from "../core/errors";
import { compose } from "../core/types";
import type { Handler, Layer } from "../core/types";
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
  /** What telemetry names each listener's requests by (built once: the request path only points at it). */
  private readonly targets = new Map<number, RouteTarget>();
  private readonly onlyHttp: Listener | undefined;
  /** PeerAuthentication mode by service port (portLevel keys are workload ports, as in Istio). */
  private readonly modes = new Map<number, MtlsMode>();
  /**
   * The mode every connection is held to before its port is known: STRICT or DISABLE when all
   * listeners agree, else PERMISSIVE (the per-port mode is then checked on each request).
   */
  readonly connectionMode: MtlsMode;

  constructor(
    readonly snapshot: Snapshot,
    private readonly app: LocalApp,
    private readonly upstreams: Upstreams,
    /** This workload, reported as the destination. */
    private readonly self: PeerInfo,
    /** Policy layers in order, after the port's mTLS check: JWT authentication, authorization, rate limits. */
    layers: readonly Layer[],
  ) {
    const host = `${snapshot.proxy.service}.${snapshot.proxy.namespace}`;
    for (const l of snapshot.inbound.listeners) {
      this.byPort.set(l.port, l);
      this.targets.set(l.port, Object.freeze({ host, port: l.port, cluster: `inbound|${l.port}||` }));
    }
    const http = snapshot.inbound.listeners.filter((l) => l.protocol !== "tcp");
    this.onlyHttp = http.length === 1 ? http[0] : undefined;
    const pa = snapshot.inbound.peerAuthentication;
    for (const l of snapshot.inbound.listeners) this.modes.set(l.port, pa.portLevel[String(this.targetPort(l))] ?? pa.mode);
    const distinct = new Set(this.modes.size ? this.modes.values() : [pa.mode]);
    this.connectionMode = distinct.size === 1 ? [...distinct][0]! : "PERMISSIVE";
    this.handler = compose([this.selectListener, this.requireMtls, ...layers], this.forward);
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

  /** The PeerAuthentication mode of a service port. */
  mtlsMode(port: number): MtlsMode {
    return this.modes.get(port) ?? this.snapshot.inbound.peerAuthentication.mode;
  }

  /** Why a connection of this security may not reach `port`, or undefined when it may (STRICT ports take mTLS only). */
  refuses(port: number, security: "none" | "mutual_tls"): MtlsRequiredError | undefined {
    return security !== "mutual_tls" && this.mtlsMode(port) === "STRICT" ? new MtlsRequiredError(`port ${port} requires mTLS (PeerAuthentication STRICT); the request came in plaintext`) : undefined;
  }

  /** The service port the calling sidecar named (`ctx.meshPort`, read by the inbound edge), else the Host port, else the only HTTP listener. */
  private listenerFor(meshPort: number | undefined, authority: string): Listener | undefined {
    if (meshPort !== undefined) return this.byPort.get(meshPort);
    const { port } = splitAuthority(authority);
    return (port !== undefined ? this.byPort.get(port) : undefined) ?? this.onlyHttp;
  }

  private readonly selectListener: Layer = (next) => (req, ctx, signal) => {
    const listener = this.listenerFor(ctx.meshPort, req.authority);
    if (!listener || listener.protocol === "tcp") return Promise.reject(new NoRouteError(`no inbound listener for ${req.authority}`));
    ctx.target = this.targets.get(listener.port);
    // Policies and the app see one spelling of the path: no `..`, `//` or `%61` detours around a rule.
    if (req.path.startsWith("/")) {
      const normalized = normalizePath(req.path);
      if (normalized === undefined) return Promise.reject(new BadRequestError("malformed request path (a '%' not followed by two hex digits)"));
      req.path = normalized;
    }
    ctx.destination = this.self;
    // The app sees no mesh headers: the inbound edge left them out of req.headers (dropHeaderPrefix in proxy.ts).
    return next(req, ctx, signal);
  };

  /** Port-level STRICT on a listener that also takes plaintext (the connection-level check let it in). */
  private readonly requireMtls: Layer = (next) => (req, ctx, signal) => {
    const refused = this.refuses(ctx.target!.port, ctx.connectionSecurity);
    return refused ? Promise.reject(refused) : next(req, ctx, signal);
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
