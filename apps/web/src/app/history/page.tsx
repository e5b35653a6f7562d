"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useCan } from "../../lib/me";
import { useTRPC } from "../../lib/trpc";

const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

/**
 * Config history: every revision with author, time and message; the diff between any two
 * (resource by resource, field by field); rollback to a revision, with confirmation, for
 * operators and admins only.
 */
export default function History() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const canRollback = useCan("operator");
  const revisions = useQuery(trpc.revisions.list.queryOptions({ limit: 100 }));
  const [from, setFrom] = useState<number | undefined>();
  const [to, setTo] = useState<number | undefined>();
  const [confirming, setConfirming] = useState<number | undefined>();
  const latest = revisions.data?.[0]?.number;
  const a = from ?? (latest !== undefined ? Math.max(0, latest - 1) : undefined);
  const b = to ?? latest;
  const diff = useQuery({ ...trpc.revisions.diff.queryOptions({ from: a ?? 0, to: b ?? 0 }), enabled: a !== undefined && b !== undefined && a !== b });
  const rollback = useMutation(
    trpc.revisions.rollback.mutationOptions({
      onSuccess: () => {
        setConfirming(undefined);
        setFrom(undefined);
        setTo(undefined);
        void qc.invalidateQueries({ queryKey: trpc.revisions.list.queryKey() });
      },
    }),
  );

  if (revisions.isError) return <p className="error" role="alert">Could not load the history: {revisions.error.message}</p>;
  return (
    <>
      <h1>History</h1>
      {revisions.isPending ? (
        <div className="skeleton" aria-busy="true" />
      ) : revisions.data.length === 0 ? (
        <div className="panel">No revision yet.</div>
      ) : (
        <table>
          <thead>
            <tr>
              <th className="num">revision</th>
              <th>author</th>
              <th>when</th>
              <th>message</th>
              <th>changes</th>
              <th>compare</th>
              {canRollback ? <th>rollback</th> : null}
            </tr>
          </thead>
          <tbody>
            {revisions.data.map((r) => (
              <tr key={r.number} data-testid={`revision-${r.number}`}>
                <td className="num">{r.number}</td>
                <td>{r.author}</td>
                <td>{new Date(r.createdAt).toLocaleString()}</td>
                <td style={{ whiteSpace: "normal", maxWidth: 420 }}>{r.message || <span className="muted">—</span>}</td>
                <td>{r.changes.length}</td>
                <td>
                  <label>
                    <input type="radio" name="from" checked={a === r.number} onChange={() => setFrom(r.number)} aria-label={`compare from ${r.number}`} /> from
                  </label>{" "}
                  <label>
                    <input type="radio" name="to" checked={b === r.number} onChange={() => setTo(r.number)} aria-label={`compare to ${r.number}`} /> to
                  </label>
                </td>
                {canRollback ? (
                  <td>
                    {r.number === latest ? (
                      <span className="muted">current</span>
                    ) : confirming === r.number ? (
                      <span>
                        Restore revision {r.number}?{" "}
                        <button type="button" onClick={() => rollback.mutate({ to: r.number, baseRevision: latest! })} disabled={rollback.isPending}>
                          Confirm rollback
                        </button>{" "}
                        <button type="button" onClick={() => setConfirming(undefined)} style={{ background: "#fff", color: "var(--fg)", borderColor: "var(--line)" }}>
                          Cancel
                        </button>
                      </span>
                    ) : (
                      <button type="button" onClick={() => setConfirming(r.number)}>
                        Roll back to {r.number}
                      </button>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rollback.error ? <p className="error" role="alert">Rollback refused: {rollback.error.message}</p> : null}
      <h2 style={{ fontSize: 16, marginTop: 24 }}>
        Diff {a ?? "–"} → {b ?? "–"}
      </h2>
      <div className="panel" data-testid="diff" style={{ minHeight: 80 }}>
        {a === b ? (
          <span className="muted">Pick two different revisions.</span>
        ) : diff.isPending ? (
          <span className="muted">Loading…</span>
        ) : diff.isError ? (
          <span className="error">{diff.error.message}</span>
        ) : diff.data.length === 0 ? (
          <span className="muted">No difference.</span>
        ) : (
          diff.data.map((d) => (
            <div key={d.key} style={{ marginBottom: 10 }}>
              <strong>
                {d.op} {d.key}
              </strong>
              {d.fields.length > 0 ? (
                <table style={{ marginTop: 4 }}>
                  <tbody>
                    {d.fields.map((f) => (
                      <tr key={f.path}>
                        <td>
                          <code>{f.path}</code>
                        </td>
                        <td className="error">{show(f.before)}</td>
                        <td style={{ color: "var(--ok)" }}>{show(f.after)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
            </div>
          ))
        )}
      </div>
    </>
  );
}
