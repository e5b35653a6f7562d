import { status } from "@grpc/grpc-js";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import { spiffeIdsOfSan } from "@trellis/config";
import type { SpiffeIdentity } from "@trellis/config";
import type { ControlMessage, ProxyMessage, TapSpec } from "@trellis/proto";
import { parseHello } from "./parse-hello";
import type { ValidHello } from "./parse-hello";
import { ProtocolError } from "./protocol-error";
import type { TelemetrySender } from "./ports";
import type { CompiledSnapshot } from "./snapshot-compiler";

/** What the deserializer hands over instead of a ProxyMessage when the bytes do not decode. */
export class MalformedMessage {
  constructor(readonly error: string) {}
}

export type IncomingMessage = ProxyMessage | MalformedMessage;

/**
 * A Snapshot message whose body is still in chunks (see CompiledSnapshot.bodyChunks): the
 * serializer writes them into the frame as they are, so a push does not join each proxy's body
 * first. On the wire it is exactly ControlMessage{snapshot{version, content_type, body}}.
 */
export class OutgoingSnapshot {
  constructor(
    readonly version: string,
    readonly bodyChunks: readonly Uint8Array[],
  ) {}
}

export type OutgoingMessage = ControlMessage | OutgoingSnapshot;

/** What a connection reports to the server. Callbacks run after the protocol checks passed. */
export interface ConnectionEvents {
  hello(conn: ProxyConnection, hello: ValidHello): Promise<void>;
  sent(conn: ProxyConnection, version: string): void;
  ack(conn: ProxyConnection, version: string): void;
  nack(conn: ProxyConnection, version: string, reason: string): void;
  /** A telemetry message arrived; returns why it is refused, or undefined. */
  telemetry(conn: ProxyConnection, message: TelemetryMessage): string | undefined;
  /** The stream ended, whatever the cause; called once. */
  closed(conn: ProxyConnection): void;
}

/** A ProxyMessage carrying telemetry rather than config sync. */
export type TelemetryMessage = Extract<NonNullable<ProxyMessage["message"]>, { $case: "telemetry" | "tapEvents" }>;

/**
 * Telemetry messages a stream may send: a proxy sends one delta a second (plus tap batches),
 * so a burst of 10 and 5 a second leave room for catch-up, and a flood costs only a counter.
 */
const TELEMETRY_BURST = 10;
const TELEMETRY_PER_SECOND = 5;
/** At most one TelemetryRejected per this many ms goes back; the rest are only counted. */
const REJECTION_NOTICE_EVERY_MS = 1000;

/** Versions remembered per stream for checking ACK/NACKs; far more than a proxy ever leaves unanswered. */
const REMEMBERED_VERSIONS = 256;

/**
 * One proxy's stream: enforces the protocol (Hello first and once; ACK/NACK only for versions
 * sent on this stream; well-formed messages), and writes snapshots with flow control — at
 * most one snapshot is handed to gRPC at a time; while the stream is backed up (write()
 * returned false, or the last write has not completed) only the newest pending snapshot is
 * kept, so a slow proxy gets the latest configuration, not every intermediate one.
 *
 * A protocol error ends this stream only: Goodbye(code, reason), then the gRPC status.
 */
export class ProxyConnection {
  /** Set once the Hello passed validation. */
  hello: ValidHello | undefined;
  /** Set once the Hello was processed (endpoint registered): snapshots may be pushed. */
  ready = false;
  /** The newest version handed to push(), written or waiting; null before the first. */
  targetVersion: string | null = null;
  closed = false;
  private helloSeen = false;
  private readonly sentVersions = new Set<string>();
  private waiting: CompiledSnapshot | undefined;
  private inFlight = false;
  private drainPending = false;
  private telemetryTokens = TELEMETRY_BURST;
  private telemetryRefilledAt = Date.now();
  private lastSequence = 0;
  private lastRejectionNoticeAt = 0;
  /** Telemetry messages refused on this stream (malformed, out of order, over the rate), for stats. */
  telemetryRejected = 0;

