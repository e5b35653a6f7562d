"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { use, useState } from "react";
import { Chart } from "../../../../components/chart";
import { useTRPC, useTRPCClient } from "../../../../lib/trpc";
import { ms, pct, rps } from "../../../../lib/format";

const WINDOWS = [300, 900, 3600] as const;

/**
 * One service: inbound and outbound golden signals over a chosen window (charts of rate,
 * errors and latency), the routes and policies that apply to it, its validation findings and
 * its recent traces.
 */
export default function ServicePage({ params }: { params: Promise<{ namespace: string; name: string }> }) {
  const { namespace, name } = use(params);
  const trpc = useTRPC();
  const client = useTRPCClient();
  const [windowSec, setWindowSec] = useState<number>(300);
  const [direction, setDirection] = useState<"inbound" | "outbound">("inbound");
  const signals = useQuery({ ...trpc.metrics.signals.queryOptions({ scope: "service", namespace, name, direction, windowSec }), refetchInterval: 5_000 });
  const resources = useQuery(trpc.resources.list.queryOptions({}));
  const findings = useQuery({ queryKey: ["findings"], queryFn: () => client.resources.analyze.mutate({ upserts: [], deletes: [] }), refetchInterval: 30_000 });
  const traces = useQuery(trpc.traces.search.queryOptions({ service: name, limit: 10, errorsOnly: false }));

  const host = `${name}.${namespace}`;
  const applies = (resources.data?.items ?? []).filter((r) => {
    const spec = r.spec as { hosts?: string[]; host?: string; selector?: { service?: string } };
    if (r.kind === "Route") return (spec.hosts ?? []).some((h) => h === name || h === host || h === `${host}.svc`);
    if (r.kind === "DestinationPolicy") return spec.host === name || spec.host === host;
    if (["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "RateLimitPolicy"].includes(r.kind)) return (r.metadata.namespace === namespace || r.metadata.namespace === "trellis-system") && (spec.selector?.service === undefined || spec.selector.service === name);
    return r.kind === "Service" && r.metadata.namespace === namespace && r.metadata.name === name;
  });
  const mine = (findings.data?.findings ?? []).filter((f) => f.resource.includes(`/${namespace}/${name}`));
  const series = signals.data?.series ?? [];
  const times = series.map((p) => p.t);
  const s = signals.data?.requests;

  return (
    <>
      <h1>
        <Link href="/">Overview</Link> / {namespace} / {name}
      </h1>
      <div className="panel" style={{ display: "flex", gap: 16, alignItems: "center", marginBottom: 12, flexWrap: "wrap" }}>
        <label>
          Direction{" "}
          <select value={direction} onChange={(e) => setDirection(e.target.value as typeof direction)} aria-label="direction">
            <option value="inbound">inbound</option>
            <option value="outbound">outbound</option>
          </select>
        </label>
        <label>
          Window{" "}
          <select value={windowSec} onChange={(e) => setWindowSec(Number(e.target.value))} aria-label="window">
            {WINDOWS.map((w) => (
              <option key={w} value={w}>
                {w < 3600 ? `${w / 60} min` : "1 h"}
              </option>
            ))}
          </select>
        </label>
        <span data-testid="signals-summary" style={{ minWidth: 420 }}>
          {signals.isError ? <span className="error">{signals.error.message}</span> : s ? `${rps(s.rps)} req/s · ${pct(s.errorRate)} errors · p50 ${ms(s.p50)} · p95 ${ms(s.p95)} · p99 ${ms(s.p99)} · mTLS ${pct(s.mtlsShare)}` : "Loading…"}
        </span>
      </div>
      <div style={{ display: "grid", gridTemplateColumns: "repeat(auto-fit, minmax(320px, 1fr))", gap: 12 }}>
        <Chart title="Requests/s" unit="" times={times} lines={[{ label: "rps", color: "#0b5cad", values: series.map((p) => p.rps) }]} testId="chart-rps" />
        <Chart title="Error rate" unit="%" times={times} lines={[{ label: "errors", color: "#cf222e", values: series.map((p) => (p.errorRate === null ? null : 100 * p.errorRate)) }]} testId="chart-errors" />
        <Chart
          title="Latency (ms)"
          unit=""
          times={times}
          lines={[
            { label: "p50", color: "#1a7f37", values: series.map((p) => p.p50) },
            { label: "p95", color: "#bf8700", values: series.map((p) => p.p95) },
            { label: "p99", color: "#cf222e", values: series.map((p) => p.p99) },
          ]}
          testId="chart-latency"
        />
      </div>
      <div style={{ display: "grid", gridTemplateColumns: "1fr 1fr", gap: 12, marginTop: 12 }}>
        <section className="panel" data-testid="applies">
          <h2 style={{ fontSize: 15, marginTop: 0 }}>Routes and policies</h2>
          {resources.isPending ? <span className="muted">Loading…</span> : applies.length === 0 ? <span className="muted">None.</span> : (
            <ul>
              {applies.map((r) => (
                <li key={`${r.kind}/${r.metadata.namespace}/${r.metadata.name}`}>
                  {r.kind} {r.metadata.namespace}/{r.metadata.name}
                </li>
              ))}
            </ul>
          )}
          <h2 style={{ fontSize: 15 }}>Validation findings</h2>
          {findings.isPending ? <span className="muted">Loading…</span> : mine.length === 0 ? <span className="muted">None.</span> : (
            <ul>
              {mine.map((f, i) => (
                <li key={i} className={f.severity === "error" ? "error" : undefined}>
                  {f.code} at {f.path}: {f.message}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="panel" data-testid="traces">
          <h2 style={{ fontSize: 15, marginTop: 0 }}>Recent traces</h2>
          {traces.isPending ? <span className="muted">Loading…</span> : traces.isError ? <span className="error">{traces.error.message}</span> : traces.data.length === 0 ? <span className="muted">No trace in the last hour.</span> : (
            <table>
              <tbody>
                {traces.data.map((t) => (
                  <tr key={t.traceId}>
                    <td>
                      <code>{t.traceId.slice(0, 12)}</code>
                    </td>
                    <td>{t.rootOperation}</td>
                    <td className="num">{ms(t.durationMs)}</td>
                    <td className={t.error ? "error" : "muted"}>{t.error ? "error" : "ok"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </>
  );
}
