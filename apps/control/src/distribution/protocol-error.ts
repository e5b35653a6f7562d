import { status } from "@grpc/grpc-js";

/**
 * A proxy broke the stream protocol. The control plane sends a Goodbye with `code` and the
 * message, then ends that stream (only that one) with `grpcStatus`.
 */
export class ProtocolError extends Error {
  constructor(
    /** Stable code, e.g. `TRELLIS_HELLO_REQUIRED`; sent in Goodbye.code. */
    readonly code: `TRELLIS_${string}`,
    message: string,
    /** INVALID_ARGUMENT for a malformed message, FAILED_PRECONDITION for one out of order, PERMISSION_DENIED for a Hello its certificate does not cover. */
    readonly grpcStatus: status.INVALID_ARGUMENT | status.FAILED_PRECONDITION | status.PERMISSION_DENIED,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}
