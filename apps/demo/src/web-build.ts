import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The dashboard's production build (`next build` in apps/web), made when missing or older than
 * a source, by one process at a time: `npm run demo` and the dashboard's test suites may start
 * together, and two builds writing one `.next` break each other. The lock is a directory
 * (created atomically) holding its owner's pid; a lock whose owner died is taken over.
 */

/** Whether apps/web needs a (re)build: no build yet, or a source newer than it. */
export function webBuildIsStale(webDir: string): boolean {
  const id = path.join(webDir, ".next", "BUILD_ID");
  if (!existsSync(id)) return true;
  const built = statSync(id).mtimeMs;
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs), 0);
  const configs = ["package.json", "next.config.mjs", "tsconfig.json"].map((f) => path.join(webDir, f)).filter(existsSync);
  return Math.max(newest(path.join(webDir, "src")), ...configs.map((f) => statSync(f).mtimeMs)) > built;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Builds apps/web unless its build is current; `onBuild` is told when a build starts. Throws with next's output on failure. */
export async function ensureWebBuild(webDir: string, nextBin: string, onBuild?: () => void, timeoutMs = 600_000): Promise<void> {
  const lock = path.join(webDir, ".next-build.lock");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(lock, "pid"), "utf8"));
      } catch {
        // just created (its owner is writing the pid), or its owner died before it could
      }
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // gone meanwhile: try to take it
      }
      const stale = Number.isInteger(owner) && owner > 0 ? !alive(owner) : age > 10_000;
      if (stale) {
        // Moved aside first: of several processes finding it stale, one wins the rename, and
        // none removes a lock another has just taken.
        try {
          const aside = `${lock}.stale-${process.pid}-${Date.now()}`;
          renameSync(lock, aside);
          rmSync(aside, { recursive: true, force: true });
        } catch {
          // another process moved it first
        }
      } else if (Date.now() > deadline) throw new Error(`another process (pid ${owner}) has been building the dashboard for too long (lock ${lock})`);
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (!webBuildIsStale(webDir)) return;
    onBuild?.();
    const b = spawnSync(process.execPath, [nextBin, "build"], { cwd: webDir, encoding: "utf8", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, timeout: timeoutMs });
    if (b.status !== 0) throw new Error(`building the dashboard failed:\n${b.stdout}${b.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
