"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { use, useEffect, useMemo, useState } from "react";
import { BlastRadius, Problems, usePreview } from "../../../../../components/change-preview";
import type { Change } from "../../../../../components/change-preview";
import { RuleEditor } from "../../../../../components/rule-editor";
import type { Rule } from "../../../../../components/rule-editor";
import { WhatIfBox } from "../../../../../components/what-if-box";
import { useCan, useRole } from "../../../../../lib/me";
import { useTRPC } from "../../../../../lib/trpc";

interface RouteDraft {
  kind: "Route";
  metadata: { name: string; namespace: string };
  spec: { hosts: string[]; gateways?: string[]; http: Rule[]; tcp?: unknown[] } & Record<string, unknown>;
}

/**
 * The traffic editor of one service: its Route's rules — matches, the canary weights as
 * handles, timeout, retries, fault injection, mirroring — with the preview recomputed on every
 * edit (findings on their fields, errors block saving; which proxies get a new snapshot and how
 * it changes), a what-if against the unsaved edit, and Save as a revision with a message.
 */
export default function TrafficEditor({ params }: { params: Promise<{ namespace: string; name: string }> }) {
  const { namespace, name } = use(params);
  const trpc = useTRPC();
  const qc = useQueryClient();
  const canEdit = useCan("operator");
  const role = useRole();
  const list = useQuery(trpc.resources.list.queryOptions({ namespace }));
  const host = name;
  const routes = (list.data?.items ?? []).filter((r) => r.kind === "Route" && ((r.spec as { hosts: string[] }).hosts ?? []).some((h) => h === name || h === `${name}.${namespace}` || h === `${name}.${namespace}.svc`)) as unknown as RouteDraft[];
  const policy = (list.data?.items ?? []).find((r) => r.kind === "DestinationPolicy" && [name, `${name}.${namespace}`].includes((r.spec as { host: string }).host));
  const subsets = ((policy?.spec as { subsets?: { name: string }[] } | undefined)?.subsets ?? []).map((s) => s.name);
  const [routeName, setRouteName] = useState<string | undefined>();
  const current = routes.find((r) => r.metadata.name === routeName) ?? routes[0];
  const fresh = useMemo<RouteDraft>(() => ({ kind: "Route", metadata: { name, namespace }, spec: { hosts: [name], http: [{ name: "default", route: [{ destination: { host: name, ...(subsets[0] ? { subset: subsets[0] } : {}) }, weight: 100 }] }] } }), [name, namespace, subsets.join()]);
  const [draft, setDraft] = useState<RouteDraft | undefined>();
  const [message, setMessage] = useState("");
  const [saved, setSaved] = useState<number | undefined>();
  // A new draft whenever the stored route changes (another edit, a rollback, our own save).
  const base = current ?? (list.data ? fresh : undefined);
  const baseKey = base ? JSON.stringify(base) : "";
  useEffect(() => setDraft(base ? structuredClone(base) : undefined), [baseKey]);
  const dirty = draft !== undefined && JSON.stringify(draft) !== baseKey;
  const change: Change | undefined = draft && dirty ? { upserts: [draft as never], deletes: [] } : undefined;
  const { preview, problems, pending } = usePreview(change);
  const blocked = problems.some((p) => p.severity === "error");
  const write = useMutation(
    trpc.resources.write.mutationOptions({
      onSuccess: (r) => {
        setSaved(r.revision);
        setMessage("");
        void qc.invalidateQueries({ queryKey: trpc.resources.list.queryKey() });
      },
    }),
  );
  const save = () => {
    if (!change || !list.data) return;
    write.mutate({ ...change, baseRevision: preview?.baseRevision ?? list.data.revision, message: message || `traffic of ${name}` });
  };

  return (
    <>
      <h1>
        <Link href="/">Overview</Link> / {namespace} / <Link href={`/services/${namespace}/${name}`}>{name}</Link> / traffic
      </h1>
      {list.isPending || role === undefined ? (
        <div className="skeleton" aria-busy="true" />
      ) : list.isError ? (
        <p className="error" role="alert">
          {list.error.message}
        </p>
      ) : !draft ? null : (
        <div style={{ display: "grid", gridTemplateColumns: "minmax(0, 1fr) minmax(0, 400px)", gap: 12, alignItems: "start" }}>
          <div style={{ minWidth: 0 }}>
            {!canEdit ? <p className="panel muted">Viewers see the routing; operators and admins edit it.</p> : null}
            <div className="form-row">
              <label>
                route
                <select value={current?.metadata.name ?? ""} onChange={(e) => setRouteName(e.target.value)} disabled={routes.length < 2}>
                  {routes.length === 0 ? <option value="">new: Route/{namespace}/{name}</option> : null}
                  {routes.map((r) => (
                    <option key={r.metadata.name} value={r.metadata.name}>
                      Route/{r.metadata.namespace}/{r.metadata.name}
                    </option>
                  ))}
                </select>
              </label>
              <span className="muted">subsets: {subsets.length ? subsets.join(", ") : "none (add a DestinationPolicy with subsets for a canary)"}</span>
              {current && subsets.length > 1 ? <Link href={`/canaries?route=${encodeURIComponent(`${current.metadata.namespace}/${current.metadata.name}`)}`}>Start an automated canary →</Link> : null}
            </div>
            <Problems list={problems.filter((p) => !p.path.startsWith("spec.http[") && (p.resource === null || p.resource === `Route/${draft.metadata.namespace}/${draft.metadata.name}`))} />
            {draft.spec.http.map((rule, i) => (
              <RuleEditor
                key={i}
                index={i}
                rule={rule}
                host={host}
                subsets={subsets}
                problems={problems}
                disabled={!canEdit}
                onChange={(r) => setDraft({ ...draft, spec: { ...draft.spec, http: draft.spec.http.map((x, j) => (j === i ? r : x)) } })}
                {...(draft.spec.http.length > 1 ? { onRemove: () => setDraft({ ...draft, spec: { ...draft.spec, http: draft.spec.http.filter((_, j) => j !== i) } }) } : {})}
              />
            ))}
            {canEdit ? (
              <>
                <button type="button" className="secondary" onClick={() => setDraft({ ...draft, spec: { ...draft.spec, http: [{ name: `rule-${draft.spec.http.length + 1}`, match: [{ path: { prefix: "/" } }], route: [{ destination: { host, ...(subsets[0] ? { subset: subsets[0] } : {}) }, weight: 100 }] }, ...draft.spec.http] } })}>
                  Add a rule before the others
                </button>
                <div className="panel" style={{ marginTop: 12 }}>
                  <div className="form-row">
                    <label style={{ flex: 1 }}>
                      message
                      <input name="message" value={message} onChange={(e) => setMessage(e.target.value)} placeholder={`traffic of ${name}`} />
                    </label>
                    <button type="button" className="secondary" disabled={!dirty} onClick={() => setDraft(structuredClone(base))}>
                      Discard
                    </button>
                    <button type="button" onClick={save} disabled={!dirty || blocked || pending || write.isPending} data-testid="save">
                      Save
                    </button>
                  </div>
                  <p role="status" className={write.isError ? "error" : "muted"} data-testid="save-status" style={{ minHeight: "1.4em", margin: 0 }}>
                    {write.isError ? write.error.message : blocked ? "Fix the errors above to save." : saved !== undefined && !dirty ? `Saved as revision ${saved}.` : dirty ? "Unsaved changes." : "No changes."}
                  </p>
                </div>
              </>
            ) : null}
          </div>
          {/* The preview beside the editor, where it changes as the handles move; it sticks while the editor scrolls. */}
          <div style={{ minWidth: 0, position: "sticky", top: 12, maxHeight: "calc(100vh - 24px)", overflow: "auto" }}>
            <BlastRadius preview={preview} pending={pending} />
          </div>
          <div style={{ minWidth: 0, gridColumn: "1 / -1" }}>
            <WhatIfBox defaultAuthority={`${name}.${namespace}`} change={change} namespace={namespace} />
          </div>
        </div>
      )}
    </>
  );
}
