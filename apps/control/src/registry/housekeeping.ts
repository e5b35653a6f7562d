import type { Logger } from "../log";
import type { EndpointRepo } from "./endpoint-repo";
import type { ProxyStatusRepo } from "./proxy-status-repo";

/** How often this replica heartbeats its endpoints, collects expired ones and re-checks the head revision. */
export const HOUSEKEEPING_MS = 5_000;
/** Endpoints and statuses whose replica has not heartbeated for this long are removed (the replica died). */
export const REPLICA_DEAD_MS = 30_000;

export interface HousekeepingOptions {
  replicaId: string;
  endpoints: EndpointRepo;
  statuses: ProxyStatusRepo;
  /** The disconnect grace of the distribution layer, ms. */
  graceMs: number;
  /** The database's head revision. */
  head: () => Promise<number>;
  /** Some endpoints expired: tell every replica. */
  endpointsRemoved: () => void;
  /** The head moved past every announced revision (a notification was lost): push now. */
  missedRevision: () => void;
  log: Logger;
}

/**
 * Periodic upkeep of one replica's share of the shared registry: heartbeat its endpoints,
 * delete expired endpoints and statuses (any replica's), and catch lost change notifications.
 * `announced(revision)` records revisions already being pushed so that they are not pushed
 * again. Single-threaded; `stop()` once on shutdown.
 */
export class Housekeeping {
  private lastHead = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: HousekeepingOptions) {
    this.timer = setInterval(() => void this.run().catch((err: Error) => o.log.warn("housekeeping failed", { cause: err.message })), HOUSEKEEPING_MS);
    this.timer.unref();
  }

  /** A revision that a change notification announced (and whose push is under way). */
  announced(revision: number): void {
    this.lastHead = Math.max(this.lastHead, revision);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async run(): Promise<void> {
    const { endpoints, statuses, replicaId } = this.o;
    await endpoints.touchReplica(replicaId);
    const now = Date.now();
    const removed = await endpoints.deleteStale({ disconnectedBefore: new Date(now - this.o.graceMs - HOUSEKEEPING_MS), lastSeenBefore: new Date(now - REPLICA_DEAD_MS) });
    if (removed.length) this.o.endpointsRemoved();
    await statuses.deleteDisconnected(new Date(now - REPLICA_DEAD_MS));
    const head = await this.o.head();
    if (head > this.lastHead) this.o.missedRevision();
    this.announced(head);
  }
}
