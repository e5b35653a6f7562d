import type { Cluster, DestinationPolicySpec, OutboundHost } from "@trellis/config";
import { dialsMtls, durationMs } from "@trellis/config";
import type { PeerInfo } from "../core/context";
import { NoHealthyUpstreamError, UpstreamConnectError, UpstreamResetError } from "../core/errors";
import { isOutlierFailure } from "../cluster/outlier-detector";
import type { Handler, Headers, ProxyRequest, ProxyResponse } from "../core/types";
import { RequestBody } from "../core/body";
import { createLoadBalancer } from "../balancer/load-balancer";
import type { LoadBalancer } from "../balancer/load-balancer";
import type { EndpointState } from "../balancer/endpoint-state";
import { decodePeer, encodePeer, PEER_HEADER, PORT_HEADER } from "../server/peer-metadata";
import { sendHttp } from "../transport/send";
import type { UpstreamMode } from "../transport/send";
import type { Upstreams } from "../transport/upstreams";
import type { ClusterState, ClusterStates } from "./cluster-states";
import { ignoreError } from "../transport/cancel-body";

/**
 * One cluster of one snapshot: its members, its load balancer and the send path of a single
 * attempt. Built per snapshot and immutable; the mutable parts that must outlive a config
 * swap (per-endpoint in-flight counts and outlier state, circuit-breaker counters) live in
 * ClusterStates and are shared by the old and new router while both serve requests.
 */
export class UpstreamCluster {
  readonly handler: Handler;
  /** Cluster state shared across snapshots (breaker, outlier detection). */
  readonly state: ClusterState;
  private readonly endpoints: readonly EndpointState[];
  private readonly lb: LoadBalancer;
  private readonly mode: UpstreamMode | "tls";
  /** Picks an endpoint for a TCP connection, skipping ejected ones. */
  readonly pick: () => EndpointState | undefined;

  constructor(
    readonly cluster: Cluster,
    readonly host: OutboundHost,
    policy: DestinationPolicySpec | undefined,
    private readonly states: ClusterStates,
    private readonly upstreams: Upstreams,
    private readonly self: PeerInfo,
    /** Uniform draws for the load balancer (the data plane's, so tests can make picks deterministic). */
    random?: () => number,
  ) {
    const state = states.cluster(cluster.name, policy);
    this.state = state;
    this.endpoints = cluster.endpoints.map((e) => state.endpoint(e));
    const subsetLb = cluster.subset ? policy?.subsets.find((s) => s.name === cluster.subset)?.loadBalancer : undefined;
    this.lb = createLoadBalancer(subsetLb ?? policy?.loadBalancer ?? { kind: "ROUND_ROBIN" }, random ? { random } : {});
    const protocol = host.ports.find((p) => p.port === cluster.port)?.protocol ?? "http";
    this.mode = protocol === "http" ? "http1" : protocol === "http2" || protocol === "grpc" ? "h2c" : "tls";
    const pool = policy?.connectionPool;
    const h1Options = {
      maxConnections: pool?.tcp?.maxConnections,
      connectTimeoutMs: pool?.tcp?.connectTimeout ? durationMs(pool.tcp.connectTimeout) : undefined,
      idleTimeoutMs: pool?.http?.idleTimeout ? durationMs(pool.http.idleTimeout) : undefined,
      maxRequestsPerConnection: pool?.http?.maxRequestsPerConnection,
    };

    this.pick = () => this.lb.pick(state.outlier.available(this.endpoints), TCP_PICK_REQUEST);
    // HTTP/1.1 holds a connection per exchange, so tcp.maxConnections caps concurrent
    // exchanges and maxPendingRequests caps those waiting; HTTP/2 to a peer multiplexes.
    const limitsConnections = this.mode === "http1" && (pool?.tcp?.maxConnections !== undefined || pool?.http?.maxPendingRequests !== undefined);

    // The same for every request to a peer of this cluster (read-only once built).
    const meshHeaders: Headers = Object.freeze({ [PORT_HEADER]: String(cluster.port), [PEER_HEADER]: encodePeer(this.self) });

    this.handler = async (req, ctx, signal) => {
      const breaker = state.breaker;
      breaker.admitRequest();
      let releaseSlot: (() => void) | undefined;
      let ep: EndpointState | undefined;
      let released = false;
      // What the attempt holds (its request admission, a connection slot, the endpoint's in-flight count), given back once.
      const release = () => {
        if (released) return;
        released = true;
        if (ep) ep.active--;
        breaker.releaseRequest();
        releaseSlot?.();
      };
      try {
        ep = this.pickAvoiding(state.outlier.available(this.endpoints), req, ctx.tried);
        if (!ep) throw new NoHealthyUpstreamError(`no healthy upstream in ${cluster.name}`);
        if (ctx.tried === undefined) ctx.tried = [ep];
        else if (!ctx.tried.includes(ep)) ctx.tried.push(ep);
        ctx.attempts++;
        ctx.upstreamAddress = ep.key;
        ep.active++;
        const body = req.body.open();
        let res: ProxyResponse;
        if (ep.sidecar) {
          const identity = this.peerIdentity(ep);
          res = await sendHttp(this.upstreams, "peer", ep.address, ep.port, req, body, signal, meshHeaders, undefined, identity);
          ctx.connectionSecurity = identity ? "mutual_tls" : "none";
          ctx.peerPrincipal = identity;
          const peer = decodePeer(res.headers[PEER_HEADER]);
          if (peer) ctx.destination = peer;
          // Undefined rather than deleted (the edge skips undefined headers): a delete turns the object into a slow dictionary.
          (res.headers as Record<string, unknown>)[PEER_HEADER] = undefined;
          const peerFailure = peerLocalFailure(res, ep.key);
          if (peerFailure) {
            res.body?.destroy();
            throw peerFailure;
          }
        } else {
          if (this.mode === "tls") throw new NoHealthyUpstreamError(`${cluster.name} speaks TLS; reach it through CONNECT`);
          if (limitsConnections) releaseSlot = await breaker.acquireConnectionSlot(signal);
          res = await sendHttp(this.upstreams, this.mode, ep.address, ep.port, req, body, signal, undefined, h1Options);
        }
        state.outlier.record(ep, res.status < 500);
        return withRelease(res, release);
      } catch (err) {
        if (ep && isOutlierFailure(err)) state.outlier.record(ep, false);
        release();
        throw err;
      }
    };
  }

