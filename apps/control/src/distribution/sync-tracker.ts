import type { Logger } from "../log";
import type { ProxySyncStatus, SyncState, SyncStatusSink } from "./ports";

/** Who a newly connected proxy is. */
export type ProxyInfo = Pick<ProxySyncStatus, "proxyId" | "workload" | "service" | "namespace" | "address" | "proxyVersion">;

export interface SyncTrackerOptions {
  replicaId: string;
  sink?: SyncStatusSink;
  /** Changes are sent to the sink at most this often, in ms (default 1000). */
  flushMs?: number;
  logger?: Logger;
  now?: () => Date;
}

/**
 * Per-proxy config sync state (SYNCED / STALE / NACKED) of the proxies connected to this
 * replica, with the times of the last send, ACK and NACK. Every change marks the proxy dirty;
 * dirty statuses go to the sink in one batch per `flushMs` (latest status per proxy), and a
 * failed batch is retried with the next one. A disconnected proxy is reported once, then
 * forgotten. Methods for an unknown proxy id are ignored (it disconnected meanwhile).
 */
export class SyncTracker {
  private readonly proxies = new Map<string, ProxySyncStatus>();
  private readonly dirty = new Map<string, ProxySyncStatus>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly now: () => Date;

  constructor(private readonly options: SyncTrackerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  connected(info: ProxyInfo): void {
    this.proxies.set(info.proxyId, {
      ...info,
      replicaId: this.options.replicaId,
      state: "STALE",
      latestVersion: null,
      revision: null,
      lastSentVersion: null,
      lastSentAt: null,
      lastAckedVersion: null,
      lastAckedAt: null,
      lastNackVersion: null,
      lastNackReason: null,
      lastNackAt: null,
      connectedAt: this.now(),
      disconnectedAt: null,
    });
    this.changed(info.proxyId);
  }

  /** The latest snapshot compiled for the proxy (whether or not it is sent). */
  compiled(proxyId: string, version: string, revision: number): void {
    const s = this.proxies.get(proxyId);
    if (!s || (s.latestVersion === version && s.revision === revision)) return;
    s.latestVersion = version;
    s.revision = revision;
    this.changed(proxyId);
  }

  sent(proxyId: string, version: string): void {
    this.update(proxyId, (s) => {
      s.lastSentVersion = version;
      s.lastSentAt = this.now();
    });
  }

  acked(proxyId: string, version: string): void {
    this.update(proxyId, (s) => {
      s.lastAckedVersion = version;
      s.lastAckedAt = this.now();
    });
  }

  /** The proxy refused `version`; its last acknowledged version stays as it was. */
  nacked(proxyId: string, version: string, reason: string): void {
    this.update(proxyId, (s) => {
      s.lastNackVersion = version;
      s.lastNackReason = reason;
      s.lastNackAt = this.now();
    });
  }

  disconnected(proxyId: string): void {
    const s = this.proxies.get(proxyId);
    if (!s) return;
    s.disconnectedAt = this.now();
    this.changed(proxyId);
    this.proxies.delete(proxyId);
  }

  /** Connected proxies' statuses, ordered by id (copies). */
  status(): ProxySyncStatus[] {
    return [...this.proxies.values()].map((s) => ({ ...s })).sort((a, b) => (a.proxyId < b.proxyId ? -1 : a.proxyId > b.proxyId ? 1 : 0));
  }

  get(proxyId: string): ProxySyncStatus | undefined {
    const s = this.proxies.get(proxyId);
    return s && { ...s };
  }

  /** Sends the pending changes to the sink now and waits for it. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    const sink = this.options.sink;
    if (!sink || this.dirty.size === 0) return;
    const batch = [...this.dirty.values()];
    this.dirty.clear();
    this.flushing = sink
      .record(batch)
      .catch((err: unknown) => {
        this.options.logger?.warn("sync status batch not recorded; retrying with the next batch", { proxies: batch.length, error: String(err) });
        for (const s of batch) if (!this.dirty.has(s.proxyId)) this.dirty.set(s.proxyId, s);
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.dirty.size > 0) this.schedule();
      });
    await this.flushing;
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private update(proxyId: string, f: (s: ProxySyncStatus) => void): void {
    const s = this.proxies.get(proxyId);
    if (!s) return;
    f(s);
    this.changed(proxyId);
  }

  private changed(proxyId: string): void {
    const s = this.proxies.get(proxyId);
    if (!s) return;
    s.state = stateOf(s);
    if (!this.options.sink) return;
    this.dirty.set(proxyId, { ...s });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.flushMs ?? 1000);
    this.timer.unref();
  }
}

/** SYNCED when the latest version is acknowledged; NACKED when it was sent and refused; STALE otherwise. */
export function stateOf(s: Pick<ProxySyncStatus, "latestVersion" | "lastSentVersion" | "lastAckedVersion" | "lastNackVersion">): SyncState {
  if (s.latestVersion !== null && s.lastAckedVersion === s.latestVersion) return "SYNCED";
  if (s.latestVersion !== null && s.lastSentVersion === s.latestVersion && s.lastNackVersion === s.latestVersion) return "NACKED";
  return "STALE";
}
