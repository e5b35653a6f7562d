import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { childPids } from "./proc";
import { freePort, spawnChild, waitFor } from "./children";
import type { Child } from "./children";
import type { NginxCommon } from "./nginx-conf";

/** A running nginx (master in the foreground, `daemon off`), its one worker and its ports. */
export interface Nginx {
  master: Child;
  workerPid: number;
  h1Port: number;
  h2Port: number;
  /** Master and worker, for CPU and RSS. */
  pids: number[];
}

/** `nginx -v` (which prints to stderr), e.g. `nginx/1.22.1`. */
export function nginxVersion(): string {
  const r = spawnSync("nginx", ["-v"], { encoding: "utf8" });
  return /nginx version: (\S+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? "nginx (version unknown)";
}

/**
 * Writes the config that `render` makes for a fresh prefix under `dir` and runs
 * `nginx -c <conf> -p <prefix>`; resolves once its worker is up and the h1 port answers.
 */
export async function startNginx(name: string, dir: string, render: (c: NginxCommon) => string): Promise<Nginx> {
  const prefix = path.join(dir, name);
  mkdirSync(prefix, { recursive: true });
  // Workers run as `nobody` when the master is root; they only read the config.
  chmodSync(prefix, 0o755);
  const common: NginxCommon = { prefix, h1Port: await freePort(), h2Port: await freePort() };
  const conf = path.join(prefix, "nginx.conf");
  writeFileSync(conf, render(common));
  const master = spawnChild(name, "nginx", ["-c", conf, "-p", prefix], { stdout: "ignore" });
  // SIGTERM is nginx's fast shutdown, which is what Child.stop sends.
  const workerPid = await waitFor(
    `${name}'s worker process`,
    async () => {
      if (master.child.exitCode !== null) throw new Error(`${name} exited with ${master.child.exitCode}: ${master.stderr()}`);
      return childPids(master.pid)[0];
    },
    10_000,
  );
  return { master, workerPid, h1Port: common.h1Port, h2Port: common.h2Port, pids: [master.pid, workerPid] };
}
