/**
 * HTTP ⇄ gRPC status mapping, for replies that must make sense to both kinds of caller
 * (fault aborts configured with only one of the two).
 */

/**
 * The gRPC status a gRPC client sees for an HTTP status, as gRPC's "HTTP to gRPC status code
 * mapping" document and Envoy (Grpc::Utility::httpToGrpcStatus) define it: 400 → INTERNAL,
 * 401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED, 404 → UNIMPLEMENTED,
 * 429/502/503/504 → UNAVAILABLE, anything else → UNKNOWN.
 */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}

/**
 * The HTTP status an HTTP client sees for a gRPC status: google.rpc.Code's documented HTTP
 * mapping, which Envoy's grpcToHttpStatus also uses (CANCELLED → 499, UNKNOWN/INTERNAL/DATA_LOSS
 * → 500, DEADLINE_EXCEEDED → 504, UNAVAILABLE → 503, RESOURCE_EXHAUSTED → 429, …). Codes
 * outside 0–16 → 500.
 */
export function grpcToHttpStatus(code: number): number {
  return GRPC_TO_HTTP[code] ?? 500;
}

const GRPC_TO_HTTP: Record<number, number> = {
  0: 200, // OK
  1: 499, // CANCELLED (client closed request)
  2: 500, // UNKNOWN
  3: 400, // INVALID_ARGUMENT
  4: 504, // DEADLINE_EXCEEDED
  5: 404, // NOT_FOUND
  6: 409, // ALREADY_EXISTS
  7: 403, // PERMISSION_DENIED
  8: 429, // RESOURCE_EXHAUSTED
  9: 400, // FAILED_PRECONDITION
  10: 409, // ABORTED
  11: 400, // OUT_OF_RANGE
  12: 501, // UNIMPLEMENTED
  13: 500, // INTERNAL
  14: 503, // UNAVAILABLE
  15: 500, // DATA_LOSS
  16: 401, // UNAUTHENTICATED
};