  constructor(
    private readonly call: ServerDuplexStream<IncomingMessage, OutgoingMessage>,
    private readonly events: ConnectionEvents,
  ) {
    call.on("data", (msg: IncomingMessage) => this.receive(msg));
    call.on("end", () => this.end());
    call.on("cancelled", () => this.finish());
    call.on("error", () => this.finish());
    call.on("close", () => this.finish());
  }

  /** The proxy's id (`namespace/workload`) once it said Hello; empty before. */
  get id(): string {
    return this.hello?.proxy.id ?? "";
  }

  /** Who this stream speaks for, as telemetry senders are named; undefined before the Hello. */
  get sender(): TelemetrySender | undefined {
    const p = this.hello?.proxy;
    if (!p) return undefined;
    if (this.senderCache?.proxyId !== p.id) this.senderCache = { proxyId: p.id, namespace: p.namespace, service: p.service, workload: this.hello!.endpoint.workload, labels: p.labels };
    return this.senderCache;
  }
  private senderCache: TelemetrySender | undefined;

  /** The SPIFFE identity of the client certificate the connection was authenticated with (TLS port), if any. */
  peerIdentity(): SpiffeIdentity | undefined {
    return spiffeIdsOfSan(this.call.getAuthContext?.()?.sslPeerCertificate?.subjectaltname)[0];
  }

  /** The peer address, for logs. */
  get peer(): string {
    return this.call.getPeer();
  }

  /** Sends `snapshot` now, or as soon as the stream has room (replacing any older waiting one). */
  push(snapshot: CompiledSnapshot): void {
    if (this.closed) return;
    this.targetVersion = snapshot.version;
    if (this.inFlight || this.drainPending) {
      this.waiting = snapshot;
      return;
    }
    this.write(snapshot);
  }

  /** Sends the live taps the proxy should run now (TapControl: the whole list; a few hundred bytes, so no flow control). */
  sendTaps(taps: TapSpec[]): void {
    if (this.closed) return;
    this.call.write({ message: { $case: "tap", value: { taps } } });
  }

  /** Sends a Goodbye and ends the stream with a non-OK status. */
  goodbye(code: string, reason: string, grpcStatus: status): void {
    if (this.closed) return;
    this.call.write({ message: { $case: "goodbye", value: { code, reason } } });
    this.call.emit("error", { code: grpcStatus, details: reason });
    this.finish();
  }

  private write(snapshot: CompiledSnapshot): void {
    this.remember(snapshot.version);
    this.inFlight = true;
    const ok = this.call.write(new OutgoingSnapshot(snapshot.version, snapshot.bodyChunks()), () => {
      this.inFlight = false;
      this.writeWaiting();
    });
    this.events.sent(this, snapshot.version);
    if (!ok) {
      this.drainPending = true;
      this.call.once("drain", () => {
        this.drainPending = false;
        this.writeWaiting();
      });
    }
  }

  private writeWaiting(): void {
    if (this.closed || this.inFlight || this.drainPending || !this.waiting) return;
    const next = this.waiting;
    this.waiting = undefined;
    this.write(next);
  }

  private remember(version: string): void {
    this.sentVersions.delete(version);
    this.sentVersions.add(version);
    if (this.sentVersions.size > REMEMBERED_VERSIONS) {
      const oldest = this.sentVersions.values().next().value;
      if (oldest !== undefined) this.sentVersions.delete(oldest);
    }
  }

  private receive(msg: IncomingMessage): void {
    if (this.closed) return;
    try {
      this.check(msg);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.goodbye(err.code, err.message, err.grpcStatus);
    }
  }

