import type { ClientDuplexStream, ServiceError, StatusObject } from "@grpc/grpc-js";
import type { ConfigDiscoveryClient, ControlMessage, Hello, ProxyMessage } from "@trellis/proto";

/** How a stream ended: the gRPC status code and details. */
export interface StreamEnd {
  code: number;
  details: string;
}

/**
 * One StreamConfig stream: sends the Hello at once, hands every ControlMessage to `onMessage`
 * and reports its end exactly once, whatever ends it (server status, transport error, cancel).
 * ACK and NACK after the end are dropped: the control plane only accepts them for versions
 * sent on the same stream, and the next stream's Hello carries the version being served.
 */
export class ConfigStream {
  /** When the stream was opened (Date.now()). */
  readonly openedAt = Date.now();
  private readonly call: ClientDuplexStream<ProxyMessage, ControlMessage>;
  private endedWith: StreamEnd | undefined;
  private backedUp = false;
  /** Resolves when the stream ended. */
  readonly ended: Promise<StreamEnd>;

  constructor(client: ConfigDiscoveryClient, hello: Hello, onMessage: (m: ControlMessage) => void) {
    this.call = client.streamConfig();
    let settle: (end: StreamEnd) => void = () => {};
    this.ended = new Promise((resolve) => (settle = resolve));
    const finish = (end: StreamEnd): void => {
      if (this.endedWith) return;
      this.endedWith = end;
      settle(end);
    };
    this.call.on("data", (m: ControlMessage) => {
      if (!this.endedWith) onMessage(m);
    });
    // A non-OK status arrives as 'error' and then 'status'; an OK one only as 'status'.
    this.call.on("error", (e: ServiceError) => finish({ code: e.code, details: e.details }));
    this.call.on("status", (s: StatusObject) => finish({ code: s.code, details: s.details }));
    this.call.write({ message: { $case: "hello", value: hello } });
  }

  get isEnded(): boolean {
    return this.endedWith !== undefined;
  }

  ack(version: string): void {
    if (!this.endedWith) this.call.write({ message: { $case: "ack", value: { version } } });
  }

  nack(version: string, reason: string): void {
    if (!this.endedWith) this.call.write({ message: { $case: "nack", value: { version, reason } } });
  }

  /** Whether a telemetry message would go out now: the stream is up and gRPC's buffer is not full. */
  get canSend(): boolean {
    return !this.endedWith && !this.backedUp;
  }

  /**
   * Sends telemetry (deltas, tap events). The caller checks `canSend` first and keeps its data
   * otherwise: telemetry waits for a drained stream instead of piling up in gRPC's buffer.
   */
  send(message: Extract<ProxyMessage["message"], { $case: "telemetry" | "tapEvents" }>): void {
    if (this.endedWith) return;
    if (!this.call.write({ message })) {
      this.backedUp = true;
      this.call.once("drain", () => (this.backedUp = false));
    }
  }

  /** Ends the stream from this side (status CANCELLED). */
  cancel(): void {
    if (!this.endedWith) this.call.cancel();
  }
}
