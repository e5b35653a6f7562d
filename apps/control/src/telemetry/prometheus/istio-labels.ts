import type { SeriesKey } from "../live/series-key";

/**
 * How Istio's standard labels (as the proxies write them, telemetry/request-record.ts in
 * @trellis/proxy) become the live window's series keys, so history and live data group,
 * filter and draw alike:
 * - reporter → reporter; request_protocol grpc → kind grpc, anything else on the request
 *   metrics → http; the istio_tcp_* metrics → tcp;
 * - source_workload_namespace / source_app / source_workload / source_version → src side
 *   (the app is the Service, as the proxies set it);
 * - destination_service_namespace / destination_service_name / destination_workload /
 *   destination_version → dst side: the service the caller addressed, which is also the
 *   callee's own Service on inbound reports, as in the live deltas;
 * - "unknown" (Istio's value for "not known") and missing labels → "" (the key's unknown);
 * - route → "": Istio's metrics carry no route label, so route-scoped history is empty.
 */

/**
 * Labels the history queries keep (`sum by`): what the key needs, plus `instance`, so every
 * summed series belongs to one scraped proxy and a drop in its value means that proxy
 * restarted (see counter-increments.ts).
 */
export const GROUP_LABELS = [
  "instance",
  "reporter",
  "request_protocol",
  "source_workload",
  "source_workload_namespace",
  "source_app",
  "source_version",
  "destination_workload",
  "destination_version",
  "destination_service_name",
  "destination_service_namespace",
] as const;

/** Istio's value for a label it does not know. */
export const ISTIO_UNKNOWN = "unknown";

/** The series key of an Istio series' labels; undefined when its reporter is neither source nor destination. */
export function seriesKeyOf(metric: Readonly<Record<string, string>>, traffic: "request" | "tcp"): SeriesKey | undefined {
  const reporter = metric.reporter;
  if (reporter !== "source" && reporter !== "destination") return undefined;
  const v = (name: string) => {
    const s = metric[name];
    return s === undefined || s === ISTIO_UNKNOWN ? "" : s;
  };
  return {
    reporter,
    kind: traffic === "tcp" ? "tcp" : metric.request_protocol === "grpc" ? "grpc" : "http",
    srcNamespace: v("source_workload_namespace"),
    srcService: v("source_app"),
    srcWorkload: v("source_workload"),
    srcVersion: v("source_version"),
    dstNamespace: v("destination_service_namespace"),
    dstService: v("destination_service_name"),
    dstWorkload: v("destination_workload"),
    dstVersion: v("destination_version"),
    route: "",
  };
}
