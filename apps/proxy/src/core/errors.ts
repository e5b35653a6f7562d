/**
 * Envoy's response flags, as they appear in access logs and in the `response_flags` metric
 * label: NR no route, UH no healthy upstream, UF upstream connect failure, UO upstream
 * overflow (circuit breaker), UT upstream request timeout, URX upstream retry limit exceeded,
 * UC upstream connection termination, UR upstream reset, DI delay injected, FI fault
 * injected, RL rate limited, DC downstream connection termination, RBAC denied by policy,
 * UAEX unauthenticated.
 */
export type ResponseFlag = "NR" | "UH" | "UF" | "UO" | "UT" | "URX" | "UC" | "UR" | "DI" | "FI" | "RL" | "DC" | "RBAC" | "UAEX";

/** gRPC status codes used in local replies. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/**
 * An expected failure on the request path. Every subclass has a stable `code`, the HTTP status
 * and gRPC status of the local reply it becomes, and the response flag it sets. The message is
 * for logs and the local reply body: it names the cause, never policy internals or secrets.
 */
export abstract class ProxyError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  abstract readonly grpcStatus: number;
  abstract readonly flag: ResponseFlag | undefined;
  override get name(): string {
    return this.constructor.name;
  }
}

/** No route matched the request (or the host is unknown): 404 NR. */
export class NoRouteError extends ProxyError {
  readonly code = "TRELLIS_NO_ROUTE";
  readonly status = 404;
  readonly grpcStatus = GrpcStatus.UNIMPLEMENTED;
  readonly flag = "NR" as const;
}

/** The chosen cluster has no endpoint, or all are ejected: 503 UH. */
export class NoHealthyUpstreamError extends ProxyError {
  readonly code = "TRELLIS_NO_HEALTHY_UPSTREAM";
  readonly status = 503;
  readonly grpcStatus = GrpcStatus.UNAVAILABLE;
  readonly flag = "UH" as const;
}

/** Connecting to the upstream failed (refused, unreachable, connect timeout): 503 UF. Retryable as `connect-failure`. */
export class UpstreamConnectError extends ProxyError {
  readonly code = "TRELLIS_UPSTREAM_CONNECT_FAILURE";
  readonly status = 503;
  readonly grpcStatus = GrpcStatus.UNAVAILABLE;
  readonly flag = "UF" as const;
}

/** The upstream reset the stream or closed the connection before a response: 503 UR. Retryable as `reset`. */
export class UpstreamResetError extends ProxyError {
  readonly code = "TRELLIS_UPSTREAM_RESET";
  readonly status = 503;
  readonly grpcStatus = GrpcStatus.UNAVAILABLE;
  readonly flag = "UR" as const;
}

/** A connection-pool limit (max connections, pending or concurrent requests, retries) is full: fast 503 UO. */
export class OverflowError extends ProxyError {
  readonly code = "TRELLIS_UPSTREAM_OVERFLOW";
  readonly status = 503;
  readonly grpcStatus = GrpcStatus.UNAVAILABLE;
  readonly flag = "UO" as const;
}

/** The route timeout (or a per-try timeout on the last attempt) expired: 504 UT. */
export class UpstreamTimeoutError extends ProxyError {
  readonly code = "TRELLIS_UPSTREAM_TIMEOUT";
  readonly status = 504;
  readonly grpcStatus = GrpcStatus.DEADLINE_EXCEEDED;
  readonly flag = "UT" as const;
}

/** Fault injection aborted the request with the configured status: FI. */
export class FaultAbortError extends ProxyError {
  readonly code = "TRELLIS_FAULT_ABORT";
  readonly flag = "FI" as const;
  constructor(
    readonly status: number,
    readonly grpcStatus: number,
  ) {
    super(`fault filter abort`);
  }
}

/** A local token bucket is empty: 429 RL. */
export class RateLimitedError extends ProxyError {
  readonly code = "TRELLIS_RATE_LIMITED";
  readonly status = 429;
  readonly grpcStatus = GrpcStatus.RESOURCE_EXHAUSTED;
  readonly flag = "RL" as const;
}

/** An authorization policy denied the request: 403 RBAC. The message says "RBAC: access denied", never which rule. */
export class AccessDeniedError extends ProxyError {
  readonly code = "TRELLIS_ACCESS_DENIED";
  readonly status = 403;
  readonly grpcStatus = GrpcStatus.PERMISSION_DENIED;
  readonly flag = "RBAC" as const;
  constructor(
    /** The deciding policy's key, for the access log only. */
    readonly policy: string | undefined,
  ) {
    super("RBAC: access denied");
  }
}

/**
 * A JWT on the request failed RequestAuthentication (bad signature, expired, unknown issuer,
 * wrong audience): 401, with Envoy's jwt_authn wording in the body. A request without a token
 * is not this error: it passes, and authorization decides.
 */
export class JwtAuthenticationError extends ProxyError {
  readonly code = "TRELLIS_JWT_INVALID";
  readonly status = 401;
  readonly grpcStatus = GrpcStatus.UNAUTHENTICATED;
  readonly flag = "UAEX" as const;
  constructor(
    message: string,
    /** The RequestAuthentication whose rule refused it, for the access log only. */
    readonly policy: string | undefined,
  ) {
    super(message);
  }
}

/** No configuration has arrived yet (neither from the control plane nor from the disk copy): 503 NR. */
export class NotReadyError extends ProxyError {
  readonly code = "TRELLIS_NOT_READY";
  readonly status = 503;
  readonly grpcStatus = GrpcStatus.UNAVAILABLE;
  readonly flag = "NR" as const;
}

/** The request itself is malformed for the proxy (bad authority, bad header): 400. */
export class BadRequestError extends ProxyError {
  readonly code = "TRELLIS_BAD_REQUEST";
  readonly status = 400;
  readonly grpcStatus = GrpcStatus.INVALID_ARGUMENT;
  readonly flag = undefined;
}

/** A plaintext request to a port whose PeerAuthentication is STRICT: 403, the reason in the access log. */
export class MtlsRequiredError extends ProxyError {
  readonly code = "TRELLIS_MTLS_REQUIRED";
  readonly status = 403;
  readonly grpcStatus = GrpcStatus.UNAUTHENTICATED;
  readonly flag = undefined;
}
