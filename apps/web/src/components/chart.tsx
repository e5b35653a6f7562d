"use client";
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Line {
  label: string;
  color: string;
  values: Array<number | null>;
}

/**
 * A time-series chart (uPlot: small, fast, maintained). Fixed height, so the page does not
 * jump when data arrives; redrawn in place on new data.
 */
export function Chart(props: { title: string; times: number[]; lines: Line[]; unit: string; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const { title, times, lines, unit } = props;
  const key = lines.map((l) => l.label).join("|");

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      title,
      width: Math.max(280, el.clientWidth - 12),
      height: 180,
      scales: { x: { time: true } },
      axes: [{}, { values: (_u, vals) => vals.map((v) => `${v}${unit}`) }],
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, spanGaps: false }))],
    };
    const p = new uPlot(opts, [times.map((t) => t / 1000), ...lines.map((l) => l.values)], el);
    plot.current = p;
    const onResize = () => p.setSize({ width: Math.max(280, el.clientWidth - 12), height: 180 });
    window.addEventListener("resize", onResize);
    return () => {
      window.removeEventListener("resize", onResize);
      p.destroy();
    };
    // Rebuilt when the set of lines changes; data updates go through setData below.
  }, [title, unit, key]);

  useEffect(() => {
    plot.current?.setData([times.map((t) => t / 1000), ...lines.map((l) => l.values)]);
  }, [times, lines]);

  return <div ref={box} data-testid={props.testId} style={{ minHeight: 210, background: "#fff", border: "1px solid var(--line)", padding: 4 }} />;
}
