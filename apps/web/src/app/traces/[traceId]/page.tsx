"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { use, useState } from "react";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@trellis/control/router";
import { useTRPC } from "../../../lib/trpc";
import { ms } from "../../../lib/format";

type Tree = NonNullable<inferRouterOutputs<AppRouter>["traces"]["get"]>;
type Span = Tree["roots"][number];

function flatten(spans: Span[], depth = 0, out: Array<{ span: Span; depth: number }> = []) {
  for (const s of spans) {
    out.push({ span: s, depth });
    flatten(s.children, depth + 1, out);
  }
  return out;
}

/** One trace as a waterfall: a bar per span at its offset and length, nested under its parent; click a span for its details. */
export default function TracePage({ params }: { params: Promise<{ traceId: string }> }) {
  const { traceId } = use(params);
  const trpc = useTRPC();
  const trace = useQuery(trpc.traces.get.queryOptions({ traceId }));
  const [selected, setSelected] = useState<string | undefined>();
  if (trace.isError) return <p className="error" role="alert">{trace.error.message}</p>;
  if (trace.isPending) return <div className="skeleton" aria-busy="true" />;
  if (!trace.data) return <div className="panel">Trace {traceId} is not stored (it may have expired).</div>;
  const t = trace.data;
  const rows = flatten(t.roots);
  const sel = rows.find((r) => r.span.spanId === selected)?.span;
  const total = Math.max(t.durationMs, 0.001);
  return (
    <>
      <h1>
        <Link href="/traces">Traces</Link> / <code>{t.traceId}</code>
      </h1>
      <p className="muted">
        {new Date(t.start).toLocaleString()} · {ms(t.durationMs)} · {t.spanCount} spans · {t.services.join(", ")}
        {t.error ? <span className="error"> · error</span> : null}
        {t.truncated ? " · truncated" : null}
      </p>
      <div className="panel" data-testid="waterfall">
        {rows.map(({ span, depth }) => (
          <div key={span.spanId} role="button" tabIndex={0} onClick={() => setSelected(span.spanId)} onKeyDown={(e) => e.key === "Enter" && setSelected(span.spanId)} style={{ display: "grid", gridTemplateColumns: "340px 1fr 80px", gap: 8, alignItems: "center", padding: "3px 0", cursor: "pointer", background: selected === span.spanId ? "#eef4fb" : undefined }}>
            <span style={{ paddingLeft: depth * 14, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }} title={`${span.service} ${span.operation}`}>
              <strong>{span.service}</strong> {span.operation}
            </span>
            <span style={{ position: "relative", height: 12, background: "#f0f2f5" }}>
              <span style={{ position: "absolute", left: `${(100 * span.offsetMs) / total}%`, width: `${Math.max(0.5, (100 * span.durationMs) / total)}%`, top: 0, bottom: 0, background: span.error ? "var(--bad)" : "var(--accent)" }} />
            </span>
            <span className="num" style={{ textAlign: "right" }}>
              {ms(span.durationMs)}
            </span>
          </div>
        ))}
      </div>
      {sel ? (
        <div className="panel" data-testid="span-details" style={{ marginTop: 12 }}>
          <h2 style={{ fontSize: 15, marginTop: 0 }}>
            {sel.service} · {sel.operation} ({sel.kind})
          </h2>
          <p>
            {ms(sel.durationMs)} at +{ms(sel.offsetMs)}
            {sel.error ? <span className="error"> · {sel.statusMessage ?? "error"}</span> : null}
          </p>
          <table>
            <tbody>
              {Object.entries(sel.attributes).map(([k, v]) => (
                <tr key={k}>
                  <td>
                    <code>{k}</code>
                  </td>
                  <td style={{ whiteSpace: "normal" }}>{String(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
