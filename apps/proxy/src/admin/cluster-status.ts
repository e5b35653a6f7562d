/**
 * What /clusters shows: per cluster its endpoints with their health and request counts, as
 * Envoy's admin /clusters does. The cluster layer builds these; the admin server only prints.
 */

/** One endpoint of a cluster as the load balancer and outlier detection see it now. */
export interface EndpointStatus {
  /** IP address or host name. */
  address: string;
  port: number;
  /** Load-balancing weight. */
  weight: number;
  /** The endpoint's labels (`version: v2`). */
  labels: Record<string, string>;
  /** `ejected` while outlier detection holds it out of the rotation. */
  health: "healthy" | "ejected";
  /** When the ejection ends (epoch ms); undefined when not ejected. */
  ejectedUntil?: number | undefined;
  /** Requests in flight to it. */
  activeRequests: number;
  /** Requests sent to it since the cluster was built. */
  totalRequests: number;
  /** Of those, failures outlier detection counted (5xx, connect failures, resets). */
  failures: number;
}

/** One cluster: `outbound|<port>|<subset>|<host>` and its members. */
export interface ClusterStatus {
  /** Envoy-style cluster name. */
  name: string;
  endpoints: EndpointStatus[];
}

/** The JSON form: ejectedUntil as an ISO time, so operators need not convert epochs. */
export function clustersJson(clusters: readonly ClusterStatus[]): unknown {
  return {
    clusters: clusters.map((c) => ({
      name: c.name,
      endpoints: c.endpoints.map((e) => ({ ...e, ejectedUntil: isoOrNull(e.ejectedUntil) })),
    })),
  };
}

/**
 * Envoy's text form, one `cluster::address:port::stat::value` line per fact, grep-friendly:
 * `outbound|9080|v2|reviews.default::10.0.1.12:15006::health_flags::healthy`.
 * Ejected endpoints show Envoy's `/failed_outlier_check` flag.
 */
export function clustersText(clusters: readonly ClusterStatus[]): string {
  const out: string[] = [];
  for (const c of clusters) {
    for (const e of c.endpoints) {
      const p = `${c.name}::${e.address}:${e.port}::`;
      out.push(`${p}health_flags::${e.health === "ejected" ? "/failed_outlier_check" : "healthy"}`);
      if (e.health === "ejected") out.push(`${p}ejected_until::${isoOrNull(e.ejectedUntil) ?? "-"}`);
      out.push(`${p}weight::${e.weight}`);
      out.push(`${p}rq_active::${e.activeRequests}`);
      out.push(`${p}rq_total::${e.totalRequests}`);
      out.push(`${p}rq_error::${e.failures}`);
      const labels = Object.entries(e.labels ?? {});
      if (labels.length) out.push(`${p}labels::${labels.map(([k, v]) => `${k}=${v}`).join(",")}`);
    }
  }
  return out.length ? out.join("\n") + "\n" : "";
}

function isoOrNull(epochMs: number | undefined): string | null {
  if (epochMs === undefined) return null;
  const d = new Date(epochMs);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
