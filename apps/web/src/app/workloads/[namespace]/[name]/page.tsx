"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { use, useState } from "react";
import { Chart } from "../../../../components/chart";
import { useTRPC } from "../../../../lib/trpc";
import { ago, ms, pct, rps, until } from "../../../../lib/format";

/** One workload (one proxy): its golden signals inbound and outbound, its config sync and certificate. */
export default function WorkloadPage({ params }: { params: Promise<{ namespace: string; name: string }> }) {
  const { namespace, name } = use(params);
  const trpc = useTRPC();
  const [windowSec, setWindowSec] = useState<number>(300);
  const [direction, setDirection] = useState<"inbound" | "outbound">("inbound");
  const signals = useQuery({ ...trpc.metrics.signals.queryOptions({ scope: "workload", namespace, name, direction, windowSec }), refetchInterval: 5_000 });
  const status = useQuery({ ...trpc.proxies.status.queryOptions({ namespace }), refetchInterval: 5_000 });
  const me = status.data?.find((p) => p.proxyId === `${namespace}/${name}`);
  const series = signals.data?.series ?? [];
  const times = series.map((p) => p.t);
  const s = signals.data?.requests;
  return (
    <>
      <h1>
        <Link href="/proxies">Proxies</Link> / {namespace} / {name}
      </h1>
      <div className="panel" data-testid="workload-proxy" style={{ marginBottom: 12 }}>
        {status.isPending ? (
          <span className="muted">Loading…</span>
        ) : !me ? (
          <span className="muted">No proxy named {namespace}/{name} is connected.</span>
        ) : (
          <span>
            Service <Link href={`/services/${namespace}/${me.service}`}>{me.service}</Link> · {me.state} · version <code>{me.lastAckedVersion ?? "–"}</code> (revision {me.revision ?? "–"}) · last ACK {ago(me.lastAckedAt)} · certificate {me.certificate ? `expires ${until(me.certificate.notAfter)}` : "none"}
            {me.lastNackReason ? <span className="error"> · last NACK: {me.lastNackReason}</span> : null}
          </span>
        )}
      </div>
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
            {[300, 900, 3600].map((w) => (
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
        <Chart title="In flight" unit="" times={times} lines={[{ label: "in flight", color: "#6f42c1", values: series.map((p) => p.inFlight) }]} testId="chart-inflight" />
      </div>
    </>
  );
}