  /**
   * The SPIFFE ID a peer sidecar of this cluster must present, or undefined to dial it in
   * plaintext: this proxy has no identity, the endpoint's PeerAuthentication is DISABLE, or
   * the host's DestinationPolicy sets `tls.mode: DISABLE`.
   * The destination is the host's Service (`name.namespace`): a workload answering with any
   * other identity, even one from the mesh CA, fails the handshake.
   */
  peerIdentity(ep: EndpointState): string | undefined {
    const tls = this.upstreams.meshTls;
    // A DestinationPolicy with tls DISABLE opts the host out of auto mTLS (Istio's DestinationRule); ISTIO_MUTUAL is the default here.
    if (!dialsMtls(this.host, { sidecar: true, plaintext: ep.plaintext }, tls.ready)) return undefined;
    if (this.expectedIdentity === undefined || this.identityDomain !== tls.trustDomain) {
      const dot = this.host.host.indexOf(".");
      this.identityDomain = tls.trustDomain;
      this.expectedIdentity = tls.serviceIdentity(this.host.host.slice(dot + 1), this.host.host.slice(0, dot));
    }
    return this.expectedIdentity;
  }

  private expectedIdentity: string | undefined;
  private identityDomain: string | undefined;

  /**
   * The balancer's pick, re-drawn up to RESELECT_ATTEMPTS times while it lands on an endpoint
   * in `tried` and an untried one is available. Re-drawing rather than filtering the list
   * keeps the balancers' own state (ring, rotation) built for the full membership.
   */
  private pickAvoiding(available: readonly EndpointState[], req: ProxyRequest, tried: readonly EndpointState[] | undefined): EndpointState | undefined {
    let ep = this.lb.pick(available, req);
    if (!tried || !ep || !tried.includes(ep) || available.every((e) => tried.includes(e))) return ep;
    for (let i = 0; i < RESELECT_ATTEMPTS && ep && tried.includes(ep); i++) ep = this.lb.pick(available, req);
    return ep;
  }
}

/**
 * A peer sidecar's 503 local reply saying its app refused the connection (UF) or dropped it
 * (UR, UC), as the error it stands for. Through a sidecar pair the app is the peer's upstream,
 * so without this a route's `connect-failure` or `reset` retries (the default retryOn) would
 * never see an app's failure: only a 503 response, which they do not retry. A gRPC local reply
 * (200 with grpc-status 14) is left alone: `unavailable` retries it as it is.
 */
function peerLocalFailure(res: ProxyResponse, endpoint: string): Error | undefined {
  if (res.status !== 503) return undefined;
  const raw = res.headers[RESPONSE_FLAGS_HEADER];
  const flag = Array.isArray(raw) ? raw[0] : raw;
  if (flag === "UF") return new UpstreamConnectError(`peer ${endpoint} could not connect to its application`);
  if (flag === "UR" || flag === "UC") return new UpstreamResetError(`peer ${endpoint}: its application reset the connection`);
  return undefined;
}

/** The header a proxy's local reply names its response flag in (server/local-reply.ts). */
const RESPONSE_FLAGS_HEADER = "x-trellis-response-flags";

/**
 * How many times a retry re-picks while the balancer keeps choosing an endpoint this request
 * already tried (Envoy's previous_hosts predicate with Istio's host_selection_retry_max_attempts).
 */
const RESELECT_ATTEMPTS = 5;

/** A request-less pick for a TCP connection (consistent hashing falls back to random without a header). */
export const TCP_PICK_REQUEST: ProxyRequest = Object.freeze({ method: "CONNECT", path: "", authority: "", headers: {}, body: RequestBody.empty() });

/** Calls `release` once the response body ended or was abandoned (or at once if there is none). */
export function withRelease(res: ProxyResponse, release: () => void): ProxyResponse {
  if (!res.body) {
    release();
    return res;
  }
  const body = res.body;
  // The first of 'end' and 'close' releases and takes the other off: an undici body closes
  // right after its end, but an HTTP/2 stream closes only once both directions are done (an
  // upstream may answer before it read the whole request body), and a listener left on it
  // takes the exchange into old space (pump-body.ts). An error is always followed by 'close';
  // the no-op error listener keeps one that comes before the edge listens from being thrown.
  const done = () => {
    body.off("end", done);
    body.off("close", done);
    release();
  };
  body.once("end", done);
  body.once("close", done);
  body.on("error", ignoreError);
  return res;
}
