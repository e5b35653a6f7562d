"use client";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import type { Change } from "./change-preview";
import { useTRPC } from "../lib/trpc";

const VERDICT_CLASS: Record<string, string> = { "newly denied": "bad", "partly denied": "warn", "newly allowed": "ok", unchanged: "" };

/**
 * What the unsaved change would do to the calls of the last minutes: each flow seen (caller →
 * service, from the destinations' telemetry) with its sampled requests (from traces) run
 * through the destination's decision before and after the change.
 */
export function TrafficImpact({ change }: { change: Change | undefined }) {
  const trpc = useTRPC();
  const [windowSec, setWindowSec] = useState(600);
  const impact = useMutation(trpc.whatIf.impact.mutationOptions());
  const flows = impact.data ?? [];
  const changed = flows.filter((f) => f.verdict !== "unchanged");
  return (
    <section className="panel" data-testid="traffic-impact" style={{ marginTop: 12 }}>
      <h2 style={{ fontSize: 15, marginTop: 0 }}>On recent traffic</h2>
      <div className="form-row">
        <label>
          calls of the last
          <select value={windowSec} onChange={(e) => setWindowSec(Number(e.target.value))}>
            <option value={300}>5 min</option>
            <option value={600}>10 min</option>
            <option value={1800}>30 min</option>
          </select>
        </label>
        <button type="button" className="secondary" disabled={!change || impact.isPending} onClick={() => change && impact.mutate({ change, windowSec })}>
          Check the change
        </button>
      </div>
      {impact.isError ? <p className="error" role="alert">{impact.error.message}</p> : null}
      {impact.data ? (
        <>
          <p data-testid="impact-summary">
            {flows.length === 0 ? "No calls in the window." : changed.length === 0 ? `None of the ${flows.length} flows seen changes.` : `${changed.length} of ${flows.length} flows seen change:`}
          </p>
          <ul style={{ paddingLeft: 18, margin: 0 }}>
            {changed.map((f) => (
              <li key={`${f.source}>${f.destination}`} data-testid={`flow-${f.source}>${f.destination}`} style={{ marginBottom: 6 }}>
                <span className={`state ${VERDICT_CLASS[f.verdict] ?? ""}`}>{f.verdict}</span> {f.source} → {f.destination} <span className="muted">({f.requests} calls{f.sampled ? "" : "; no request sampled, checked as GET /"})</span>
                <ul style={{ paddingLeft: 16, fontSize: 12 }}>
                  {f.checked
                    .filter((c) => c.now !== c.after)
                    .slice(0, 5)
                    .map((c, i) => (
                      <li key={i} style={{ overflowWrap: "anywhere" }}>
                        {c.method} {c.path} {c.count ? `×${c.count}` : ""}: {c.after ? "let in" : "refused"} — {c.reason}
                      </li>
                    ))}
                </ul>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
