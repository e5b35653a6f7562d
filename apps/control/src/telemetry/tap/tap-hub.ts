import { randomBytes } from "node:crypto";
import { tapMatches, tapWireFilter } from "@trellis/config";
import type { TapWatchInput } from "@trellis/config";
import type { TapEvents } from "@trellis/proto";
import type { TelemetrySender } from "../../distribution/ports";
import { silentLogger } from "../../log";
import type { Logger } from "../../log";
import { packEvents } from "./tap-bus";
import type { TapBus, TapBusMessage, WireTapSpec } from "./tap-bus";
import { tapEventsProblem, viewOf } from "./tap-event-schema";
import type { TapEventView } from "./tap-event-schema";
import { TapWatchQueue } from "./tap-watch";
import type { TapWatchItem } from "./tap-watch";

/** A replica already runs as many taps as it may; the watcher should retry later. */
export class TapLimitError extends Error {
  readonly code = "TRELLIS_TAP_LIMIT";
}

/** What the API needs of the hub (ControlServices.tap). */
export interface TapService {
  /** Runs a tap for as long as the returned iterable is read; it stops when `signal` aborts or the reader returns. Throws TapLimitError. */
  watch(input: TapWatchInput, signal?: AbortSignal): AsyncGenerator<TapWatchItem>;
  stats(): TapStats;
}

/** Counters of the hub, for the API and tests. */
export interface TapStats {
  /** Taps watched through this replica, and taps announced by the others. */
  localTaps: number;
  remoteTaps: number;
  /** Events taken from this replica's proxies. */
  received: number;
  /** TapEvents messages refused (malformed), and the last reason. */
  refused: number;
  lastRefusal: string | null;
  /** Events delivered to this replica's watchers. */
  delivered: number;
  /** Events sent to, and received from, other replicas. */
  relayed: number;
  relayReceived: number;
  /** Events dropped: for taps nobody runs, that the control plane's filter check refused, a full relay, a slow watcher. */
  unknownTap: number;
  mismatched: number;
  relayDropped: number;
  watcherDropped: number;
}

export interface TapHubOptions {
  replicaId: string;
  bus: TapBus;
  /** Tells this replica's proxies every tap to run now (ConfigDiscoveryServer.setTaps). */
  pushTaps(taps: WireTapSpec[]): void;
  log?: Logger;
  /** How often running taps are announced again and renewed on the proxies, ms (default 5000). */
  renewEveryMs?: number;
  /** How long a tap runs (on proxies, on other replicas) without renewal, ms (default 3 × renewEveryMs). */
  ttlMs?: number;
  /** Taps watched through this replica at once (default 16). */
  maxLocalTaps?: number;
  /** Taps announced by other replicas that this one runs (default 64). */
  maxRemoteTaps?: number;
  /** Events waiting per watcher (default 1000). */
  watcherCapacity?: number;
}

interface LocalTap {
  spec: WireTapSpec;
  queue: TapWatchQueue;
}

interface RemoteTap {
  owner: string;
  spec: WireTapSpec;
  expiresAt: number;
}

/** Refusals are logged at most this often (a broken proxy sends several messages a second). */
const REFUSAL_LOG_EVERY_MS = 60_000;

/**
 * The control plane's side of live taps. `watch()` opens a tap: it is announced to the other
 * replicas (tap-bus.ts), and every replica sends its proxies a TapControl listing all taps of
 * all replicas; while the watcher reads, a timer renews the tap everywhere; when it stops
 * reading, the tap is closed everywhere (and would expire by ttl if that message were lost).
 * `tapEvents()` (the TelemetrySink method) takes proxies' events: validated, redacted again,
 * checked against the tap's filter, then queued for a watcher here or relayed to the owner.
 *
 * Every structure is bounded: taps (maxLocalTaps, maxRemoteTaps), each watcher's queue, the
 * bus's send queue; what does not fit is dropped and counted in stats().
 *
 * Safe use: one hub per replica; close() on shutdown ends every watch.
 */
export class TapHub implements TapService {
  private readonly local = new Map<string, LocalTap>();
  private readonly remote = new Map<string, RemoteTap>();
  private readonly log: Logger;
  private readonly renewEveryMs: number;
  private readonly ttlMs: number;
  private readonly counters: Omit<TapStats, "localTaps" | "remoteTaps"> = { received: 0, refused: 0, lastRefusal: null, delivered: 0, relayed: 0, relayReceived: 0, unknownTap: 0, mismatched: 0, relayDropped: 0, watcherDropped: 0 };
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private lastRefusalLog = 0;
  /** Whether the proxies were last told about any tap (so the last one stopping is pushed once). */
  private pushedAny = false;

  constructor(private readonly options: TapHubOptions) {
    this.log = (options.log ?? silentLogger).child({ module: "tap" });
    this.renewEveryMs = options.renewEveryMs ?? 5000;
    this.ttlMs = options.ttlMs ?? 3 * this.renewEveryMs;
    this.unsubscribe = options.bus.subscribe((m) => this.onBus(m));
    this.timer = setInterval(() => this.renew(), this.renewEveryMs);
    this.timer.unref();
  }

  async *watch(input: TapWatchInput, signal?: AbortSignal): AsyncGenerator<TapWatchItem> {
    const tap = this.open(input);
    try {
      yield { type: "started", tapId: tap.spec.id };
      yield* tap.queue.drain(signal);
    } finally {
      this.closeTap(tap.spec.id);
    }
  }

  stats(): TapStats {
    return { localTaps: this.local.size, remoteTaps: this.remote.size, ...this.counters };
  }

