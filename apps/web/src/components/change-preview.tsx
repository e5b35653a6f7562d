"use client";
import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@trellis/control/router";
import { useTRPC } from "../lib/trpc";

export type Change = inferRouterInputs<AppRouter>["resources"]["preview"];
export type Preview = inferRouterOutputs<AppRouter>["resources"]["preview"];
/** A finding or an input error, with the path of the field it concerns (`spec.http[0].route[1].weight`). */
export interface FieldProblem {
  severity: "error" | "warning" | "info";
  resource: string | null;
  path: string;
  message: string;
}

const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

/**
 * The preview of a change, recomputed as it is edited (debounced): the analyzer's findings and
 * input errors (passed up, so editors show them on their fields and Save is blocked by
 * errors), and the proxies whose snapshot would change, each with its snapshot diff.
 */
export function usePreview(change: Change | undefined): { preview: Preview | undefined; problems: FieldProblem[]; pending: boolean } {
  const trpc = useTRPC();
  const m = useMutation(trpc.resources.preview.mutationOptions());
  const key = change ? JSON.stringify(change) : "";
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  useEffect(() => {
    if (!change) {
      // Nothing to preview (undone, saved, another namespace): no stale findings or blast radius.
      setProblems([]);
      m.reset();
      return;
    }
    const t = setTimeout(() => {
      m.mutate(change, {
        onSuccess: (p) => setProblems(p.findings.map((f) => ({ severity: f.severity, resource: f.resource, path: f.path, message: `${f.message} [${f.code}]` }))),
        onError: (err) => {
          const issues = (err.data as { issues?: { path: string; message: string }[] } | undefined)?.issues;
          setProblems(issues?.length ? issues.map((i) => ({ severity: "error" as const, resource: null, path: i.path.replace(/^upserts\[\d+\]\./, ""), message: i.message })) : [{ severity: "error", resource: null, path: "", message: err.message }]);
        },
      });
    }, 350);
    return () => clearTimeout(t);
    // Re-run on content, not identity.
  }, [key]);
  return { preview: m.isError ? undefined : m.data, problems, pending: m.isPending };
}

/** Problems of one field path (and the fields under it). */
export function problemsAt(problems: readonly FieldProblem[], prefix: string): FieldProblem[] {
  return problems.filter((p) => p.path === prefix || p.path.startsWith(`${prefix}.`) || p.path.startsWith(`${prefix}[`));
}

export function Problems({ list }: { list: readonly FieldProblem[] }) {
  if (list.length === 0) return null;
  return (
    <div role="alert">
      {list.map((p, i) => (
        <p key={i} className={`finding ${p.severity}`}>
          {p.severity === "error" ? "✖" : "▲"} {p.path ? <code>{p.path}</code> : null} {p.message}
        </p>
      ))}
    </div>
  );
}

/** The blast radius: which proxies get a new snapshot, and how each changes. */
export function BlastRadius({ preview, pending }: { preview: Preview | undefined; pending: boolean }) {
  return (
    <section className="panel" data-testid="blast-radius" aria-busy={pending}>
      <h2 style={{ fontSize: 15, marginTop: 0 }}>Preview</h2>
      {!preview ? (
        <p className="muted">{pending ? "Computing…" : "Edit to see which proxies the change reaches."}</p>
      ) : (
        <>
          <p data-testid="blast-summary">
            {preview.changed.length === 0 ? "No proxy's snapshot changes." : `${preview.changed.length} of ${preview.proxies} proxies get a new snapshot.`} {pending ? <span className="muted">(updating…)</span> : null}
          </p>
          {preview.changed.map((c) => (
            <details key={c.proxyId} data-testid={`impact-${c.proxyId}`}>
              <summary style={{ overflowWrap: "anywhere" }}>
                <strong>{c.proxyId}</strong> <span className="muted">{c.fields.length}{c.truncated ? "+" : ""} fields</span>
              </summary>
              <p className="muted" style={{ fontSize: 12, margin: "4px 0" }}>
                snapshot {c.before} → {c.after}
              </p>
              <table style={{ fontSize: 12, margin: "6px 0", tableLayout: "fixed" }}>
                <tbody>
                  {c.fields.map((f, i) => (
                    <tr key={i}>
                      <td style={{ whiteSpace: "normal", wordBreak: "break-all" }}>
                        <code>{f.path}</code>
                      </td>
                      <td className="error" style={{ whiteSpace: "normal" }}>{show(f.before)}</td>
                      <td style={{ color: "var(--ok)", whiteSpace: "normal" }}>{show(f.after)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          ))}
        </>
      )}
    </section>
  );
}
