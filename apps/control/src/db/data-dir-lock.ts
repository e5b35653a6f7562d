import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseUnavailableError } from "./errors";

const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * PGlite does not stop a second instance from opening a directory that is in use, and two
 * writers corrupt it. A `trellis.lock` file holding the owner's pid keeps a second control
 * plane (or a second open in this process) out; a lock left by a dead process is taken over.
 * Returns the release function.
 */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, "trellis.lock");
  const refuse = (who: string) => {
    throw new DatabaseUnavailableError(`pglite:${dir}`, `the embedded database is in use by ${who}; stop it, or set DATABASE_URL to share a PostgreSQL server between replicas`);
  };
  if (held.has(file)) refuse("this process");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      held.add(file);
      return () => {
        if (held.delete(file)) rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) refuse(`process ${pid}`);
      rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  return refuse("another process");
}
