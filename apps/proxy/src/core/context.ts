import type { EndpointState } from "../balancer/endpoint-state";
import type { ProxyError } from "./errors";
import { ResponseFlags } from "./response-flags";

/** Which side of the sidecar a request is on: leaving the local app, or arriving for it. */
export type Direction = "outbound" | "inbound";

/** A workload's identity as telemetry labels need it (Istio's peer metadata). */
export interface PeerInfo {
  /** Workload (instance) name. */
  workload: string;
  /** The Service it belongs to (Istio's `app`). */
  app: string;
  /** Its `version` label, or "unknown". */
  version: string;
  /** Its namespace. */
  namespace: string;
  /** Not set from peer metadata: the SPIFFE ID proven by mTLS is RequestContext.peerPrincipal. */
  principal?: string | undefined;
}

/** The peer used when the other side is not a mesh workload (or did not say who it is). */
export const UNKNOWN_PEER: PeerInfo = Object.freeze({ workload: "unknown", app: "unknown", version: "unknown", namespace: "unknown" });

/** Where the router sent a request: filled in by the route and cluster layers, read by telemetry. */
export interface RouteTarget {
  /** Canonical outbound host (`reviews.default`) or, inbound, the local Service host. */
  readonly host: string;
  /** The host port. */
  readonly port: number;
  /** Subset, if the weighted pick chose one. */
  readonly subset?: string | undefined;
  /** Envoy-style cluster name. */
  readonly cluster: string;
}

/** The route rule a request matched: its name (or `default`) and the Route resource it came from. */
export interface MatchedRoute {
  readonly name: string;
  readonly source: string;
}

/** The span a sampled request is recorded as, from the tracing layer until the request finishes. */
export interface ActiveSpan {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** This proxy's span: 16 lower-case hex digits. */
  spanId: string;
  /** The caller's span, when the request continued a trace. */
  parentSpanId: string | undefined;
  /** The W3C `tracestate` that came with the parent, kept on the span as OpenTelemetry does. */
  traceState: string | undefined;
}

/**
 * Per-request state shared by the layers of one request. Layers write only the fields they
 * own (the route layer `route`, the cluster layer `target` and `upstreamAddress`, the edge the
 * byte counts) and telemetry reads them all when the request ends.
 */
export class RequestContext {
  /** `performance.now()` at accept. */
  readonly start = performance.now();
  /** Wall clock at accept (access log). */
  readonly startTime = Date.now();
  /** Response flags set along the way. */
  readonly flags = new ResponseFlags();
  /** The matched route rule (an object of the router's, shared by its requests). */
  route: MatchedRoute | undefined;
  /** The destination picked by the route and weighted split (an object of the router's, shared by its requests). */
  target: RouteTarget | undefined;
  /** Inbound: the service port the calling sidecar named (its `x-trellis-port` header), read by the edge. */
  meshPort: number | undefined = undefined;
  /** `address:port` of the endpoint the last attempt went to. */
  upstreamAddress: string | undefined;
  /** Attempts made upstream (1 + retries). */
  attempts = 0;
  /** Who sent the request. */
  source: PeerInfo;
  /** Who served it: for outbound, told by the peer proxy's response; for inbound, this workload. */
  destination: PeerInfo | undefined;
  /** `mutual_tls` once mTLS carries the hop, else `none` (Istio's connection_security_policy). */
  connectionSecurity: "none" | "mutual_tls" = "none";
  /**
   * The SPIFFE ID the other side proved over mTLS: inbound, the caller's certificate (what
   * authorization matches); outbound, the upstream sidecar's (checked against the destination
   * service). Undefined over plaintext.
   */
  peerPrincipal: string | undefined = undefined;
  /** `<iss>/<sub>` of a JWT that RequestAuthentication verified. */
  requestPrincipal: string | undefined = undefined;
  /** That JWT's claims. */
  claims: Readonly<Record<string, unknown>> | undefined = undefined;
  /** AUDIT AuthorizationPolicies that matched this request. */
  audited: string[] | undefined = undefined;
  /** Request body bytes received from downstream. */
  requestBytes = 0;
  /** Response body bytes sent downstream. */
  responseBytes = 0;
  /** The failure that became a local reply, if any. */
  error: ProxyError | undefined;
  /** Set by the tracing layer when the request is sampled; read (and cleared) when it finishes. */
  span: ActiveSpan | undefined = undefined;
  /** Endpoints this request's attempts went to, so retries go elsewhere when they can (the cluster layer's). */
  tried: EndpointState[] | undefined = undefined;
  /** Set once the request was reported to telemetry: the edge may see both its finish and its close. */
  reported = false;

  constructor(
    readonly direction: Direction,
    /** `http`, `grpc` (content-type application/grpc) or `tcp`, Istio's request_protocol. */
    readonly protocol: "http" | "grpc" | "tcp",
    /** Aborted when the downstream goes away. */
    readonly signal: AbortSignal,
    /** The downstream peer's address (per-caller rate limits, access log). */
    readonly downstreamAddress: string,
    source: PeerInfo,
  ) {
    this.source = source;
  }

  /** Whether the request is gRPC, so local replies must carry grpc-status. */
  get grpc(): boolean {
    return this.protocol === "grpc";
  }
}
