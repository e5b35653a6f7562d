import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import type { Snapshot } from "@trellis/config";
import { ConfigDiscoveryClient } from "@trellis/proto";
import type { ControlMessage, Goodbye, Hello, Snapshot as SnapshotMessage, TapEvent, TapSpec, TelemetryDelta } from "@trellis/proto";
import type { Logger } from "../core/log";
import { Backoff, sleep } from "./backoff";
import { channelReady } from "./channel-ready";
import { ConfigStream } from "./config-stream";
import type { StreamEnd } from "./config-stream";
import { decodeSnapshot } from "./decode-snapshot";
import { SnapshotFile } from "./snapshot-file";

/** Who this proxy is, as its Hello says. */
export interface ProxyIdentity {
  workload: string;
  service: string;
  namespace: string;
  labels: Record<string, string>;
  /** Where other proxies reach this proxy's inbound listener. */
  address: string;
  /** The ports the local app serves (empty for a gateway). */
  ports: { name: string; port: number; protocol: string }[];
  /** The inbound listener's bound port (not 0: bind first, then say hello), so peers dial the proxy. */
  inboundPort: number;
  proxyVersion: string;
}

export interface ConfigClientOptions {
  /** The control plane's gRPC address, `host:port`. */
  target: string;
  hello: ProxyIdentity;
  /** Where the last good snapshot is kept (see SnapshotFile). */
  dataDir: string;
  /** Builds the proxy's routers from a snapshot and swaps them in; throwing refuses it (NACK with the message). */
  apply: (snapshot: Snapshot) => void;
  log: Logger;
  backoff?: {
    /** Upper bound of the first reconnect delay, ms (default 500). */
    baseMs: number;
    /** Upper bound of any reconnect delay, ms (default 15000). */
    maxMs: number;
    /** A stream that stayed up this long resets the delays, ms (default 10000). */
    stableMs?: number;
  };
  /** Longest one connection attempt may take, ms (default 10000). */
  connectTimeoutMs?: number;
  /** What the proxy reports on the stream (live deltas, tap events); nothing when absent. */
  telemetry?: StreamTelemetry;
  /** Credentials for each new channel (the workload identity's mTLS); plaintext when absent. */
  credentials?: (() => grpc.ChannelCredentials) | undefined;
}

/** The telemetry side of the stream: the proxy's collectors, polled by the client while a stream is up. */
export interface StreamTelemetry {
  /** What accumulated since the last call; the client assigns the sequence. Not called while the stream is down or backed up, so nothing is lost then. */
  takeDelta(): Omit<TelemetryDelta, "sequence">;
  /** Tap events waiting to go out (at most one TapEvents message's worth per call). */
  takeTapEvents?(): TapEvent[];
  /** The live taps the control plane wants now (replaces the previous list; [] when a stream ends). */
  setTaps?(taps: TapSpec[]): void;
  /** How often deltas go out, ms (default 1000). */
  intervalMs?: number;
  /** How often waiting tap events go out, ms (default 500). */
  tapIntervalMs?: number;
}

/** A refused snapshot. */
export interface NackRecord {
  version: string;
  reason: string;
  at: Date;
}

/** What the admin server shows about configuration sync. */
export interface ConfigStatus {
  target: string;
  /** Version of the snapshot being served; undefined before the first. */
  version: string | undefined;
  /** The config revision it was compiled from. */
  revision: number | undefined;
  /** Where the served snapshot came from. */
  source: "disk" | "control-plane" | undefined;
  /** When the last snapshot was acknowledged. */
  lastAckAt: Date | undefined;
  /** The last refused snapshot, if any (kept after later successes, as history). */
  lastNack: NackRecord | undefined;
  connected: boolean;
  /** Connection attempts after the first. */
  reconnects: number;
}

export interface ConfigClientEvents {
  /** A snapshot was swapped in, restored from disk or received. */
  applied: [snapshot: Snapshot, source: "disk" | "control-plane"];
  /** A snapshot was refused; the previous one is still served. */
  nacked: [nack: NackRecord];
  connected: [];
  disconnected: [end: StreamEnd];
}