  /** TelemetrySink.tapEvents: undefined when taken, else why the message was refused. */
  tapEvents(sender: TelemetrySender, message: TapEvents): string | undefined {
    const problem = tapEventsProblem(message.events);
    if (problem !== undefined) return this.refuse(sender, problem);
    this.counters.received += message.events.length;
    const relays = new Map<string, TapEventView[]>();
    for (const e of message.events) {
      let view: TapEventView | undefined;
      for (const id of new Set(e.tapIds)) {
        view ??= viewOf(e, sender);
        const local = this.local.get(id);
        const remote = local ? undefined : this.remote.get(id);
        if (!local && !remote) {
          this.counters.unknownTap++;
          continue;
        }
        if (!tapMatches((local ?? remote)!.spec.filter, view)) {
          this.counters.mismatched++;
          continue;
        }
        if (local) this.deliver(local, view);
        else {
          let list = relays.get(id);
          if (!list) relays.set(id, (list = []));
          list.push(view);
        }
      }
    }
    for (const [id, events] of relays) this.relay(id, events);
    return undefined;
  }

  /** Ends every watch and stops the timers; announces nothing (the other replicas let the taps expire). */
  close(): void {
    clearInterval(this.timer);
    this.unsubscribe();
    for (const t of this.local.values()) t.queue.close();
    this.local.clear();
    this.remote.clear();
  }

  private open(input: TapWatchInput): LocalTap {
    const max = this.options.maxLocalTaps ?? 16;
    if (this.local.size >= max) throw new TapLimitError(`this control-plane replica already runs ${max} live taps; close one or retry later`);
    const spec: WireTapSpec = {
      id: `${this.options.replicaId.slice(0, 64)}.${randomBytes(8).toString("hex")}`,
      filter: tapWireFilter(input.filter),
      sampleRate: input.sampleRate,
      maxPerSecond: input.maxPerSecond,
      ttlMs: this.ttlMs,
    };
    const tap: LocalTap = { spec, queue: new TapWatchQueue(this.options.watcherCapacity ?? 1000) };
    this.local.set(spec.id, tap);
    this.log.info("live tap opened", { tap: spec.id, filter: input.filter, sampleRate: spec.sampleRate, maxPerSecond: spec.maxPerSecond });
    this.options.bus.publish({ type: "open", origin: this.options.replicaId, tap: spec });
    this.push();
    return tap;
  }

  private closeTap(id: string): void {
    const tap = this.local.get(id);
    if (!tap) return;
    this.local.delete(id);
    tap.queue.close();
    this.counters.watcherDropped += tap.queue.droppedTotal;
    this.log.info("live tap closed", { tap: id });
    this.options.bus.publish({ type: "close", origin: this.options.replicaId, id });
    this.push();
  }

  private deliver(tap: LocalTap, view: TapEventView): void {
    this.counters.delivered++;
    tap.queue.push(view);
  }

  private relay(id: string, events: TapEventView[]): void {
    const owner = this.remote.get(id)!.owner;
    const { messages, oversized } = packEvents({ type: "events", origin: this.options.replicaId, owner, tapId: id }, events);
    this.counters.relayDropped += oversized;
    for (const m of messages) {
      if (this.options.bus.publish(m)) this.counters.relayed += m.events.length;
      else this.counters.relayDropped += m.events.length;
    }
  }

  private onBus(m: TapBusMessage): void {
    if (m.origin === this.options.replicaId) return;
    if (m.type === "events") return this.onRelayed(m.owner, m.tapId, m.events);
    if (m.type === "close") {
      if (this.remote.delete(m.id)) this.push();
      return;
    }
    const known = this.remote.get(m.tap.id);
    if (!known && (this.local.has(m.tap.id) || this.remote.size >= (this.options.maxRemoteTaps ?? 64))) return;
    this.remote.set(m.tap.id, { owner: m.origin, spec: m.tap, expiresAt: Date.now() + m.tap.ttlMs });
    if (!known) this.push();
  }

  private onRelayed(owner: string, id: string, events: readonly TapEventView[]): void {
    if (owner !== this.options.replicaId) return;
    const tap = this.local.get(id);
    if (!tap) return void (this.counters.unknownTap += events.length);
    for (const e of events) {
      // Validated by the bus's parser; the filter is checked again here, where the watcher is.
      if (!tapMatches(tap.spec.filter, e)) {
        this.counters.mismatched++;
        continue;
      }
      this.counters.relayReceived++;
      this.deliver(tap, e);
    }
  }

  /** Every renewal: announce our taps again, forget remote ones whose owner went quiet, renew all on the proxies. */
  private renew(): void {
    const now = Date.now();
    for (const t of this.local.values()) this.options.bus.publish({ type: "open", origin: this.options.replicaId, tap: t.spec });
    for (const [id, t] of this.remote) if (now >= t.expiresAt) this.remote.delete(id);
    this.push();
  }

  /** Sends the proxies the full list (each send also renews the taps' ttl on them). */
  private push(): void {
    const taps = [...[...this.local.values()].map((t) => t.spec), ...[...this.remote.values()].map((t) => t.spec)];
    if (taps.length === 0 && !this.pushedAny) return;
    this.pushedAny = taps.length > 0;
    this.options.pushTaps(taps);
  }

  private refuse(sender: TelemetrySender, reason: string): string {
    this.counters.refused++;
    this.counters.lastRefusal = `${sender.proxyId}: ${reason}`;
    const now = Date.now();
    if (now - this.lastRefusalLog >= REFUSAL_LOG_EVERY_MS) {
      this.lastRefusalLog = now;
      this.log.warn("refused malformed tap events", { proxy: sender.proxyId, reason, refusedTotal: this.counters.refused });
    }
    return reason;
  }
}
