import type { CpuProfile } from "../proxy/profile-summary";

/**
 * The part of a V8 CPU profile whose samples fall in `ranges` ([fromUs, toUs) on the monotonic
 * clock the profile's timestamps use, the clock of load-protocol.ts's nowUs()), as a profile
 * summarizeProfile() reads: each kept sample keeps its own duration, so gaps between ranges
 * count for nothing.
 */
export function sliceProfile(p: CpuProfile, ranges: ReadonlyArray<readonly [number, number]>): CpuProfile {
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  const kept: number[] = [];
  const durations: number[] = [];
  let t = p.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    const next = t + (deltas[i + 1] ?? 0);
    if (ranges.some(([from, to]) => t >= from && t < to)) {
      kept.push(samples[i]!);
      durations.push(next - t);
    }
  }
  // summarizeProfile charges timeDeltas[i] to samples[i - 1].
  const last = kept[kept.length - 1];
  return {
    nodes: p.nodes,
    samples: last === undefined ? [] : [...kept, last],
    timeDeltas: last === undefined ? [] : [0, ...durations],
    startTime: ranges[0]?.[0] ?? p.startTime,
    endTime: ranges[ranges.length - 1]?.[1] ?? p.endTime,
  };
}
