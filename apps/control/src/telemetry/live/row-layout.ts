/**
 * The numbers stored per series per time slot, as offsets into a Float64Array of STRIDE
 * entries. What an offset means depends on the series' kind (its key says which), so HTTP,
 * TCP and saturation series share one fixed-size row and one slot layout.
 */

/** Numbers per row. */
export const STRIDE = 12;

/** HTTP and gRPC series. */
export const REQUESTS = 0;
/** Requests by response class: CLASS_0 + c for class c (0 = no response, 1..5 = 1xx..5xx). */
export const CLASS_0 = 1;
export const GRPC_ERRORS = 7;
export const MTLS = 8;
export const LATENCY_SUM_MS = 9;
export const REQUEST_BYTES = 10;
export const RESPONSE_BYTES = 11;

/** TCP series. */
export const TCP_OPENED = 0;
export const TCP_CLOSED = 1;
export const TCP_SENT = 2;
export const TCP_RECEIVED = 3;
export const TCP_MTLS_OPENED = 4;

/**
 * Saturation series: each proxy reports its gauges once a second, so a slot holds the sum of
 * the per-second readings; divided by the seconds of a window they give the average.
 */
export const IN_FLIGHT = 0;
export const POOL_ACTIVE = 1;
export const POOL_LIMIT = 2;
export const OVERFLOWS = 3;
/** Readings summed into the row (for averages when a proxy reports more or less than once a second). */
export const READINGS = 4;

/** Errors as Kiali counts them for health: 5xx, no response at all, and gRPC failures behind a 200. */
export function errorsOf(v: ArrayLike<number>, at = 0): number {
  return v[at + CLASS_0 + 5]! + v[at + CLASS_0]! + v[at + GRPC_ERRORS]!;
}
