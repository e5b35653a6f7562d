"use client";
import type { AuthorizationPolicySpec } from "@trellis/config";
import { Problems, problemsAt } from "./change-preview";
import { listFormat, listParse, ParsedInput } from "./list-input";
import type { FieldProblem } from "./change-preview";

export interface PolicyDraft {
  kind: "AuthorizationPolicy";
  metadata: { name: string; namespace: string };
  spec: AuthorizationPolicySpec;
}
type Rule = AuthorizationPolicySpec["rules"][number];

/** The rule with its first `from` source and first `to` operation replaced (empty fields dropped); further entries are kept as written. */
function withFirst(rule: Rule, from: Record<string, unknown>, to: Record<string, unknown>, when: Rule["when"]): Rule {
  const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const f = clean(from);
  const t = clean(to);
  const froms = [...(Object.keys(f).length ? [{ source: f }] : []), ...(rule.from?.slice(1) ?? [])];
  const tos = [...(Object.keys(t).length ? [{ operation: t }] : []), ...(rule.to?.slice(1) ?? [])];
  return { ...(froms.length ? { from: froms } : {}), ...(tos.length ? { to: tos } : {}), ...(when?.length ? { when } : {}) } as Rule;
}

/**
 * An AuthorizationPolicy as a form: which workloads (all of the namespace, or one service's),
 * the action, and rules of from (principals, namespaces, JWT principals), to (methods, paths,
 * ports) and when (a condition key and its values). Lists are comma-separated; an empty field
 * matches anything. The preview's findings show on the fields they concern.
 */
export function PolicyBuilder(props: { policy: PolicyDraft; services: readonly string[]; problems: readonly FieldProblem[]; onChange(p: PolicyDraft): void; disabled?: boolean }) {
  const { policy, services, problems, onChange, disabled } = props;
  const spec = policy.spec;
  const setSpec = (s: Partial<AuthorizationPolicySpec>) => onChange({ ...policy, spec: { ...spec, ...s } });
  const setRule = (i: number, r: Rule | undefined) => setSpec({ rules: spec.rules.flatMap((x, j) => (j === i ? (r ? [r] : []) : [x])) });
  return (
    <fieldset className="editor" data-testid="policy-builder" disabled={disabled}>
      <legend>AuthorizationPolicy</legend>
      <div className="form-row">
        <label>
          name
          <input name="policy-name" value={policy.metadata.name} onChange={(e) => onChange({ ...policy, metadata: { ...policy.metadata, name: e.target.value } })} size={18} />
        </label>
        <label>
          applies to
          <select name="policy-target" value={spec.selector?.service ?? ""} onChange={(e) => setSpec({ selector: e.target.value ? { service: e.target.value } : undefined })}>
            <option value="">every workload in {policy.metadata.namespace}</option>
            {services.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          action
          <select name="policy-action" value={spec.action} onChange={(e) => setSpec({ action: e.target.value as AuthorizationPolicySpec["action"] })}>
            <option>ALLOW</option>
            <option>DENY</option>
            <option>AUDIT</option>
          </select>
        </label>
      </div>
      <Problems list={problems.filter((p) => p.path === "metadata.name" || p.path.startsWith("spec.selector") || p.path === "spec.action" || p.path === "spec.rules" || p.path === "")} />
      {spec.rules.length === 0 ? <p className="muted">{spec.action === "ALLOW" ? "No rules: an ALLOW policy without rules allows nothing — every request to these workloads is denied." : "No rules: matches nothing."}</p> : null}
      {spec.rules.map((rule, i) => {
        const src = rule.from?.[0]?.source ?? {};
        const op = rule.to?.[0]?.operation ?? {};
        const when = rule.when?.[0];
        const patch = (from: Record<string, unknown>, to: Record<string, unknown>, w?: Rule["when"]) => setRule(i, withFirst(rule, { ...src, ...from }, { ...op, ...to }, w === undefined ? rule.when : w));
        return (
          <div key={i} data-testid={`policy-rule-${i}`} style={{ borderTop: "1px solid var(--line)", paddingTop: 8, marginTop: 8 }}>
            <strong style={{ fontSize: 13 }}>Rule {i + 1}</strong>
            <div className="form-row">
              <label>
                from principals
                <ParsedInput name={`from-principals-${i}`} value={src.principals} format={listFormat} parse={listParse} onValue={(v) => patch({ principals: v }, {})} placeholder="*/ns/bookinfo/sa/reviews" size={26} />
              </label>
              <label>
                from namespaces
                <ParsedInput name={`from-namespaces-${i}`} value={src.namespaces} format={listFormat} parse={listParse} onValue={(v) => patch({ namespaces: v }, {})} size={12} />
              </label>
              <label>
                JWT principals (iss/sub)
                <ParsedInput name={`from-request-principals-${i}`} value={src.requestPrincipals} format={listFormat} parse={listParse} onValue={(v) => patch({ requestPrincipals: v }, {})} size={18} />
              </label>
            </div>
            <div className="form-row">
              <label>
                methods
                <ParsedInput name={`to-methods-${i}`} value={op.methods} format={listFormat} parse={listParse} onValue={(v) => patch({}, { methods: v?.map((m) => String(m).toUpperCase()) })} placeholder="GET, POST" size={12} />
              </label>
              <label>
                paths
                <ParsedInput name={`to-paths-${i}`} value={op.paths} format={listFormat} parse={listParse} onValue={(v) => patch({}, { paths: v })} placeholder="/ratings/*" size={18} />
              </label>
              <label>
                ports
                <ParsedInput name={`to-ports-${i}`} value={op.ports} format={listFormat} parse={(t) => listParse(t)?.map(Number)} onValue={(v) => patch({}, { ports: v })} size={8} />
              </label>
              <label>
                when key
                <input name={`when-key-${i}`} value={when?.key ?? ""} onChange={(e) => patch({}, {}, e.target.value ? [{ key: e.target.value, values: when?.values ?? [] } as never] : [])} placeholder="request.headers[x-user]" size={20} />
              </label>
              <label>
                values
                <ParsedInput name={`when-values-${i}`} value={when?.values} format={listFormat} parse={listParse} disabled={!when} onValue={(v) => patch({}, {}, [{ key: when!.key, values: v } as never])} size={12} />
              </label>
              <button type="button" className="secondary" onClick={() => setRule(i, undefined)}>
                Remove rule
              </button>
            </div>
            <Problems list={problemsAt(problems, `spec.rules[${i}]`)} />
          </div>
        );
      })}
      <button type="button" className="secondary" onClick={() => setSpec({ rules: [...spec.rules, {} as Rule] })} style={{ marginTop: 8 }}>
        Add rule
      </button>
    </fieldset>
  );
}
