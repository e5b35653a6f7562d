"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Chart } from "./chart";
import { useTRPC } from "../lib/trpc";
import { ms, pct, rps } from "../lib/format";

/**
 * Golden signals of one service or workload: direction and window pickers, the summary line,
 * and charts of rate, error % and a third series (latency percentiles, or requests in flight).
 */
export function SignalsPanel(props: { scope: "service" | "workload"; namespace: string; name: string; third: "latency" | "inFlight" }) {
  const trpc = useTRPC();
  const [windowSec, setWindowSec] = useState<number>(300);
  const [direction, setDirection] = useState<"inbound" | "outbound">("inbound");
  const signals = useQuery({ ...trpc.metrics.signals.queryOptions({ scope: props.scope, namespace: props.namespace, name: props.name, direction, windowSec }), refetchInterval: 5_000 });
  const series = signals.data?.series ?? [];
  const times = series.map((p) => p.t);
  const s = signals.data?.requests;
  return (
    <>
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
        {props.third === "latency" ? (
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
        ) : (
          <Chart title="In flight" unit="" times={times} lines={[{ label: "in flight", color: "#6f42c1", values: series.map((p) => p.inFlight) }]} testId="chart-inflight" />
        )}
      </div>
    </>
  );
}