const MAX_NACK_REASON = 2000;
/** A refused telemetry message is logged at most this often. */
const REJECTION_LOG_EVERY_MS = 60_000;
/** While the control plane stays unreachable, an info line this often (each attempt is a debug line). */
const OUTAGE_LOG_EVERY_MS = 60_000;

/**
 * The proxy's side of the ConfigDiscovery stream.
 *
 * start() restores the disk copy (if valid) and then holds one stream to the control plane in
 * the background, for good: every Snapshot is decoded, validated and applied; an applied one
 * is saved to disk, then ACKed; a refused one is NACKed with the reason and the previous one
 * stays. Each Hello carries the version being served, so the control plane skips resending an
 * unchanged snapshot. Any end of the stream leads to a reconnect after a jittered exponential
 * delay (a fresh channel per attempt, paced only by that backoff).
 *
 * Single owner: call start() once, stop() once. `apply` runs on the event loop, one snapshot
 * at a time, never concurrently.
 */
export class ConfigClient extends EventEmitter<ConfigClientEvents> {
  private snapshot: Snapshot | undefined;
  private source: ConfigStatus["source"];
  private lastAckAt: Date | undefined;
  private lastNack: NackRecord | undefined;
  private reconnects = 0;
  private stream: ConfigStream | undefined;
  private client: ConfigDiscoveryClient | undefined;
  private stopped = false;
  /** The Goodbye code of the current stream, if one came. */
  private goodbyeCode: string | undefined;
  private started = false;
  private loop: Promise<void> = Promise.resolve();
  /** Snapshots are handled one after the other (apply, disk, ACK). */
  private processing: Promise<void> = Promise.resolve();
  private readonly stopping = new AbortController();
  private readonly file: SnapshotFile;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private readonly proxyId: string;
  private lastRejectionLog = 0;

  constructor(private readonly options: ConfigClientOptions) {
    super();
    this.log = options.log.child({ module: "config-client" });
    this.file = new SnapshotFile(options.dataDir, this.log);
    this.backoff = new Backoff({ baseMs: options.backoff?.baseMs ?? 500, maxMs: options.backoff?.maxMs ?? 15_000 });
    this.proxyId = `${options.hello.namespace}/${options.hello.workload}`;
  }

  /** The snapshot being served. */
  get current(): Snapshot | undefined {
    return this.snapshot;
  }

  /** Whether a stream to the control plane is up. */
  get connected(): boolean {
    return this.stream !== undefined && !this.stream.isEnded;
  }

  status(): ConfigStatus {
    return {
      target: this.options.target,
      version: this.snapshot?.version,
      revision: this.snapshot?.revision,
      source: this.source,
      lastAckAt: this.lastAckAt,
      lastNack: this.lastNack,
      connected: this.connected,
      reconnects: this.reconnects,
    };
  }

  /** Restores the disk copy (applied if valid), then connects in the background; resolves right after the restore. */
  async start(): Promise<void> {
    if (this.started) throw new Error("ConfigClient.start() called twice; create a new ConfigClient instead");
    this.started = true;
    await this.restore();
    this.loop = this.run();
  }

