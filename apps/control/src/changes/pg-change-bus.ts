import pg from "pg";
import type { Logger } from "../log";
import { type ChangeBus, type ChangeEvent, parseChangeEvent } from "./change-bus";

export const CHANGE_CHANNEL = "trellis_changes";

/**
 * Change fan-out across replicas with PostgreSQL LISTEN/NOTIFY. Holds one dedicated
 * connection for LISTEN (a pooled connection cannot keep a LISTEN). If that connection
 * drops it reconnects with backoff and, once back, delivers a synthetic "config" event so
 * subscribers re-read whatever they may have missed meanwhile.
 */
export class PgChangeBus implements ChangeBus {
  private client: pg.Client | undefined;
  private handlers = new Set<(e: ChangeEvent) => void>();
  private closed = false;
  private retryMs = 200;
  /** Publishes go one after another: a pg client must not run overlapping queries. */
  private publishing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly url: string,
    private readonly replicaId: string,
    private readonly log: Logger,
  ) {}

  static async start(url: string, replicaId: string, log: Logger): Promise<PgChangeBus> {
    const bus = new PgChangeBus(url, replicaId, log);
    await bus.connect();
    return bus;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("notification", (n) => {
      const event = parseChangeEvent(n.payload);
      if (!event) return this.log.warn("ignored malformed change notification", { channel: n.channel });
      this.deliver(event);
    });
    client.on("error", (err) => this.log.warn("change listener connection error", { cause: err.message }));
    client.on("end", () => {
      if (this.client === client) this.client = undefined;
      if (!this.closed) this.reconnectLater();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    this.client = client;
    this.retryMs = 200;
  }

  private reconnectLater(): void {
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
    this.log.warn("change listener disconnected; reconnecting", { retryInMs: delay });
    setTimeout(() => {
      if (this.closed) return;
      this.connect().then(
        () => this.deliver({ type: "config", revision: -1, origin: this.replicaId }),
        () => this.reconnectLater(),
      );
    }, delay).unref();
  }

  private deliver(event: ChangeEvent): void {
    for (const h of this.handlers) h(event);
  }

  async publish(event: ChangeEvent): Promise<void> {
    const client = this.client;
    if (!client) {
      // Listener is down: deliver locally at least; remote replicas catch up on their resync.
      this.deliver(event);
      return;
    }
    const run = this.publishing.then(() => client.query("SELECT pg_notify($1, $2)", [CHANGE_CHANNEL, JSON.stringify(event)]));
    this.publishing = run.catch(() => {});
    await run;
  }

  subscribe(handler: (e: ChangeEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }
}
