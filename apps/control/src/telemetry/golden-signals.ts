import { z } from "zod";
import * as L from "./live/row-layout";
import type { LiveWindow } from "./live/live-window";
import type { SeriesKey } from "./live/series-key";
import { Sums, aggregate, requestSignals, saturationSignals, tcpSignals, timeSeries } from "./live/window-query";
import type { RequestSignals, SaturationSignals, SlotSource, TcpSignals } from "./live/window-query";

/**
 * Golden signals (rate, errors, latency, saturation) of one service, workload or route, as
 * seen inbound (by the callee's proxies: every caller, meshed or not) or outbound (by its own
 * proxies: everything it called, including what never got an answer), over a window, with a
 * time series for charts.
 */

export const SignalsQuerySchema = z
  .object({
    scope: z.enum(["service", "workload", "route"]),
    namespace: z.string().min(1).max(63),
    /** Service, workload or route name. */
    name: z.string().min(1).max(253),
    direction: z.enum(["inbound", "outbound"]).default("inbound"),
    windowSec: z.number().int().min(1).max(86_400).default(300),
    /** End of the window, epoch ms; default now. */
    until: z.number().int().positive().optional(),
    /** Seconds per point of the series; default: about 60 points. */
    stepSec: z.number().int().min(1).max(3600).optional(),
  })
  .strict();
export type SignalsQuery = z.infer<typeof SignalsQuerySchema>;

export interface SignalsPoint {
  t: number;
  rps: number;
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  inFlight: number;
}

export interface GoldenSignals {
  from: number;
  to: number;
  requests: RequestSignals;
  tcp: TcpSignals;
  saturation: SaturationSignals;
  series: SignalsPoint[];
}

export function goldenSignals(window: LiveWindow | SlotSource, q: SignalsQuery): GoldenSignals {
  const toSec = q.until !== undefined ? Math.floor(q.until / 1000) : window.lastCompleteSecond + 1;
  const range = { fromSec: toSec - q.windowSec, toSec };
  const traffic = (k: SeriesKey) => k.kind !== "sat" && matches(k, q);
  const sat = (k: SeriesKey) => k.kind === "sat" && matches(k, q);
  const sums = aggregate(window, range, (k) => (traffic(k) ? k.kind === "tcp" ? "tcp" : "req" : sat(k) ? "sat" : undefined));
  const step = q.stepSec ?? Math.max(1, Math.ceil(q.windowSec / 60));
  const reqSeries = timeSeries(window, range, step, (k) => traffic(k) && k.kind !== "tcp");
  const satSeries = timeSeries(window, range, step, sat);
  return {
    from: range.fromSec * 1000,
    to: range.toSec * 1000,
    requests: requestSignals(sums.get("req") ?? new Sums(), q.windowSec),
    tcp: tcpSignals(sums.get("tcp") ?? new Sums(), q.windowSec),
    saturation: saturationSignals(sums.get("sat") ?? new Sums(), q.windowSec),
    series: reqSeries.map((p, i) => {
      const s = requestSignals(p.sums, step);
      const readings = satSeries[i]!.sums.vals[L.IN_FLIGHT]!;
      return { t: p.t * 1000, rps: s.rps, errorRate: s.errorRate, p50: s.p50, p95: s.p95, p99: s.p99, inFlight: Math.round((readings / step) * 1000) / 1000 };
    }),
  };
}

function matches(k: SeriesKey, q: SignalsQuery): boolean {
  if (q.scope === "route") return k.reporter === "source" && k.route === q.name && (k.dstNamespace === q.namespace || k.srcNamespace === q.namespace);
  const inbound = q.direction === "inbound";
  if (k.reporter !== (inbound ? "destination" : "source")) return false;
  const ns = inbound ? k.dstNamespace : k.srcNamespace;
  if (ns !== q.namespace) return false;
  if (q.scope === "service") return (inbound ? k.dstService : k.srcService) === q.name;
  return (inbound ? k.dstWorkload : k.srcWorkload) === q.name;
}
