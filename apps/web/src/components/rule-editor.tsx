"use client";
import { HTTP_METHODS } from "../lib/format";
import type { HttpRouteRule } from "@trellis/config";
import { Problems, problemsAt } from "./change-preview";
import type { FieldProblem } from "./change-preview";
import { ParsedInput } from "./list-input";
import { WeightsEditor } from "./weights-editor";

/** An HTTP route rule as the editor holds it (the Route schema's shape). */
export type Rule = HttpRouteRule;
type Match = NonNullable<Rule["match"]>[number];
type PathKind = "exact" | "prefix" | "regex";

const RETRY_ON = ["5xx", "gateway-error", "connect-failure", "reset", "retriable-4xx", "unavailable", "cancelled", "deadline-exceeded", "resource-exhausted"] as const;
const num = (s: string) => (s === "" ? undefined : Number(s));
const msOf = (d: string | undefined) => (d === undefined ? "" : d.endsWith("ms") ? d.slice(0, -2) : d.endsWith("s") ? String(Number(d.slice(0, -1)) * 1000) : d);

/**
 * One HTTP route rule: its matches (path exact/prefix/regex, method, headers), its weighted
 * destinations (the canary handles), timeout, retries, fault injection and mirroring; the
 * preview's findings and input errors show on the fields they concern.
 */
