/**
 * How much memory the live window needs at the measured rate. liveStats' `bytes` is sampled
 * in the middle of every wall-clock second while telemetry runs; the window freezes a 1 s slot
 * just after each second boundary (every ingest advances it) and a 1 min slot at each minute
 * boundary, so between samples taken in seconds a and b it grew by b − a second slots, plus a
 * minute slot per minute boundary between them. The memory budget may already be evicting old
 * seconds (each eviction removes about one 1 s slot); that is added back.
 *
 * Sample only while nothing blocks the control plane's event loop (no graph builds): a second
 * during which the loop is blocked throughout gets no slot of its own, and a sample read behind
 * a blocked loop may predate the last freeze. Even so, the 1 s slot is the median over many
 * steps, and the 1 min slot is measured between the fastest-answered sample in the 6 s before
 * its boundary and the fastest in the 6 s after, with telemetry running throughout.
 */

export interface WindowSample {
  /** The wall-clock second the sample was taken in (request and answer both within it), epoch s. */
  sec: number;
  /** Request to answer, ms. */
  rtMs: number;
  bytes: number;
  series: number;
  evictedForMemory: number;
  memoryBytes: number;
}

export interface MemoryProjection {
  /** Bytes of one 1 s slot (median growth per second between minute boundaries). */
  secondSlotBytes: number;
  /** Bytes of one 1 min slot, or NaN when no minute boundary was sampled. */
  minuteSlotBytes: number;
  /** Seconds of telemetry the measured minute slot held (60 = a full minute). */
  minuteCoveredS: number;
  /** The series table, estimated at 300 bytes a series (its keys are ~80 characters). */
  seriesBytes: number;
  /** 30 min of 1 s slots + 24 h of 1 min slots + the series table. */
  projectedBytes: number;
  budgetBytes: number;
  /** What the budget keeps at this rate (the window evicts the oldest seconds first, keeping 60). */
  budgetKeeps: { secondsS: number; minutes: number };
  /** Seconds of telemetry sent before the budget started evicting (NaN = it did not during the run). */
  evictingAfterS: number;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

/**
 * `samples`: one a second, oldest first, taken while telemetry ran. `telemetryS(fromMs, toMs)`:
 * seconds of telemetry sent within that wall-clock span.
 */
export function projectMemory(samples: readonly WindowSample[], telemetryS: (fromMs: number, toMs: number) => number, secondsKept = 1800, minutesKept = 1440): MemoryProjection {
  const minuteOf = (sec: number) => Math.floor(sec / 60);
  const steps = samples.slice(1).map((b, i) => {
    const a = samples[i]!;
    return { a, b, seconds: b.sec - a.sec, grew: b.bytes - a.bytes, evicted: b.evictedForMemory - a.evictedForMemory, boundary: minuteOf(a.sec) !== minuteOf(b.sec) };
  });
  // Only steps within uninterrupted telemetry: the growth must be a slot per second.
  const plain = steps.filter((s) => !s.boundary && s.evicted === 0 && s.seconds > 0 && telemetryS((s.a.sec - 1) * 1000, s.b.sec * 1000) >= s.seconds + 1);
  const secondSlotBytes = median(plain.map((s) => s.grew / s.seconds));
  let minuteSlotBytes = Number.NaN;
  let minuteCoveredS = 0;
  const fastest = (from: number, to: number) => samples.filter((x) => x.sec >= from && x.sec < to).reduce<WindowSample | undefined>((best, x) => (best && best.rtMs <= x.rtMs ? best : x), undefined);
  for (const boundary of new Set(steps.filter((s) => s.boundary).map((s) => minuteOf(s.b.sec) * 60))) {
    const a = fastest(boundary - 6, boundary);
    const b = fastest(boundary, boundary + 6);
    if (!a || !b || telemetryS((a.sec - 1) * 1000, (b.sec + 1) * 1000) < b.sec - a.sec + 2) continue;
    const covered = telemetryS((boundary - 60) * 1000, boundary * 1000);
    if (covered < minuteCoveredS) continue;
    minuteCoveredS = covered;
    minuteSlotBytes = b.bytes - a.bytes - (b.sec - a.sec - (b.evictedForMemory - a.evictedForMemory)) * secondSlotBytes;
  }
  const last = samples[samples.length - 1];
  const seriesBytes = (last?.series ?? 0) * 300;
  const budgetBytes = last?.memoryBytes ?? Number.NaN;
  const m = Number.isNaN(minuteSlotBytes) ? secondSlotBytes * 2 : minuteSlotBytes;
  const projectedBytes = secondsKept * secondSlotBytes + minutesKept * m + seriesBytes;
  let budgetKeeps: MemoryProjection["budgetKeeps"];
  if (projectedBytes <= budgetBytes) budgetKeeps = { secondsS: secondsKept, minutes: minutesKept };
  else if (60 * secondSlotBytes + minutesKept * m + seriesBytes <= budgetBytes) budgetKeeps = { secondsS: Math.floor((budgetBytes - minutesKept * m - seriesBytes) / secondSlotBytes), minutes: minutesKept };
  else budgetKeeps = { secondsS: 60, minutes: Math.max(0, Math.floor((budgetBytes - 60 * secondSlotBytes - seriesBytes) / m)) };
  const firstEvicting = steps.find((s) => s.evicted > 0);
  return {
    secondSlotBytes,
    minuteSlotBytes,
    minuteCoveredS,
    seriesBytes,
    projectedBytes,
    budgetBytes,
    budgetKeeps,
    evictingAfterS: firstEvicting ? telemetryS(0, firstEvicting.a.sec * 1000 + 500) : Number.NaN,
  };
}

/** Samples liveStats in the middle of every wall-clock second until stopped; a sample answered in another second is dropped. */
export class WindowSampler {
  readonly samples: WindowSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly read: () => Promise<Omit<WindowSample, "sec" | "rtMs">>) {}

  start(): void {
    const schedule = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void tick(), (1500 - (Date.now() % 1000)) % 1000 || 1000);
      this.timer.unref();
    };
    const tick = async () => {
      const t0 = Date.now();
      try {
        const s = await this.read();
        const t1 = Date.now();
        if (Math.floor(t0 / 1000) === Math.floor(t1 / 1000)) {
          this.samples.push({ sec: Math.floor(t0 / 1000), rtMs: t1 - t0, bytes: s.bytes, series: s.series, evictedForMemory: s.evictedForMemory, memoryBytes: s.memoryBytes });
        }
      } catch {
        // a missed sample only widens one step
      }
      schedule();
    };
    schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