  /** Ends the stream and stops reconnecting; resolves once nothing is in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.stream?.cancel();
    this.client?.close();
    await this.loop;
    await this.processing;
  }

  private async restore(): Promise<void> {
    const s = await this.file.read();
    if (!s) return;
    if (s.proxy.id !== this.proxyId) {
      this.log.warn("ignoring the snapshot on disk: it is for another proxy", { path: this.file.path, snapshotProxy: s.proxy.id, proxy: this.proxyId });
      return;
    }
    try {
      this.options.apply(s);
    } catch (err) {
      this.log.warn("ignoring the snapshot on disk: it could not be applied", { path: this.file.path, version: s.version, error: errorText(err) });
      return;
    }
    this.snapshot = s;
    this.source = "disk";
    this.log.info("serving the snapshot saved on disk until the control plane answers", { version: s.version, revision: s.revision });
    this.emit("applied", s, "disk");
  }

  private async run(): Promise<void> {
    let outageSince: number | undefined;
    let lastOutageLog = 0;
    let firstAttempt = true;
    while (!this.stopped) {
      if (!firstAttempt) this.reconnects++;
      firstAttempt = false;
      const result = await this.attempt();
      if (this.stopped) return;
      const now = Date.now();
      if (result.connected) {
        outageSince = undefined;
        if (result.upMs >= (this.options.backoff?.stableMs ?? 10_000)) this.backoff.reset();
      }
      const delay = this.backoff.next();
      if (outageSince === undefined) {
        outageSince = now;
        lastOutageLog = now;
        const fields = { target: this.options.target, ...result.end, retryInMs: delay, serving: this.snapshot?.version };
        if (!result.connected) this.log.warn("control plane unreachable; retrying", fields);
        // A replica shutting down is routine (a rollout): the proxy moves on to another one.
        else if (this.goodbyeCode === "TRELLIS_SHUTTING_DOWN") this.log.info("config stream ended; reconnecting", fields);
        else this.log.warn("config stream ended; reconnecting", fields);
      } else if (now - lastOutageLog >= OUTAGE_LOG_EVERY_MS) {
        lastOutageLog = now;
        this.log.info("still no control plane; serving the last snapshot", { target: this.options.target, forMs: now - outageSince, attempts: this.backoff.attempts, serving: this.snapshot?.version });
      } else {
        this.log.debug("reconnect attempt failed", { target: this.options.target, ...result.end, attempt: this.backoff.attempts, retryInMs: delay });
      }
      await sleep(delay, this.stopping.signal);
    }
  }

  /** One connection: a fresh channel, one connect attempt, then the stream until it ends. */
  private async attempt(): Promise<{ connected: false; end: StreamEnd } | { connected: true; upMs: number; end: StreamEnd }> {
    const client = new ConfigDiscoveryClient(this.options.target, this.options.credentials?.() ?? grpc.credentials.createInsecure(), {
      // Snapshots of a mesh with thousands of services run to many megabytes.
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      // Notice a control plane that vanished without closing the connection (a partition, a dead host).
      "grpc.keepalive_time_ms": 30_000,
      "grpc.keepalive_timeout_ms": 10_000,
      // Our own subchannel, closed with the client: no connection or reconnect timer outlives the attempt.
      "grpc.use_local_subchannel_pool": 1,
    });
    this.client = client;
    try {
      if (!(await channelReady(client.getChannel(), this.options.connectTimeoutMs ?? 10_000))) {
        return { connected: false, end: { code: grpc.status.UNAVAILABLE, details: `cannot connect to ${this.options.target}` } };
      }
      if (this.stopped) return { connected: false, end: { code: grpc.status.CANCELLED, details: "stopped" } };
      this.goodbyeCode = undefined;
      const stream = new ConfigStream(client, this.helloMessage(), (m) => this.onMessage(stream, m));
      this.stream = stream;
      this.log.info("connected to the control plane", { target: this.options.target, lastVersion: this.snapshot?.version, reconnects: this.reconnects });
      this.emit("connected");
      const stopTelemetry = this.startTelemetry(stream);
      const end = await stream.ended;
      stopTelemetry();
      this.emit("disconnected", end);
      return { connected: true, upMs: Date.now() - stream.openedAt, end };
    } finally {
      client.close();
    }
  }

  private helloMessage(): Hello {
    const h = this.options.hello;
    return {
      workload: h.workload,
      service: h.service,
      namespace: h.namespace,
      labels: h.labels,
      address: h.address,
      ports: h.ports,
      proxyVersion: h.proxyVersion,
      inboundPort: h.inboundPort,
      // The control plane skips resending what this proxy already serves.
      lastVersion: this.snapshot?.version ?? "",
    };
  }

