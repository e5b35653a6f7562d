"use client";
import { Problems } from "./change-preview";
import type { FieldProblem } from "./change-preview";
import { pct } from "../lib/format";

const MODES = ["STRICT", "PERMISSIVE", "DISABLE"] as const;

/**
 * The mTLS mode of a namespace and of each of its services (PeerAuthentication), beside the
 * share of their inbound traffic observed on mTLS. `modeOf(undefined)` is the namespace-wide
 * mode; "" means inherited (mesh default, or the namespace's).
 */
export function MtlsModes(props: {
  namespace: string;
  services: readonly string[];
  meshMode: string;
  canEdit: boolean;
  modeOf: (service?: string) => string;
  setMode: (service: string | undefined, mode: string) => void;
  /** Share on mTLS of a service's inbound traffic; undefined while loading (shown as …). */
  observed: (service: string) => number | null | undefined;
  observedPending: boolean;
  problems: readonly FieldProblem[];
}) {
  const { namespace, canEdit } = props;
  const select = (service: string | undefined, inherit: string, label: string) => (
    <select aria-label={`mTLS mode of ${label}`} value={props.modeOf(service)} disabled={!canEdit} onChange={(e) => props.setMode(service, e.target.value)}>
      <option value="">{inherit}</option>
      {MODES.map((m) => (
        <option key={m}>{m}</option>
      ))}
    </select>
  );
  return (
    <section className="panel" data-testid="mtls" style={{ marginBottom: 12 }}>
      <h2 style={{ fontSize: 15, marginTop: 0 }}>Mutual TLS</h2>
      <table>
        <thead>
          <tr>
            <th>workloads</th>
            <th>mode</th>
            <th className="num">observed on mTLS (5 min)</th>
          </tr>
        </thead>
        <tbody>
          <tr data-testid={`mtls-${namespace}`}>
            <td>every workload in {namespace}</td>
            <td>{select(undefined, `mesh default (${props.meshMode})`, namespace)}</td>
            <td />
          </tr>
          {props.services.map((s) => (
            <tr key={s} data-testid={`mtls-${namespace}-${s}`}>
              <td>{s}</td>
              <td>{select(s, "as the namespace", s)}</td>
              <td className="num">{props.observedPending ? "…" : pct(props.observed(s))}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Problems list={props.problems.filter((p) => p.resource?.startsWith("PeerAuthentication/"))} />
    </section>
  );
}
