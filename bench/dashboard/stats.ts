/** Figures of the dashboard benchmark, kept apart from the browser so they can be tested. */

export interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  /** Frames drawn per second over the phase. */
  fps: number;
}

/** Frame intervals (ms between requestAnimationFrame callbacks) summarized. */
export function summarize(intervals: readonly number[]): FrameStats {
  if (intervals.length === 0) throw new Error("no frame was drawn while measuring");
  const s = [...intervals].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  const total = intervals.reduce((a, b) => a + b, 0);
  return { frames: s.length, p50: q(0.5), p95: q(0.95), max: s.at(-1)!, fps: total > 0 ? (1000 * s.length) / total : 0 };
}

/**
 * When the page became interactive (Lighthouse's idea, simplified): the end of the last long
 * task (> 50 ms, as the browser reports them) that starts before a quiet window of `quietMs`,
 * and never before the first frame. Times are ms since the data arrived.
 */
export function interactiveAt(firstFrameMs: number, longTasks: readonly { start: number; end: number }[], quietMs: number): number {
  const tasks = [...longTasks].sort((a, b) => a.start - b.start);
  let at = firstFrameMs;
  for (const t of tasks) {
    if (t.start > at + quietMs) break; // a quiet window passed before this one: already interactive
    at = Math.max(at, t.end);
  }
  return at;
}
