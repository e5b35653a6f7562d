"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import type { FormEvent } from "react";
import { ms } from "../../lib/format";
import { useCan } from "../../lib/me";
import { useTRPC } from "../../lib/trpc";

const STATE_CLASS: Record<string, string> = { running: "ok", paused: "warn", succeeded: "ok", rolled_back: "bad", aborted: "warn" };

/**
 * Automated canaries: start one on a route (step, interval, gates on error rate and p99
 * relative to the stable subset), and watch each run live — its weight, every check with both
 * subsets' figures, the decision and the revision it wrote; pause, resume or abort it.
 */
export default function CanariesPage() {
  return (
    <Suspense fallback={<div className="skeleton" aria-busy="true" />}>
      <Canaries />
    </Suspense>
  );
}

function Canaries() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const params = useSearchParams();
  const canEdit = useCan("operator");
  const runs = useQuery({ ...trpc.canaries.list.queryOptions(), refetchInterval: 1000 });
  const routes = useQuery(trpc.resources.list.queryOptions({ kind: "Route" }));
  const policies = useQuery(trpc.resources.list.queryOptions({ kind: "DestinationPolicy" }));
  const [form, setForm] = useState({ route: params.get("route") ?? "", stable: "v1", canary: "v2", step: "10", interval: "30", errors: "1", p99: "1.5", min: "20" });
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const refresh = () => void qc.invalidateQueries({ queryKey: trpc.canaries.list.queryKey() });
  const start = useMutation(trpc.canaries.start.mutationOptions({ onSuccess: refresh }));
  const pause = useMutation(trpc.canaries.pause.mutationOptions({ onSuccess: refresh }));
  const resume = useMutation(trpc.canaries.resume.mutationOptions({ onSuccess: refresh }));
  const abort = useMutation(trpc.canaries.abort.mutationOptions({ onSuccess: refresh }));
  const routeList = (routes.data?.items ?? []).map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
  const chosen = form.route || routeList[0] || "";
  const [ns, name] = chosen.split("/");
  const hosts = ((routes.data?.items ?? []).find((r) => `${r.metadata.namespace}/${r.metadata.name}` === chosen)?.spec as { hosts?: string[] } | undefined)?.hosts ?? [];
  const subsets = (policies.data?.items ?? []).filter((p) => p.metadata.namespace === ns && hosts.some((h) => h.split(".")[0] === String((p.spec as { host: string }).host).split(".")[0])).flatMap((p) => ((p.spec as { subsets?: { name: string }[] }).subsets ?? []).map((s) => s.name));
  // The subsets shown are the ones sent: defaults that the route's policy lacks give way to its first two.
  const stable = subsets.includes(form.stable) ? form.stable : (subsets[0] ?? form.stable);
  const canary = subsets.includes(form.canary) && form.canary !== stable ? form.canary : (subsets.find((x) => x !== stable) ?? form.canary);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    start.mutate({ namespace: ns ?? "", route: name ?? "", stableSubset: stable, canarySubset: canary, stepPercent: Number(form.step), intervalSec: Number(form.interval), gates: { maxErrorRateDelta: Number(form.errors), maxP99Ratio: Number(form.p99), minRequests: Number(form.min) } });
  };
  const busy = pause.isPending || resume.isPending || abort.isPending;
  const actionError = pause.error ?? resume.error ?? abort.error;

  return (
    <>
      <h1>Canaries</h1>
      {canEdit ? (
        <form className="panel" onSubmit={submit} aria-label="start a canary" style={{ marginBottom: 12 }}>
          <div className="form-row">
            <label>
              route
              <select name="route" value={chosen} onChange={set("route")}>
                {routeList.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            </label>
            <label>
              stable
              <select name="stable" value={stable} onChange={set("stable")}>
                {subsets.map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
            </label>
            <label>
              canary
              <select name="canary" value={canary} onChange={set("canary")}>
                {subsets.map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
            </label>
            <label>
              step (%)
              <input name="step" type="number" min={1} max={100} value={form.step} onChange={set("step")} style={{ width: 70 }} />
            </label>
            <label>
              every (s)
              <input name="interval" type="number" min={5} max={3600} value={form.interval} onChange={set("interval")} style={{ width: 70 }} />
            </label>
            <label>
              max error rate over stable (points)
              <input name="errors" type="number" min={0} max={100} step="0.1" value={form.errors} onChange={set("errors")} style={{ width: 80 }} />
            </label>
            <label>
              max p99 × stable
              <input name="p99" type="number" min={1} step="0.1" value={form.p99} onChange={set("p99")} style={{ width: 70 }} />
            </label>
            <label>
              min requests
              <input name="min" type="number" min={1} value={form.min} onChange={set("min")} style={{ width: 70 }} />
            </label>
            <button type="submit" disabled={!chosen || start.isPending}>
              Start canary
            </button>
          </div>
          {start.isError ? (
            <p className="error" role="alert">
              {start.error.message}
            </p>
          ) : null}
        </form>
      ) : null}
      {actionError ? (
        <p className="error" role="alert">
          {actionError.message}
        </p>
      ) : null}
      {runs.isPending ? (
        <div className="skeleton" aria-busy="true" />
      ) : runs.isError ? (
        <p className="error" role="alert">
          {runs.error.message}
        </p>
      ) : runs.data.length === 0 ? (
        <div className="panel muted">No canary yet.</div>
      ) : (
        runs.data.map((r) => (
          <section key={r.id} className="panel" data-testid={`canary-${r.id}`} style={{ marginBottom: 12 }}>
            <div style={{ display: "flex", gap: 12, alignItems: "center", flexWrap: "wrap" }}>
              <strong>
                {r.canarySubset} of {r.host}
              </strong>
              <span className={`state ${STATE_CLASS[r.state] ?? ""}`} data-testid="canary-state">
                {r.state.replace("_", " ")}
              </span>
              <span>
                <Link href={`/services/${r.namespace}/${r.host.split(".")[0]}/traffic`}>Route/{r.namespace}/{r.route}</Link> · {r.stepPercent} % every {r.intervalSec} s · gates: errors ≤ stable + {r.gates.maxErrorRateDelta} points, p99 ≤ {r.gates.maxP99Ratio}× stable, ≥ {r.gates.minRequests} requests
              </span>
              {canEdit && (r.state === "running" || r.state === "paused") ? (
                <span style={{ marginLeft: "auto", display: "flex", gap: 8 }}>
                  {r.state === "running" ? (
                    <button type="button" className="secondary" disabled={busy} onClick={() => pause.mutate({ id: r.id })}>
                      Pause
                    </button>
                  ) : (
                    <button type="button" className="secondary" disabled={busy} onClick={() => resume.mutate({ id: r.id })}>
                      Resume
                    </button>
                  )}
                  <button type="button" disabled={busy} onClick={() => abort.mutate({ id: r.id })}>
                    Abort
                  </button>
                </span>
              ) : null}
            </div>
            <div aria-label={`canary weight ${r.weight} %`} style={{ display: "flex", height: 14, margin: "10px 0", border: "1px solid var(--line)", borderRadius: 3, overflow: "hidden" }}>
              <div style={{ width: `${100 - r.weight}%`, background: "#0b5cad" }} title={`${r.stableSubset} ${100 - r.weight} %`} />
              <div style={{ width: `${r.weight}%`, background: "#bf8700", transition: "width 300ms" }} title={`${r.canarySubset} ${r.weight} %`} />
            </div>
            <p style={{ margin: "0 0 8px" }} data-testid="canary-weight">
              {r.stableSubset} {100 - r.weight} % · {r.canarySubset} {r.weight} %{r.reason ? <span className={r.state === "rolled_back" ? "error" : "muted"}> · {r.reason}</span> : null}
            </p>
            <table style={{ fontSize: 13 }}>
              <thead>
                <tr>
                  <th>time</th>
                  <th>decision</th>
                  <th className="num">canary %</th>
                  <th className="num">canary req</th>
                  <th className="num">canary errors</th>
                  <th className="num">canary p99</th>
                  <th className="num">stable errors</th>
                  <th className="num">stable p99</th>
                  <th>revision</th>
                  <th>why</th>
                </tr>
              </thead>
              <tbody>
                {[...r.steps].reverse().map((s, i) => (
                  <tr key={i}>
                    <td>{new Date(s.at).toLocaleTimeString()}</td>
                    <td className={s.decision === "rollback" ? "error" : undefined}>{s.decision}</td>
                    <td className="num">{s.weight}</td>
                    <td className="num">{s.canary?.requests ?? "–"}</td>
                    <td className="num">{s.canary ? `${s.canary.errorRate} %` : "–"}</td>
                    <td className="num">{ms(s.canary?.p99)}</td>
                    <td className="num">{s.stable ? `${s.stable.errorRate} %` : "–"}</td>
                    <td className="num">{ms(s.stable?.p99)}</td>
                    <td>{s.revision ?? "–"}</td>
                    <td style={{ whiteSpace: "normal" }}>{s.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))
      )}
    </>
  );
}
