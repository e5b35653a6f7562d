"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { Suspense, useState } from "react";
import { useSearchParams } from "next/navigation";
import type { FormEvent } from "react";
import { useTRPC } from "../../lib/trpc";
import { ms } from "../../lib/format";

interface Search {
  service?: string;
  operation?: string;
  minDurationMs?: number;
  errorsOnly: boolean;
  lookbackMin: number;
}

/** Trace search: service, operation, minimum duration, errors only, time range; newest first. */
export default function TracesPage() {
  return (
    <Suspense fallback={<div className="skeleton" />}>
      <Traces />
    </Suspense>
  );
}

function Traces() {
  const trpc = useTRPC();
  // ?service= (links from the graph and service pages) starts the search there.
  const initialService = useSearchParams().get("service") ?? undefined;
  const [form, setForm] = useState<Search>({ errorsOnly: false, lookbackMin: 60, ...(initialService ? { service: initialService } : {}) });
  const [search, setSearch] = useState<Search>(form);
  const now = Math.floor(Date.now() / 10_000) * 10_000; // stable within 10 s, so the query key does not churn
  const input = {
    ...(search.service ? { service: search.service } : {}),
    ...(search.operation ? { operation: search.operation } : {}),
    ...(search.minDurationMs !== undefined ? { minDurationMs: search.minDurationMs } : {}),
    errorsOnly: search.errorsOnly,
    from: new Date(now - search.lookbackMin * 60_000).toISOString(),
    limit: 50,
  };
  const traces = useQuery(trpc.traces.search.queryOptions(input));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSearch(form);
  };
  return (
    <>
      <h1>Traces</h1>
      <form className="panel" onSubmit={submit} style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "end", marginBottom: 12 }} aria-label="trace search">
        <label>
          Service
          <br />
          <input name="service" value={form.service ?? ""} onChange={(e) => setForm({ ...form, service: e.target.value || undefined })} placeholder="productpage" />
        </label>
        <label>
          Operation
          <br />
          <input name="operation" value={form.operation ?? ""} onChange={(e) => setForm({ ...form, operation: e.target.value || undefined })} placeholder="reviews.bookinfo:9080/*" />
        </label>
        <label>
          Min duration (ms)
          <br />
          <input name="minDuration" type="number" min={0} value={form.minDurationMs ?? ""} onChange={(e) => setForm({ ...form, minDurationMs: e.target.value === "" ? undefined : Number(e.target.value) })} style={{ width: 110 }} />
        </label>
        <label>
          Last
          <br />
          <select value={form.lookbackMin} onChange={(e) => setForm({ ...form, lookbackMin: Number(e.target.value) })} aria-label="time range">
            <option value={15}>15 min</option>
            <option value={60}>1 h</option>
            <option value={360}>6 h</option>
            <option value={1440}>24 h</option>
          </select>
        </label>
        <label>
          <input type="checkbox" checked={form.errorsOnly} onChange={(e) => setForm({ ...form, errorsOnly: e.target.checked })} /> errors only
        </label>
        <button type="submit">Search</button>
      </form>
      {traces.isError ? (
        <p className="error" role="alert">{traces.error.message}</p>
      ) : traces.isPending ? (
        <div className="skeleton" aria-busy="true" />
      ) : traces.data.length === 0 ? (
        <div className="panel">No trace matches.</div>
      ) : (
        <table data-testid="trace-results">
          <thead>
            <tr>
              <th>trace</th>
              <th>root</th>
              <th>started</th>
              <th className="num">duration</th>
              <th className="num">spans</th>
              <th>services</th>
              <th>status</th>
            </tr>
          </thead>
          <tbody>
            {traces.data.map((t) => (
              <tr key={t.traceId}>
                <td>
                  <Link href={`/traces/${t.traceId}`}>
                    <code>{t.traceId.slice(0, 16)}</code>
                  </Link>
                </td>
                <td>
                  {t.rootService} · {t.rootOperation}
                </td>
                <td>{new Date(t.start).toLocaleTimeString()}</td>
                <td className="num">{ms(t.durationMs)}</td>
                <td className="num">{t.spanCount}</td>
                <td>{t.services.join(", ")}</td>
                <td className={t.error ? "error" : "muted"}>{t.error ? "error" : "ok"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
