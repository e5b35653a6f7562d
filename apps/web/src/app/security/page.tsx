"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { BlastRadius, Problems, usePreview } from "../../components/change-preview";
import type { Change } from "../../components/change-preview";
import { JwtIssuers } from "../../components/jwt-issuers";
import { MtlsModes } from "../../components/mtls-modes";
import { PolicyBuilder } from "../../components/policy-builder";
import { TrafficImpact } from "../../components/traffic-impact";
import type { PolicyDraft } from "../../components/policy-builder";
import { WhatIfBox } from "../../components/what-if-box";
import { useCan, useRole } from "../../lib/me";
import { resourceKey as key, useStagedChange } from "../../lib/staged-change";
import type { Res } from "../../lib/staged-change";
import { useTRPC } from "../../lib/trpc";

type Upsert = Change["upserts"] extends (infer U)[] | undefined ? U : never;

/**
 * The security editor of a namespace: mTLS mode for the namespace and per service, beside the
 * share of traffic observed on mTLS; authorization policies built from from/to/when rules (or
 * suggested from the traffic seen); JWT issuers. Edits gather into one change, previewed as it
 * grows (findings on their fields; the proxies that get a new snapshot), checked with the
 * what-if before saving, and saved as one revision.
 */
export default function SecurityPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const canEdit = useCan("operator");
  const role = useRole();
  const services = useQuery(trpc.services.list.queryOptions({}));
  const namespaces = useMemo(() => [...new Set((services.data ?? []).map((s) => s.metadata.namespace))].sort(), [services.data]);
  const [ns, setNs] = useState("");
  const namespace = ns || namespaces.find((n) => n !== "trellis-system") || namespaces[0] || "";
  const inNs = (services.data ?? []).filter((s) => s.metadata.namespace === namespace).map((s) => s.metadata.name).sort();
  const list = useQuery({ ...trpc.resources.list.queryOptions({ namespace }), enabled: namespace !== "" });
  const meshWide = useQuery(trpc.resources.list.queryOptions({ namespace: "trellis-system", kind: "PeerAuthentication" }));
  const meshMode = ((meshWide.data?.items ?? []).find((r) => !(r.spec as { selector?: unknown }).selector)?.spec as { mode?: string } | undefined)?.mode ?? "PERMISSIVE";
  const graph = useQuery({ ...trpc.graph.get.queryOptions({ kind: "service", windowSec: 300, namespaces: namespace ? [namespace] : [] }), enabled: namespace !== "", refetchInterval: 10_000 });

  const [editing, setEditing] = useState<PolicyDraft | undefined>();
  const [message, setMessage] = useState("");
  const [saved, setSaved] = useState<number | undefined>();
  const [suggestWindow, setSuggestWindow] = useState(600);
  const [suggesting, setSuggesting] = useState(false);
  const stored = (list.data?.items ?? []) as unknown as Res[];
  // The change being built: upserts and deletes by resource key, cleared with the namespace.
  const { upserts, deletes, stage, stageAll, unstage, remove, clear, ofKind, freeName, staged } = useStagedChange(stored, namespace);
  useEffect(() => setEditing(undefined), [namespace]);

  // The policy in the builder is part of the change as it is typed, so its preview is live.
  const all = new Map(upserts);
  if (editing) all.set(key(editing), editing as unknown as Res);
  const change: Change | undefined = all.size || deletes.size ? { upserts: [...all.values()] as Upsert[], deletes: [...deletes].map((k) => ({ kind: k.split("/")[0] as never, namespace: k.split("/")[1]!, name: k.split("/")[2]! })) } : undefined;
  const { preview, problems, pending } = usePreview(change);
  const blocked = problems.some((p) => p.severity === "error");
  const problemsOf = (k: string) => problems.filter((p) => p.resource === k || (p.resource === null && editing && key(editing) === k));

  // Fetched when asked (never from a cache: each click reads the traffic of its own window).
  const suggest = useQuery({ ...trpc.security.suggest.queryOptions({ namespace, windowSec: suggestWindow }), enabled: false });
  const askSuggestions = async () => {
    setSuggesting(true);
    try {
      const r = await suggest.refetch();
      if (!r.data) return;
      stageAll(r.data.policies as unknown as Res[]);
    } finally {
      setSuggesting(false);
    }
  };

  const write = useMutation(
    trpc.resources.write.mutationOptions({
      onSuccess: (r) => {
        setSaved(r.revision);
        clear();
        setEditing(undefined);
        setMessage("");
        void qc.invalidateQueries({ queryKey: trpc.resources.list.queryKey() });
      },
    }),
  );
  const save = () => change && list.data && write.mutate({ ...change, baseRevision: preview?.baseRevision ?? list.data.revision, message: message || `security of ${namespace}` });

  /** The PeerAuthentication selecting exactly `service` (undefined: the namespace-wide one), as the change would leave it. */
  const peerAuth = (service?: string): Res | undefined =>
    ofKind("PeerAuthentication").map(([, r]) => r).find((r) => {
      const sel = r.spec.selector as { service?: string; matchLabels?: unknown } | undefined;
      return sel?.service === service && sel?.matchLabels === undefined;
    });
  const setMode = (service: string | undefined, mode: string) => {
    const existing = peerAuth(service);
    const name = existing?.metadata.name ?? (service ? `${service}-mtls` : "default");
    const k = `PeerAuthentication/${namespace}/${name}`;
    if (mode === "") return remove(k);
    stage({ kind: "PeerAuthentication", metadata: { name, namespace }, spec: { ...(existing?.spec ?? {}), ...(service ? { selector: { service } } : {}), mode } });
  };
  const observed = (service: string) => graph.data?.nodes.find((n) => n.id === `svc:${namespace}/${service}`)?.inbound?.mtlsShare;
  const policies = ofKind("AuthorizationPolicy");

  return (
    <>
      <h1 style={{ display: "flex", gap: 16, alignItems: "baseline" }}>
        Security
        <label style={{ fontSize: 14, fontWeight: 400 }}>
          namespace{" "}
          <select value={namespace} onChange={(e) => setNs(e.target.value)} aria-label="namespace" style={{ width: 160 }}>
            {namespaces.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
      </h1>
      {list.isError || services.isError ? (
        <p className="error" role="alert">
          {(list.error ?? services.error)?.message}
        </p>
      ) : null}
      {/* Everything at once when the services, the namespace's resources and the role are in: nothing pops in and pushes the rest down. */}
      {services.isPending || list.isPending || role === undefined ? (
        <div className="skeleton" aria-busy="true" style={{ height: 400 }} />
      ) : (
      <>
      {!canEdit ? <p className="panel muted">Viewers see the security settings; operators and admins change them.</p> : null}
      <div style={{ display: "grid", gridTemplateColumns: "minmax(0, 1fr) minmax(0, 400px)", gap: 12, alignItems: "start" }}>
        <div style={{ minWidth: 0 }}>
          <MtlsModes namespace={namespace} services={inNs} meshMode={meshMode} canEdit={canEdit} modeOf={(s) => (peerAuth(s)?.spec.mode as string | undefined) ?? ""} setMode={setMode} observed={observed} observedPending={graph.isPending} problems={problems} />

          <section className="panel" data-testid="authz" style={{ marginBottom: 12 }}>
            <h2 style={{ fontSize: 15, marginTop: 0 }}>Authorization policies</h2>
            {policies.length === 0 ? <p className="muted">None: every authenticated call is allowed.</p> : null}
            <ul>
              {policies.map(([k, p]) => (
                <li key={k} data-testid={`policy-${p.metadata.name}`}>
                  <strong>{p.metadata.name}</strong> <span className="muted">{String(p.spec.action ?? "ALLOW")} · {(p.spec.selector as { service?: string } | undefined)?.service ?? "every workload"} · {(p.spec.rules as unknown[] | undefined)?.length ?? 0} rules{upserts.has(k) ? " · edited" : ""}</span>{" "}
                  {canEdit ? (
                    <>
                      <button type="button" className="secondary" onClick={() => setEditing(structuredClone(p) as unknown as PolicyDraft)}>
                        Edit
                      </button>{" "}
                      <button type="button" className="secondary" onClick={() => remove(k)}>
                        Delete
                      </button>
                    </>
                  ) : null}
                </li>
              ))}
            </ul>
            {canEdit ? (
              <div className="form-row">
                <button type="button" className="secondary" onClick={() => setEditing({ kind: "AuthorizationPolicy", metadata: { name: freeName("AuthorizationPolicy", "policy"), namespace }, spec: { action: "ALLOW", rules: [{}] } as never })}>
                  New policy
                </button>
                <label>
                  suggest from traffic of the last
                  <select value={suggestWindow} onChange={(e) => setSuggestWindow(Number(e.target.value))}>
                    <option value={300}>5 min</option>
                    <option value={600}>10 min</option>
                    <option value={3600}>1 h</option>
                  </select>
                </label>
                <button type="button" className="secondary" onClick={() => void askSuggestions()} disabled={suggesting}>
                  Suggest policies
                </button>
              </div>
            ) : null}
            {suggest.data && !suggesting ? (
              <div data-testid="suggest-notes">
                <p className="muted">
                  {suggest.data.policies.length} policies suggested from {suggest.data.windowSec / 60} min of traffic and added to the change below; review them in the preview.
                </p>
                {suggest.data.notes.map((n, i) => (
                  <p key={i} className="finding warning">
                    ▲ {n}
                  </p>
                ))}
              </div>
            ) : null}
            {suggest.isError ? <p className="error">{suggest.error.message}</p> : null}
            {editing ? (
              <>
                <PolicyBuilder policy={editing} services={inNs} problems={problemsOf(key(editing))} onChange={setEditing} disabled={!canEdit} />
                <div className="form-row">
                  <button
                    type="button"
                    onClick={() => {
                      stage(editing as unknown as Res);
                      setEditing(undefined);
                    }}
                  >
                    Keep in the change
                  </button>
                  <button type="button" className="secondary" onClick={() => setEditing(undefined)}>
                    Close without it
                  </button>
                </div>
              </>
            ) : null}
          </section>

          <JwtIssuers
            resources={ofKind("RequestAuthentication")}
            canEdit={canEdit}
            problems={problems}
            stage={stage}
            remove={remove}
            add={() => stage({ kind: "RequestAuthentication", metadata: { name: freeName("RequestAuthentication", "jwt"), namespace }, spec: { jwtRules: [{ issuer: "https://issuer.example", jwksUri: "https://issuer.example/.well-known/jwks.json" }] } })}
          />

          {canEdit ? (
            <section className="panel" data-testid="security-change">
              <h2 style={{ fontSize: 15, marginTop: 0 }}>Change</h2>
              {staged.length === 0 && !editing ? <p className="muted">Nothing changed yet.</p> : null}
              <ul>
                {[...upserts.keys()].map((k) => (
                  <li key={k}>
                    {stored.some((r) => key(r) === k) ? "update" : "create"} {k}{" "}
                    <button type="button" className="secondary" onClick={() => unstage(k)}>
                      Undo
                    </button>
                  </li>
                ))}
                {[...deletes].map((k) => (
                  <li key={k}>
                    delete {k}{" "}
                    <button type="button" className="secondary" onClick={() => unstage(k)}>
                      Undo
                    </button>
                  </li>
                ))}
                {editing ? <li className="muted">editing {key(editing)} (in the preview)</li> : null}
              </ul>
              <Problems list={problems.filter((p) => p.resource === null && !editing)} />
              <div className="form-row">
                <label style={{ flex: 1 }}>
                  message
                  <input name="message" value={message} onChange={(e) => setMessage(e.target.value)} placeholder={`security of ${namespace}`} />
                </label>
                <button type="button" data-testid="save" onClick={save} disabled={!change || blocked || pending || write.isPending}>
                  Save
                </button>
              </div>
              <p role="status" data-testid="save-status" className={write.isError ? "error" : "muted"} style={{ minHeight: "1.4em", margin: 0 }}>
                {write.isError ? write.error.message : blocked ? "Fix the errors to save." : saved !== undefined && !change ? `Saved as revision ${saved}.` : change ? "Unsaved changes." : ""}
              </p>
            </section>
          ) : null}
        </div>
        <div style={{ minWidth: 0, position: "sticky", top: 12, maxHeight: "calc(100vh - 24px)", overflow: "auto" }}>
          <BlastRadius preview={preview} pending={pending} />
          <TrafficImpact change={change} />
        </div>
        <div style={{ minWidth: 0, gridColumn: "1 / -1" }}>
          <WhatIfBox defaultAuthority={inNs[0] ? `${inNs[0]}.${namespace}` : ""} change={change} namespace={namespace} />
        </div>
      </div>
      </>
      )}
    </>
  );
}