  private check(msg: IncomingMessage): void {
    if (msg instanceof MalformedMessage) {
      throw new ProtocolError("TRELLIS_MALFORMED_MESSAGE", `could not decode a ProxyMessage: ${msg.error}`, status.INVALID_ARGUMENT);
    }
    const m = msg.message;
    if (m === undefined) throw new ProtocolError("TRELLIS_EMPTY_MESSAGE", "ProxyMessage has none of hello, ack, nack, telemetry or tap_events set", status.INVALID_ARGUMENT);
    if (m.$case === "hello") {
      if (this.helloSeen) throw new ProtocolError("TRELLIS_DUPLICATE_HELLO", "a second Hello on the same stream; open a new stream to change identity", status.FAILED_PRECONDITION);
      this.helloSeen = true;
      const hello = parseHello(m.value);
      // On the TLS port a proxy with a mesh certificate may only speak for the identity it proves.
      const peer = this.peerIdentity();
      if (peer && (peer.namespace !== hello.proxy.namespace || peer.serviceAccount !== hello.proxy.service)) {
        throw new ProtocolError("TRELLIS_IDENTITY_MISMATCH", `the connection's certificate is for ${peer.namespace}/${peer.serviceAccount}; a Hello for ${hello.proxy.namespace}/${hello.proxy.service} is refused`, status.PERMISSION_DENIED);
      }
      this.hello = hello;
      this.events.hello(this, this.hello).catch((err: unknown) => {
        this.goodbye("TRELLIS_HELLO_FAILED", `could not register the endpoint: ${String(err)}; retry later`, status.UNAVAILABLE);
      });
      return;
    }
    if (!this.helloSeen) throw new ProtocolError("TRELLIS_HELLO_REQUIRED", `the first message on a stream must be a Hello, not ${describe(m.$case)}`, status.FAILED_PRECONDITION);
    if (m.$case === "telemetry" || m.$case === "tapEvents") return this.receiveTelemetry(m);
    const version = m.value.version;
    if (!this.sentVersions.has(version)) {
      throw new ProtocolError("TRELLIS_UNKNOWN_VERSION", `${m.$case === "ack" ? "Ack" : "Nack"} for version '${version}', which was never sent on this stream`, status.FAILED_PRECONDITION);
    }
    if (m.$case === "ack") this.events.ack(this, version);
    else this.events.nack(this, version, m.value.reason || "(no reason given)");
  }

  /**
   * Telemetry never ends the stream (config sync matters more): a message over the rate, out
   * of sequence or refused by the sink is dropped, counted, and the proxy told why (at most
   * once a second).
   */
  private receiveTelemetry(m: TelemetryMessage): void {
    const now = Date.now();
    this.telemetryTokens = Math.min(TELEMETRY_BURST, this.telemetryTokens + ((now - this.telemetryRefilledAt) / 1000) * TELEMETRY_PER_SECOND);
    this.telemetryRefilledAt = now;
    const sequence = m.$case === "telemetry" ? m.value.sequence : 0;
    let reason: string | undefined;
    if (this.telemetryTokens < 1) reason = `more than ${TELEMETRY_PER_SECOND} telemetry messages a second (burst ${TELEMETRY_BURST}); send one delta a second`;
    else if (m.$case === "telemetry" && sequence <= this.lastSequence) reason = `sequence ${sequence} is not after ${this.lastSequence}: a repeated or reordered delta`;
    else {
      this.telemetryTokens -= 1;
      if (m.$case === "telemetry") this.lastSequence = sequence;
      reason = this.events.telemetry(this, m);
    }
    if (reason === undefined) return;
    this.telemetryRejected++;
    if (now - this.lastRejectionNoticeAt < REJECTION_NOTICE_EVERY_MS) return;
    this.lastRejectionNoticeAt = now;
    this.call.write({ message: { $case: "telemetryRejected", value: { sequence, reason } } });
  }

  /** The proxy half-closed: end our side with OK. */
  private end(): void {
    if (!this.closed) this.call.end();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting = undefined;
    this.events.closed(this);
  }
}

function describe(kind: NonNullable<ProxyMessage["message"]>["$case"]): string {
  switch (kind) {
    case "ack":
      return "an Ack";
    case "nack":
      return "a Nack";
    case "telemetry":
      return "a TelemetryDelta";
    default:
      return "TapEvents";
  }
}
