import { createHash } from "node:crypto";
import pg from "pg";
import type { Logger } from "../../log";
import { parseTapBusMessage } from "./tap-bus";
import type { TapBus, TapBusMessage } from "./tap-bus";

/** Where replicas announce taps ("open", "close"). */
export const TAP_CHANNEL = "trellis_taps";

/** Where replica `replicaId` receives events relayed for its taps: a channel of its own, so the others never parse them. */
export function tapInboxChannel(replicaId: string): string {
  return `trellis_tap_${createHash("sha256").update(replicaId).digest("hex").slice(0, 24)}`;
}

/** Messages waiting to be sent; beyond this a publish is dropped (a flood must not grow memory). */
const MAX_QUEUED = 256;
/** Malformed notifications are logged at most this often. */
const WARN_EVERY_MS = 60_000;

/**
 * The tap bus over PostgreSQL LISTEN/NOTIFY, on a connection of its own: a burst of tap
 * traffic then never delays the config change notifications of PgChangeBus, and a dropped tap
 * connection only pauses taps. Reconnects with backoff; what was lost meanwhile comes back
 * with the next renewal (announcements) or is lost (events), which a live view tolerates.
 *
 * Sends one NOTIFY at a time (a pg client must not run overlapping queries) from a bounded
 * queue: `publish` returns false and the message is dropped when MAX_QUEUED are waiting.
 */
export class PgTapBus implements TapBus {
  private client: pg.Client | undefined;
  private readonly handlers = new Set<(m: TapBusMessage) => void>();
  private readonly queue: Array<{ channel: string; payload: string }> = [];
  private sending = false;
  private closed = false;
  private retryMs = 200;
  private lastWarn = 0;
  /** Notifications that did not parse as a tap message (ignored). */
  malformed = 0;
  /** Messages dropped: the queue was full, or the NOTIFY failed. */
  dropped = 0;

  private constructor(
    private readonly url: string,
    private readonly replicaId: string,
    private readonly log: Logger,
  ) {}

  static async start(url: string, replicaId: string, log: Logger): Promise<PgTapBus> {
    const bus = new PgTapBus(url, replicaId, log.child({ module: "tap-bus" }));
    await bus.connect();
    return bus;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("notification", (n) => {
      const m = parseTapBusMessage(n.payload);
      if (!m) return this.ignored(n.channel);
      for (const h of this.handlers) h(m);
    });
    client.on("error", (err) => this.log.warn("tap bus connection error", { cause: err.message }));
    client.on("end", () => {
      if (this.client === client) this.client = undefined;
      if (!this.closed) this.reconnectLater();
    });
    await client.connect();
    await client.query(`LISTEN ${TAP_CHANNEL}`);
    await client.query(`LISTEN ${tapInboxChannel(this.replicaId)}`);
    this.client = client;
    this.retryMs = 200;
    this.sendNext();
  }

  private reconnectLater(): void {
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
    this.log.warn("tap bus disconnected; reconnecting", { retryInMs: delay });
    setTimeout(() => {
      if (!this.closed) this.connect().catch(() => this.reconnectLater());
    }, delay).unref();
  }

  private ignored(channel: string): void {
    this.malformed++;
    const now = Date.now();
    if (now - this.lastWarn < WARN_EVERY_MS) return;
    this.lastWarn = now;
    this.log.warn("ignored malformed tap notifications", { channel, total: this.malformed });
  }

  publish(message: TapBusMessage): boolean {
    if (this.closed || this.queue.length >= MAX_QUEUED) {
      this.dropped++;
      return false;
    }
    const channel = message.type === "events" ? tapInboxChannel(message.owner) : TAP_CHANNEL;
    this.queue.push({ channel, payload: JSON.stringify(message) });
    this.sendNext();
    return true;
  }

  private sendNext(): void {
    const client = this.client;
    if (this.sending || !client) return;
    const next = this.queue.shift();
    if (!next) return;
    this.sending = true;
    client.query("SELECT pg_notify($1, $2)", [next.channel, next.payload]).then(
      () => this.sent(),
      (err: Error) => {
        this.dropped++;
        this.log.debug("tap notification failed", { cause: err.message });
        this.sent();
      },
    );
  }

  private sent(): void {
    this.sending = false;
    this.sendNext();
  }

  subscribe(handler: (m: TapBusMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    this.queue.length = 0;
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }
}
