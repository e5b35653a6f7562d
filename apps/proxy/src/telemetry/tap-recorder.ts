import { TAP_LIMITS, tapMatches } from "@trellis/config";
import type { TapWireFilter } from "@trellis/config";
import type { TapEvent, TapSpec } from "@trellis/proto";
import type { RequestContext } from "../core/context";
import type { Logger } from "../core/log";
import type { AccessLogRequest } from "./access-log";
import type { RequestOutcome } from "./request-record";
import { tapEvent, tapFacts } from "./tap-event";
import type { TapFacts } from "./tap-event";

/**
 * The proxy's live taps: the control plane says which taps run (TapControl, the whole list
 * each time); every finished request is checked against them and, if a tap wants it (filter,
 * then sampling, then the tap's per-second cap), summarised into a TapEvent (tap-event.ts)
 * that the config client takes a few times a second.
 *
 * Cost: with no tap running, finishRequest tests `active` and does nothing else. A tap stops
 * when a later TapControl leaves it out, when its ttl passes without renewal (a lost control
 * message or a vanished control plane cannot leave it running), and when the stream ends.
 *
 * Memory is bounded whatever the traffic: at most MAX_TAPS taps, at most `maxBuffered` events
 * waiting (further ones are dropped and counted in `dropped`), each event cut to TAP_LIMITS.
 *
 * Safe use: one instance per proxy; setTaps/take from the config client, record from
 * finishRequest, all on the event loop.
 */

/** Taps a proxy runs at once; specs beyond are ignored (and counted). */
export const MAX_TAPS = 32;
/** How long a tap runs without renewal when its spec says 0, and the most any spec gets, ms. */
export const DEFAULT_TAP_TTL_MS = 30_000;
export const MAX_TAP_TTL_MS = 10 * 60_000;

interface ActiveTap {
  id: string;
  filter: TapWireFilter;
  sampleRate: number;
  maxPerSecond: number;
  expiresAt: number;
  /** The second (epoch s) `sent` counts in. */
  second: number;
  sent: number;
}

export interface TapRecorderOptions {
  /** Events kept while waiting to be taken (default 2000). */
  maxBuffered?: number;
  random?: () => number;
  now?: () => number;
  log?: Logger;
}

const OPEN_FILTER: TapWireFilter = Object.freeze({ sourceWorkload: "", sourceNamespace: "", destinationService: "", destinationNamespace: "", pathPrefix: "", statusMin: 0, statusMax: 0 });

export class TapRecorder {
  /** Whether any tap runs; finishRequest calls record() only then. */
  active = false;
  /** Events lost because the buffer was full (the stream down or backed up). */
  dropped = 0;
  /** Specs ignored: malformed, duplicate ids, or beyond MAX_TAPS. */
  ignoredSpecs = 0;
  private taps: ActiveTap[] = [];
  private buffer: TapEvent[] = [];
  private readonly maxBuffered: number;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly options: TapRecorderOptions = {}) {
    this.maxBuffered = options.maxBuffered ?? 2000;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Ids of the taps running now. */
  get running(): string[] {
    return this.taps.map((t) => t.id);
  }

  /** Events waiting to be taken. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Replaces the running taps with `specs` (a TapControl's list); a listed tap that already runs keeps its per-second count. */
  setTaps(specs: readonly TapSpec[]): void {
    const now = this.now();
    const before = new Map(this.taps.map((t) => [t.id, t]));
    const next: ActiveTap[] = [];
    const ids = new Set<string>();
    for (const s of specs) {
      const reason = specProblem(s, ids);
      if (reason !== undefined || next.length >= MAX_TAPS) {
        this.ignoredSpecs++;
        this.options.log?.warn("ignored a live tap from the control plane", { tap: s.id.slice(0, TAP_LIMITS.tapId), reason: reason ?? `more than ${MAX_TAPS} taps` });
        continue;
      }
      ids.add(s.id);
      const ttl = s.ttlMs === 0 ? DEFAULT_TAP_TTL_MS : Math.min(s.ttlMs, MAX_TAP_TTL_MS);
      const prev = before.get(s.id);
      next.push({
        id: s.id,
        filter: s.filter ?? OPEN_FILTER,
        sampleRate: s.sampleRate,
        maxPerSecond: s.maxPerSecond === 0 ? TAP_LIMITS.maxPerSecond : Math.min(s.maxPerSecond, TAP_LIMITS.maxPerSecond),
        expiresAt: now + ttl,
        second: prev?.second ?? 0,
        sent: prev?.sent ?? 0,
      });
    }
    this.taps = next;
    this.active = next.length > 0;
    // Nobody is left to receive what waits: do not send it to the next stream.
    if (!this.active) this.buffer = [];
  }

  /** A request finished; call only while `active`. */
  record(ctx: RequestContext, req: AccessLogRequest, outcome: RequestOutcome): void {
    const now = this.now();
    let facts: TapFacts | undefined;
    let ids: string[] | undefined;
    let expired = false;
    for (const t of this.taps) {
      if (now >= t.expiresAt) {
        expired = true;
        continue;
      }
      facts ??= tapFacts(ctx, req, outcome);
      if (!tapMatches(t.filter, facts)) continue;
      if (t.sampleRate < 1 && this.random() >= t.sampleRate) continue;
      const second = Math.floor(now / 1000);
      if (t.second !== second) {
        t.second = second;
        t.sent = 0;
      }
      if (t.sent >= t.maxPerSecond) continue;
      t.sent++;
      (ids ??= []).push(t.id);
    }
    if (expired) this.expire(now);
    if (ids === undefined || facts === undefined) return;
    if (this.buffer.length >= this.maxBuffered) {
      this.dropped++;
      return;
    }
    this.buffer.push(tapEvent(ctx, req, outcome, facts, ids));
  }

  /** Up to `max` waiting events, oldest first (the rest wait for the next call); stops expired taps. */
  take(max: number = TAP_LIMITS.eventsPerMessage): TapEvent[] {
    this.expire(this.now());
    if (this.buffer.length <= max) {
      const all = this.buffer;
      this.buffer = [];
      return all;
    }
    return this.buffer.splice(0, max);
  }

  private expire(now: number): void {
    if (!this.taps.some((t) => now >= t.expiresAt)) return;
    for (const t of this.taps) if (now >= t.expiresAt) this.options.log?.info("live tap expired without renewal", { tap: t.id });
    this.taps = this.taps.filter((t) => now < t.expiresAt);
    this.active = this.taps.length > 0;
  }
}

/** Why a spec cannot run, or undefined. */
function specProblem(s: TapSpec, seen: ReadonlySet<string>): string | undefined {
  if (s.id === "" || s.id.length > TAP_LIMITS.tapId) return `id must be 1 to ${TAP_LIMITS.tapId} characters`;
  if (seen.has(s.id)) return "duplicate id";
  if (!(s.sampleRate > 0 && s.sampleRate <= 1)) return `sample_rate ${s.sampleRate} is not in (0, 1]`;
  return undefined;
}