  private onMessage(stream: ConfigStream, m: ControlMessage): void {
    const msg = m.message;
    if (msg?.$case === "snapshot") {
      const next = this.processing.then(() => this.onSnapshot(stream, msg.value));
      this.processing = next.catch((err: unknown) => this.log.error("snapshot handling failed", { error: errorText(err) }));
    } else if (msg?.$case === "goodbye") {
      this.onGoodbye(msg.value);
    } else if (msg?.$case === "telemetryRejected") {
      const now = Date.now();
      if (now - this.lastRejectionLog >= REJECTION_LOG_EVERY_MS) {
        this.lastRejectionLog = now;
        this.log.warn("the control plane refused telemetry", { sequence: msg.value.sequence, reason: msg.value.reason });
      }
    } else if (msg?.$case === "tap") {
      this.options.telemetry?.setTaps?.(msg.value.taps);
    }
  }

  /** Sends a delta (and pending tap events) every interval while `stream` is up; returns the stop function. */
  private startTelemetry(stream: ConfigStream): () => void {
    const t = this.options.telemetry;
    if (!t) return () => {};
    let sequence = 0;
    const tick = (): void => {
      if (!stream.canSend) return; // keep summing: the next delta covers the gap
      const delta = t.takeDelta();
      if (delta.requests.length === 0 && delta.tcp.length === 0 && delta.saturation.every((r) => r.inFlight === 0 && r.overflows === 0)) return;
      stream.send({ $case: "telemetry", value: { sequence: ++sequence, ...delta } });
    };
    // Tap events on a faster beat of their own, so a watcher sees a request about as it happens;
    // with deltas that stays within the control plane's 5 telemetry messages a second.
    const tapTick = (): void => {
      if (!stream.canSend) return; // events wait in the recorder's bounded buffer
      const events = t.takeTapEvents?.() ?? [];
      if (events.length > 0) stream.send({ $case: "tapEvents", value: { events } });
    };
    const timer = setInterval(tick, t.intervalMs ?? 1000);
    timer.unref();
    const tapTimer = t.takeTapEvents ? setInterval(tapTick, t.tapIntervalMs ?? 500) : undefined;
    tapTimer?.unref();
    return () => {
      clearInterval(timer);
      clearInterval(tapTimer);
      t.setTaps?.([]);
    };
  }

  private onGoodbye(g: Goodbye): void {
    this.goodbyeCode = g.code;
    const fields = { code: g.code, reason: g.reason };
    if (g.code === "TRELLIS_SHUTTING_DOWN") this.log.info("control plane replica is shutting down", fields);
    else this.log.warn("control plane ended the config stream", fields);
  }

  private async onSnapshot(stream: ConfigStream, msg: SnapshotMessage): Promise<void> {
    let snapshot: Snapshot;
    try {
      snapshot = decodeSnapshot(msg, this.proxyId);
      // The same version is the same content: nothing to rebuild, only to acknowledge.
      if (snapshot.version !== this.snapshot?.version) this.options.apply(snapshot);
    } catch (err) {
      const reason = errorText(err).slice(0, MAX_NACK_REASON);
      this.lastNack = { version: msg.version, reason, at: new Date() };
      this.log.warn("refused a snapshot; serving the previous one", { version: msg.version, reason, serving: this.snapshot?.version });
      stream.nack(msg.version, reason);
      this.emit("nacked", this.lastNack);
      return;
    }
    const changed = snapshot.version !== this.snapshot?.version;
    this.snapshot = snapshot;
    this.source = "control-plane";
    if (changed) {
      this.log.info("applied a snapshot", { version: snapshot.version, revision: snapshot.revision });
      this.emit("applied", snapshot, "control-plane");
      try {
        await this.file.write(msg.body);
      } catch (err) {
        // It is applied and served, so still ACK: the control plane's view must match what serves traffic.
        this.log.error("could not save the snapshot to disk; a restart without the control plane would serve an older one", { path: this.file.path, error: errorText(err) });
      }
    }
    stream.ack(msg.version);
    if (!stream.isEnded) this.lastAckAt = new Date();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
