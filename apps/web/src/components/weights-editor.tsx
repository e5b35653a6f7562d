"use client";
import { useState } from "react";
import { distributeEvenly, setWeight } from "../lib/weights";

const COLORS = ["#0b5cad", "#1a7f37", "#bf8700", "#8250df", "#cf222e", "#57606a"];

/**
 * Canary weights as handles: one slider per destination (drag it, or use the arrow keys; the
 * others rebalance so the total stays 100), a lock per destination that keeps its weight, and
 * "distribute evenly". A bar above shows the split.
 */
export function WeightsEditor(props: { labels: readonly string[]; weights: readonly number[]; onChange(weights: number[]): void; disabled?: boolean; testId?: string }) {
  const { labels, weights, onChange, disabled } = props;
  const [locked, setLocked] = useState<boolean[]>(() => labels.map(() => false));
  const lock = labels.map((_, i) => locked[i] ?? false);
  const total = weights.reduce((s, w) => s + w, 0);
  return (
    <div data-testid={props.testId ?? "weights"}>
      <div aria-hidden="true" style={{ display: "flex", height: 14, borderRadius: 3, overflow: "hidden", border: "1px solid var(--line)", marginBottom: 8 }}>
        {weights.map((w, i) => (
          <div key={i} title={`${labels[i]} ${w} %`} style={{ width: `${total > 0 ? (100 * w) / total : 0}%`, background: COLORS[i % COLORS.length], transition: "width 80ms" }} />
        ))}
      </div>
      {labels.map((label, i) => (
        <div key={i} style={{ display: "grid", gridTemplateColumns: "110px 1fr 52px 70px", gap: 8, alignItems: "center", marginBottom: 4 }}>
          <span>
            <span aria-hidden="true" style={{ display: "inline-block", width: 10, height: 10, background: COLORS[i % COLORS.length], marginRight: 6 }} />
            {label}
          </span>
          <input type="range" min={0} max={100} step={1} value={weights[i] ?? 0} disabled={disabled || lock[i]} aria-label={`weight of ${label}`} onChange={(e) => onChange(setWeight(weights, lock, i, Number(e.target.value)))} />
          <span className="num" data-testid={`weight-${label}`} style={{ textAlign: "right", fontVariantNumeric: "tabular-nums" }}>
            {weights[i] ?? 0} %
          </span>
          <label style={{ fontSize: 12 }}>
            <input type="checkbox" checked={lock[i]} disabled={disabled} onChange={(e) => setLocked(lock.map((l, j) => (j === i ? e.target.checked : l)))} /> lock
          </label>
        </div>
      ))}
      {labels.length > 1 ? (
        <button type="button" className="secondary" disabled={disabled} onClick={() => onChange(distributeEvenly(weights, lock))}>
          Distribute evenly
        </button>
      ) : null}
      {total !== 100 && labels.length > 1 ? <p className="error">The weights add up to {total}, not 100.</p> : null}
    </div>
  );
}
