import { TAP_LIMITS } from "@trellis/config";
import { z } from "zod";
import { TapEventViewSchema } from "./tap-event-schema";
import type { TapEventView } from "./tap-event-schema";

/**
 * Live taps across control-plane replicas. A watcher is connected to one replica (the tap's
 * owner) but the proxies whose traffic it wants may hold their streams to any replica. So the
 * owner announces its taps to every replica ("open", renewed every few seconds, and "close"),
 * each replica sends TapControl with the union of all taps to its own proxies, and events a
 * replica receives for a tap it does not own are relayed to the owner ("events").
 *
 * Messages are hints with no authority: a receiver validates each (a peer replica's bug must
 * not reach a watcher unchecked), a lost "open" is repeated at the next renewal, a lost
 * "close" expires with the tap's ttl, and lost events are only lost events.
 */

/** Largest serialized message, bytes: PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
export const MAX_TAP_MESSAGE_BYTES = 7900;

/** A tap as replicas announce it and proxies receive it (TapSpec, wire form). */
export const TapSpecSchema = z.object({
  id: z.string().min(1).max(TAP_LIMITS.tapId),
  filter: z.object({
    sourceWorkload: z.string().max(TAP_LIMITS.name),
    sourceNamespace: z.string().max(TAP_LIMITS.name),
    destinationService: z.string().max(TAP_LIMITS.name),
    destinationNamespace: z.string().max(TAP_LIMITS.name),
    pathPrefix: z.string().max(256),
    statusMin: z.number().int().min(0).max(999),
    statusMax: z.number().int().min(0).max(999),
  }),
  sampleRate: z.number().gt(0).max(1),
  maxPerSecond: z.number().int().min(1).max(TAP_LIMITS.maxPerSecond),
  ttlMs: z.number().int().min(1).max(10 * 60_000),
});
export type WireTapSpec = z.infer<typeof TapSpecSchema>;

const origin = z.string().min(1).max(256);

export const TapBusMessageSchema = z.discriminatedUnion("type", [
  /** Replica `origin` runs this tap (sent when it opens and again at every renewal). */
  z.object({ type: z.literal("open"), origin, tap: TapSpecSchema }),
  /** Replica `origin` closed tap `id` (its last watcher left). */
  z.object({ type: z.literal("close"), origin, id: z.string().min(1).max(TAP_LIMITS.tapId) }),
  /** Events for tap `tapId`, owned by replica `owner`, seen by proxies of replica `origin`. */
  z.object({ type: z.literal("events"), origin, owner: origin, tapId: z.string().min(1).max(TAP_LIMITS.tapId), events: z.array(TapEventViewSchema).min(1).max(200) }),
]);
export type TapBusMessage = z.infer<typeof TapBusMessageSchema>;
export type TapEventsMessage = Extract<TapBusMessage, { type: "events" }>;

/** Parses a message another replica sent; undefined for anything malformed. */
export function parseTapBusMessage(payload: string | undefined): TapBusMessage | undefined {
  if (!payload || payload.length > MAX_TAP_MESSAGE_BYTES) return undefined;
  try {
    const r = TapBusMessageSchema.safeParse(JSON.parse(payload));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** How replicas talk about taps. */
export interface TapBus {
  /** Sends `message` to the other replicas (and, for "events", at least to its owner); false when it was dropped because the bus is backed up. */
  publish(message: TapBusMessage): boolean;
  /** Every message from any replica, this one's own included; returns the unsubscribe function. */
  subscribe(handler: (message: TapBusMessage) => void): () => void;
  close(): Promise<void>;
}

/**
 * In-process bus: one replica alone (the embedded database), or several hubs of one test.
 * Messages go through JSON, as they would through PostgreSQL.
 */
export class LocalTapBus implements TapBus {
  private readonly handlers = new Set<(m: TapBusMessage) => void>();

  publish(message: TapBusMessage): boolean {
    const payload = JSON.stringify(message);
    for (const h of this.handlers)
      queueMicrotask(() => {
        const m = parseTapBusMessage(payload);
        if (m) h(m);
      });
    return true;
  }

  subscribe(handler: (m: TapBusMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}

/**
 * Splits events for one tap into "events" messages that each serialize under
 * MAX_TAP_MESSAGE_BYTES. An event too large even alone travels with its header values cut,
 * then without headers; `oversized` counts the ones that still did not fit (left out).
 */
export function packEvents(base: Omit<TapEventsMessage, "events">, events: readonly TapEventView[]): { messages: TapEventsMessage[]; oversized: number } {
  const envelope = Buffer.byteLength(JSON.stringify({ ...base, events: [] }));
  const messages: TapEventsMessage[] = [];
  let batch: TapEventView[] = [];
  let size = envelope;
  let oversized = 0;
  for (const e of events) {
    const fitted = fit(e, MAX_TAP_MESSAGE_BYTES - envelope);
    if (!fitted) {
      oversized++;
      continue;
    }
    const bytes = fitted.bytes + (batch.length > 0 ? 1 : 0);
    if (batch.length > 0 && (size + bytes > MAX_TAP_MESSAGE_BYTES || batch.length >= 200)) {
      messages.push({ ...base, events: batch });
      batch = [];
      size = envelope;
    }
    batch.push(fitted.event);
    size += fitted.bytes + (batch.length > 1 ? 1 : 0);
  }
  if (batch.length > 0) messages.push({ ...base, events: batch });
  return { messages, oversized };
}

function fit(e: TapEventView, max: number): { event: TapEventView; bytes: number } | undefined {
  const tries: TapEventView[] = [e, { ...e, requestHeaders: Object.fromEntries(Object.entries(e.requestHeaders).map(([k, v]) => [k, v.length > 64 ? v.slice(0, 63) + "…" : v])) }, { ...e, requestHeaders: {} }];
  for (const t of tries) {
    const bytes = Buffer.byteLength(JSON.stringify(t));
    if (bytes <= max) return { event: t, bytes };
  }
  return undefined;
}
