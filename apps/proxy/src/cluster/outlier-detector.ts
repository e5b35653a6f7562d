import type { OutlierDetectionSchema } from "@trellis/config";
import { durationMs } from "@trellis/config";
import type { z } from "zod";
import { UpstreamConnectError, UpstreamResetError, UpstreamTimeoutError } from "../core/errors";
import type { EndpointState } from "../balancer/endpoint-state";

/** A DestinationPolicy's `outlierDetection`, defaults applied (@trellis/config exports the schema only). */
export type OutlierDetection = z.infer<typeof OutlierDetectionSchema>;

/** Envoy's max_ejection_time default: repeated ejections grow up to this (or the base time, if longer). */
export const MAX_EJECTION_MS = 300_000;

/** One endpoint's outlier state as the admin `/clusters` page shows it. */
export interface OutlierStatus {
  ejected: boolean;
  /** When the ejection ends (epoch ms), if ejected. */
  ejectedUntil: number | undefined;
  /** Times ejected, decayed while in rotation; the next ejection lasts baseEjectionTime × (this + 1). */
  ejections: number;
  consecutiveFailures: number;
}

/**
 * Passive health checking for one cluster (Envoy's consecutive-5xx outlier detection).
 * Callers `record` every attempt's outcome — failures are 5xx responses and the errors
 * `isOutlierFailure` names — and pick only among `available(members)`.
 *
 * After `consecutive5xxErrors` failures in a row an endpoint is ejected at once, for
 * baseEjectionTime × times ejected (capped at max(MAX_EJECTION_MS, baseEjectionTime)); the
 * count decays by one for every `interval` the endpoint then stays in rotation, as Envoy's
 * backoff does. Ejections stop once they would take more than maxEjectionPercent of the
 * cluster out, except that one endpoint may always be ejected (Envoy's rule, so small
 * clusters are protected too). An ejected endpoint returns lazily, on the first `available`
 * call after its time is up, with its failure count reset. There is no panic mode: if all are
 * ejected, `available` is empty and the caller answers 503 UH (Istio disables Envoy's panic
 * threshold when outlier detection is on).
 *
 * State lives on the EndpointStates (kept by the caller across snapshots); this object holds
 * only the config and the cluster's size and ejection count as of the last `available` call,
 * so replacing it on a config change loses nothing. Safe use: one detector per cluster, and
 * pass `available` the cluster's full member list every time.
 */
export class OutlierDetector {
  private readonly threshold: number;
  private readonly intervalMs: number;
  private readonly baseMs: number;
  private readonly maxPercent: number;
  private size = 0;
  private ejectedCount = 0;

  constructor(
    config: OutlierDetection,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.threshold = config.consecutive5xxErrors;
    this.intervalMs = durationMs(config.interval);
    this.baseMs = durationMs(config.baseEjectionTime);
    this.maxPercent = config.maxEjectionPercent;
  }

  /** Records one attempt's outcome on `endpoint`; may eject it. */
  record(endpoint: EndpointState, ok: boolean): void {
    endpoint.requests++;
    if (ok) {
      endpoint.consecutiveFailures = 0;
      return;
    }
    endpoint.failures++;
    endpoint.consecutiveFailures++;
    if (endpoint.consecutiveFailures >= this.threshold && !endpoint.ejected) this.tryEject(endpoint);
  }

  /**
   * The members in rotation, returning those whose ejection is over. The list itself comes
   * back (no copy) when none is ejected, which is the common case on the request path.
   */
  available(members: readonly EndpointState[]): readonly EndpointState[] {
    const now = this.now();
    let out: EndpointState[] | undefined;
    let ejected = 0;
    for (let i = 0; i < members.length; i++) {
      const e = members[i]!;
      if (e.ejected && e.ejectedUntil <= now) {
        e.ejected = false;
        e.ejectedUntil = 0;
        e.consecutiveFailures = 0;
        e.returnedAt = now;
      }
      if (e.ejected) {
        ejected++;
        out ??= members.slice(0, i);
      } else out?.push(e);
    }
    this.size = members.length;
    this.ejectedCount = ejected;
    return out ?? members;
  }

  /** An endpoint's state for the admin page, as of now. */
  status(endpoint: EndpointState): OutlierStatus {
    const ejected = endpoint.ejected && endpoint.ejectedUntil > this.now();
    return { ejected, ejectedUntil: ejected ? endpoint.ejectedUntil : undefined, ejections: this.decayed(endpoint, this.now()), consecutiveFailures: endpoint.consecutiveFailures };
  }

  private tryEject(e: EndpointState): void {
    const active = this.ejectedCount;
    if (active > 0 && (100 * (active + 1)) / Math.max(1, this.size) > this.maxPercent) return;
    const now = this.now();
    e.ejections = this.decayed(e, now) + 1;
    e.ejected = true;
    e.ejectedUntil = now + Math.min(this.baseMs * e.ejections, Math.max(this.baseMs, MAX_EJECTION_MS));
    this.ejectedCount++;
  }

  /** The ejection count less one for every full interval spent in rotation since the last return. */
  private decayed(e: EndpointState, now: number): number {
    if (e.ejected || e.returnedAt === 0 || this.intervalMs <= 0) return e.ejections;
    return Math.max(0, e.ejections - Math.floor((now - e.returnedAt) / this.intervalMs));
  }
}

/**
 * Whether a thrown failure counts against the endpoint: it could not be reached, reset the
 * stream or did not answer in time. Local refusals (overflow, no route) and bugs do not.
 */
export function isOutlierFailure(err: unknown): boolean {
  return err instanceof UpstreamConnectError || err instanceof UpstreamResetError || err instanceof UpstreamTimeoutError;
}
