"use client";
import { Problems } from "./change-preview";
import type { FieldProblem } from "./change-preview";
import { listFormat, listParse, ParsedInput } from "./list-input";
import type { Res } from "../lib/staged-change";

type JwtRule = { issuer: string; jwksUri?: string; jwks?: string; audiences?: string[] };

/** The namespace's RequestAuthentications: the first JWT rule of each (issuer, JWKS URL, audiences), editable in place. */
export function JwtIssuers(props: { resources: readonly [string, Res][]; canEdit: boolean; problems: readonly FieldProblem[]; stage: (r: Res) => void; remove: (key: string) => void; add: () => void }) {
  const { canEdit } = props;
  return (
    <section className="panel" data-testid="jwt" style={{ marginBottom: 12 }}>
      <h2 style={{ fontSize: 15, marginTop: 0 }}>JWT (RequestAuthentication)</h2>
      {props.resources.length === 0 ? <p className="muted">No RequestAuthentication: the proxies do not check tokens, and no request has a JWT principal to authorize on.</p> : null}
      {props.resources.map(([k, r]) => {
        const rules = (r.spec.jwtRules as JwtRule[]) ?? [];
        const setRule = (patch: Record<string, unknown>) => props.stage({ ...r, spec: { ...r.spec, jwtRules: [{ ...rules[0], ...patch }, ...rules.slice(1)] } });
        return (
          <div key={k} className="form-row" data-testid={`jwt-${r.metadata.name}`}>
            <strong>{r.metadata.name}</strong>
            <span className="muted">{(r.spec.selector as { service?: string } | undefined)?.service ?? "every workload"}</span>
            <label>
              issuer
              <input value={rules[0]?.issuer ?? ""} disabled={!canEdit} onChange={(e) => setRule({ issuer: e.target.value })} size={22} />
            </label>
            <label>
              JWKS URL
              <input value={rules[0]?.jwksUri ?? (rules[0]?.jwks ? "(inline keys)" : "")} disabled={!canEdit || rules[0]?.jwks !== undefined} onChange={(e) => setRule({ jwksUri: e.target.value || undefined })} size={24} />
            </label>
            <label>
              audiences
              <ParsedInput value={rules[0]?.audiences} format={listFormat} parse={listParse} disabled={!canEdit} onValue={(v) => setRule({ audiences: v })} size={14} />
            </label>
            {canEdit ? (
              <button type="button" className="secondary" onClick={() => props.remove(k)}>
                Delete
              </button>
            ) : null}
            <Problems list={props.problems.filter((p) => p.resource === k)} />
          </div>
        );
      })}
      {canEdit ? (
        <button type="button" className="secondary" onClick={props.add}>
          Add an issuer
        </button>
      ) : null}
    </section>
  );
}