export function RuleEditor(props: { rule: Rule; index: number; subsets: readonly string[]; host: string; problems: readonly FieldProblem[]; onChange(rule: Rule): void; onRemove?(): void; disabled?: boolean }) {
  const { rule, index, subsets, problems, onChange, disabled } = props;
  const at = `spec.http[${index}]`;
  const set = (patch: Partial<Rule>) => onChange({ ...rule, ...patch });
  const labels = rule.route.map((d) => `${d.destination.host === props.host ? "" : `${d.destination.host} `}${d.destination.subset ?? "(all)"}`);
  const weights = rule.route.map((d) => d.weight ?? (rule.route.length === 1 ? 100 : 0));
  const matches = rule.match ?? [];
  const setMatch = (i: number, m: Match | undefined) => {
    const next = matches.flatMap((x, j) => (j === i ? (m ? [m] : []) : [x]));
    set({ match: next.length ? next : undefined });
  };
  return (
    <fieldset className="editor" data-testid={`rule-${index}`} disabled={disabled}>
      <legend>
        Rule {index + 1}{" "}
        <input aria-label={`name of rule ${index + 1}`} value={rule.name ?? ""} placeholder="name" size={12} onChange={(e) => set({ name: e.target.value || undefined })} />
      </legend>
      <Problems list={problems.filter((p) => p.path === at || p.path === `${at}.name`)} />

      <h3 style={{ fontSize: 13, margin: "4px 0" }}>Matches {matches.length === 0 ? <span className="muted">(every request)</span> : null}</h3>
      {matches.map((m, i) => {
        const kind: PathKind = m.path?.regex !== undefined ? "regex" : m.path?.prefix !== undefined ? "prefix" : "exact";
        const value = m.path ? (m.path.regex ?? m.path.prefix ?? m.path.exact ?? "") : "";
        return (
          <div key={i} className="form-row" data-testid={`match-${index}-${i}`}>
            <label>
              path
              <select value={m.path ? kind : "any"} onChange={(e) => setMatch(i, { ...m, path: e.target.value === "any" ? undefined : { [e.target.value]: value || "/" } })}>
                <option value="any">any</option>
                <option value="exact">exact</option>
                <option value="prefix">prefix</option>
                <option value="regex">regex</option>
              </select>
            </label>
            {m.path ? (
              <label>
                value
                <input value={value} onChange={(e) => setMatch(i, { ...m, path: { [kind]: e.target.value } })} size={16} />
              </label>
            ) : null}
            <label>
              method
              <select value={m.method ?? ""} onChange={(e) => setMatch(i, { ...m, method: (e.target.value || undefined) as Match["method"] })}>
                <option value="">any</option>
                {HTTP_METHODS.map((x) => (
                  <option key={x}>{x}</option>
                ))}
              </select>
            </label>
            <label>
              header (name=exact value)
              <ParsedInput
                name={`match-headers-${index}-${i}`}
                value={m.headers}
                format={(hs) => Object.entries(hs ?? {}).map(([k, v]) => `${k}=${v.exact ?? v.prefix ?? v.regex ?? ""}`).join(", ")}
                parse={(t) => {
                  const hs = Object.fromEntries(
                    t
                      .split(",")
                      .map((x) => x.trim())
                      .filter((x) => x.includes("="))
                      .map((x) => [x.slice(0, x.indexOf("=")).trim().toLowerCase(), { exact: x.slice(x.indexOf("=") + 1).trim() }]),
                  );
                  return Object.keys(hs).length ? hs : undefined;
                }}
                onValue={(hs) => setMatch(i, { ...m, headers: hs })}
                placeholder="end-user=jason"
                size={18}
              />
            </label>
            <button type="button" className="secondary" onClick={() => setMatch(i, undefined)}>
              Remove match
            </button>
            <Problems list={problemsAt(problems, `${at}.match[${i}]`)} />
          </div>
        );
      })}
      <button type="button" className="secondary" onClick={() => set({ match: [...matches, { path: { prefix: "/" } }] })}>
        Add match
      </button>

      <h3 style={{ fontSize: 13, margin: "12px 0 4px" }}>Destinations</h3>
      <WeightsEditor testId={`weights-${index}`} labels={labels} weights={weights} disabled={disabled} onChange={(w) => set({ route: rule.route.map((d, i) => ({ ...d, weight: w[i]! })) })} />
      <div className="form-row" style={{ marginTop: 6 }}>
        {subsets
          .filter((s) => !rule.route.some((d) => d.destination.host === props.host && d.destination.subset === s))
          .map((s) => (
            <button key={s} type="button" className="secondary" onClick={() => set({ route: [...rule.route.map((d, i) => ({ ...d, weight: weights[i]! })), { destination: { host: props.host, subset: s }, weight: 0 }] })}>
              Add {s}
            </button>
          ))}
        {rule.route.length > 1
          ? rule.route.map((d, i) => (
              <button key={`rm${i}`} type="button" className="secondary" onClick={() => set({ route: rule.route.filter((_, j) => j !== i) })}>
                Remove {labels[i]}
              </button>
            ))
          : null}
      </div>
      <Problems list={problemsAt(problems, `${at}.route`)} />

      <h3 style={{ fontSize: 13, margin: "12px 0 4px" }}>Resilience and faults</h3>
      <div className="form-row">
        <label>
          timeout (ms)
          <input type="number" min={1} value={msOf(rule.timeout)} onChange={(e) => set({ timeout: e.target.value ? `${e.target.value}ms` : undefined })} style={{ width: 90 }} />
        </label>
        <label>
          retry attempts
          <input type="number" min={0} max={10} value={rule.retries?.attempts ?? ""} onChange={(e) => set({ retries: e.target.value === "" ? undefined : { retryOn: ["connect-failure", "reset", "unavailable"], budgetPercent: 20, ...rule.retries, attempts: Number(e.target.value) } })} style={{ width: 70 }} />
        </label>
        {rule.retries ? (
          <>
            <label>
              per try (ms)
              <input type="number" min={1} value={msOf(rule.retries.perTryTimeout)} onChange={(e) => set({ retries: { ...rule.retries!, perTryTimeout: e.target.value ? `${e.target.value}ms` : undefined } })} style={{ width: 80 }} />
            </label>
            <label>
              retry on
              <select multiple size={3} value={rule.retries.retryOn} onChange={(e) => set({ retries: { ...rule.retries!, retryOn: [...e.target.selectedOptions].map((o) => o.value as (typeof RETRY_ON)[number]) } })}>
                {RETRY_ON.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            </label>
          </>
        ) : null}
      </div>
      <Problems list={[...problemsAt(problems, `${at}.timeout`), ...problemsAt(problems, `${at}.retries`)]} />
      <div className="form-row">
        <label>
          delay (ms)
          <input name={`delay-${index}`} type="number" min={0} value={msOf(rule.fault?.delay?.fixedDelay)} onChange={(e) => set({ fault: tidy({ ...rule.fault, delay: e.target.value === "" ? undefined : { fixedDelay: `${e.target.value}ms`, percentage: rule.fault?.delay?.percentage ?? 100 } }) })} style={{ width: 80 }} />
        </label>
        <label>
          of (%)
          <input type="number" min={0} max={100} value={rule.fault?.delay?.percentage ?? ""} disabled={!rule.fault?.delay} onChange={(e) => set({ fault: tidy({ ...rule.fault, delay: { ...rule.fault!.delay!, percentage: num(e.target.value) ?? 0 } }) })} style={{ width: 70 }} />
        </label>
        <label>
          abort status
          <input name={`abort-${index}`} type="number" min={200} max={599} value={rule.fault?.abort?.httpStatus ?? ""} onChange={(e) => set({ fault: tidy({ ...rule.fault, abort: e.target.value === "" ? undefined : { httpStatus: Number(e.target.value), percentage: rule.fault?.abort?.percentage ?? 100 } }) })} style={{ width: 80 }} />
        </label>
        <label>
          of (%)
          <input name={`abort-pct-${index}`} type="number" min={0} max={100} value={rule.fault?.abort?.percentage ?? ""} disabled={!rule.fault?.abort} onChange={(e) => set({ fault: tidy({ ...rule.fault, abort: { ...rule.fault!.abort!, percentage: num(e.target.value) ?? 0 } }) })} style={{ width: 70 }} />
        </label>
        <label>
          mirror to
          <select value={rule.mirror?.destination.subset ?? (rule.mirror ? "(all)" : "")} onChange={(e) => set({ mirror: e.target.value === "" ? undefined : { destination: { host: props.host, ...(e.target.value === "(all)" ? {} : { subset: e.target.value }) }, percentage: rule.mirror?.percentage ?? 100 } })}>
            <option value="">none</option>
            <option value="(all)">{props.host}</option>
            {subsets.map((s) => (
              <option key={s} value={s}>
                {props.host} / {s}
              </option>
            ))}
          </select>
        </label>
        {rule.mirror ? (
          <label>
            mirror (%)
            <input type="number" min={0} max={100} value={rule.mirror.percentage} onChange={(e) => set({ mirror: { ...rule.mirror!, percentage: num(e.target.value) ?? 0 } })} style={{ width: 70 }} />
          </label>
        ) : null}
      </div>
      <Problems list={[...problemsAt(problems, `${at}.fault`), ...problemsAt(problems, `${at}.mirror`)]} />
      {props.onRemove ? (
        <button type="button" className="secondary" onClick={props.onRemove}>
          Remove rule {index + 1}
        </button>
      ) : null}
    </fieldset>
  );
}

/** A fault with neither delay nor abort is no fault. */
function tidy(f: Rule["fault"]): Rule["fault"] {
  if (!f) return undefined;
  const out = { ...(f.delay ? { delay: f.delay } : {}), ...(f.abort ? { abort: f.abort } : {}) };
  return Object.keys(out).length ? out : undefined;
}
