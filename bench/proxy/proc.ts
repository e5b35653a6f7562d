import { readdirSync, readFileSync } from "node:fs";

/** /proc readings of the processes under test: CPU time, resident memory, children. Linux only. */

/** CPU time (user + system) process `pid` has used so far, in seconds; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name: utime is field 14, stime 15 (man 5 proc).
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

function statusKb(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set size of `pid` since it started (VmHWM), in MB; undefined once it is gone. */
export function peakRssMb(pid: number): number | undefined {
  const kb = statusKb(pid, "VmHWM");
  return kb === undefined ? undefined : kb / 1024;
}

/** Current resident set size of `pid` (VmRSS), in MB. */
export function rssMb(pid: number): number | undefined {
  const kb = statusKb(pid, "VmRSS");
  return kb === undefined ? undefined : kb / 1024;
}

/** Direct children of `pid` (nginx's workers), by scanning /proc for their parent pid. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
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

/** Busy share of the whole machine between two machineTicks() readings, in % of all CPUs. */
export function busyPct(a: ReturnType<typeof machineTicks>, b: ReturnType<typeof machineTicks>): number {
  const total = b.total - a.total;
  return total > 0 ? (100 * (b.busy - a.busy)) / total : Number.NaN;
}

/** The 1-minute load average (what `uptime` shows first). */
export function loadAverage1m(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return Number.NaN;
  }
}
