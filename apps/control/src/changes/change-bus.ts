/**
 * Fan-out of "something changed" between control-plane replicas. A replica publishes after
 * it commits a revision or changes the endpoint registry; every replica (itself included)
 * receives the event and recomputes what its proxies need. Events carry no data the
 * receiver must trust: they are hints to re-read the database, so a lost event costs only
 * latency (the periodic resync in main catches it).
 */
export type ChangeEvent =
  | { type: "config"; revision: number; origin: string }
  | { type: "endpoints"; origin: string };

export interface ChangeBus {
  publish(event: ChangeEvent): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(handler: (event: ChangeEvent) => void): () => void;
  close(): Promise<void>;
}

/** Parses a NOTIFY payload; returns undefined for anything that is not a ChangeEvent. */
export function parseChangeEvent(payload: string | undefined): ChangeEvent | undefined {
  if (!payload) return undefined;
  try {
    const v = JSON.parse(payload) as Partial<ChangeEvent> & Record<string, unknown>;
    if (v.type === "config" && typeof v.revision === "number" && typeof v.origin === "string") return { type: "config", revision: v.revision, origin: v.origin };
    if (v.type === "endpoints" && typeof v.origin === "string") return { type: "endpoints", origin: v.origin };
  } catch {
    /* not JSON: ignored */
  }
  return undefined;
}
