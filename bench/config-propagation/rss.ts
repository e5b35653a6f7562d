import { readFileSync } from "node:fs";

/** A `Vm…:` line of /proc/<pid>/status in MB, or undefined once the process is gone. */
function statusMb(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size of process `pid` in MB (VmRSS), or undefined once it is gone. */
export const rssMb = (pid: number): number | undefined => statusMb(pid, "VmRSS");

/** The kernel's high-water mark of process `pid`'s RSS in MB (VmHWM), or undefined once it is gone. */
export const rssPeakMb = (pid: number): number | undefined => statusMb(pid, "VmHWM");

/** CPU time (user + system) process `pid` has used so far, in seconds; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15 (man 5 proc).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by all of `pids` together. */
export function cpuSecondsOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
}

/**
 * Samples one process's RSS every `intervalMs` (and its kernel-kept peak, VmHWM) (the child is `node` itself, started with
 * `--import tsx`, so its pid is the process whose memory we want). Keeps the peak and the
 * latest value. Stop it with stop(); its timer never keeps the benchmark alive.
 */
export class RssSampler {
  peakMb = 0;
  lastMb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Takes a sample now and returns it (MB); the peak also reads the kernel's high-water mark, so no spike between samples is missed. */
  sample(): number {
    const mb = rssMb(this.pid);
    if (mb !== undefined) {
      this.lastMb = mb;
      this.peakMb = Math.max(this.peakMb, mb, rssPeakMb(this.pid) ?? 0);
    }
    return this.lastMb;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Cumulative CPU jiffies of the whole machine (first line of /proc/stat). */
export function machineTicks(): { busy: number; steal: number; total: number } {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    return { busy: user + nice + system + irq + softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
  } catch {
    return { busy: 0, steal: 0, total: 0 };
  }
}

/** Busy and stolen (hypervisor) CPU share of the machine between two machineTicks() readings, in %. */
export function machineLoad(a: ReturnType<typeof machineTicks>, b: ReturnType<typeof machineTicks>): { busyPct: number; stealPct: number } {
  const total = b.total - a.total;
  if (total <= 0) return { busyPct: Number.NaN, stealPct: Number.NaN };
  return { busyPct: (100 * (b.busy - a.busy)) / total, stealPct: (100 * (b.steal - a.steal)) / total };
}
