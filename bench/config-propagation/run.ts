/**
 * Config-propagation benchmark: how long an edit takes to reach every proxy of a fleet, and
 * how much memory the control plane needs, against a transport floor measured in the same run.
 * See README.md next to this file; `npm run bench:config-propagation -- --help` for options.
 *
 * Orchestration only: trellis-phase.ts (control plane + database + fleet), floor-phase.ts (the
 * bare grpc-js peer + the same fleet), report.ts (table, targets, JSON). Everything runs on
 * 127.0.0.1; every child process and the database are cleaned up on any exit, and the whole
 * run is bounded by --timeout-s.
 */
import { Cleanup } from "./cleanup";
import { runFloor, type FloorResult } from "./floor-phase";
import { parseOptions } from "./options";
import { buildReport, renderReport } from "./report";
import { runTrellis } from "./trellis-phase";

const o = parseOptions(process.argv.slice(2));
const cleanup = new Cleanup();
const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

let exiting = false;
/** The first caller decides the exit code and message; later ones (errors caused by the teardown itself) just wait. */
async function exit(code: number, why?: string): Promise<never> {
  if (exiting) return new Promise<never>(() => {});
  exiting = true;
  if (why) process.stderr.write(`${why}\n`);
  await cleanup.run();
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void exit(130, `interrupted (${signal}); cleaning up`));
const overall = setTimeout(() => void exit(2, `the benchmark did not finish within ${o.timeoutMs / 1000} s (--timeout-s); cleaning up`), o.timeoutMs);

try {
  log(`${o.proxies} proxies, ${o.services} services, ${o.writes} writes, ${o.database}, fleet in ${o.fleetProcs} process(es)`);
  const trellis = await runTrellis(o, cleanup, log);
  let floor: FloorResult | undefined;
  if (!o.noFloor) floor = await runFloor(o, Math.max(64, Math.round(trellis.connect.state.bytesSum / Math.max(1, trellis.connect.state.total))), cleanup, log);
  await cleanup.run();
  const report = buildReport(o, trellis, floor);
  process.stdout.write(o.json ? JSON.stringify(report, null, 2) + "\n" : renderReport(report) + "\n");
  clearTimeout(overall);
  process.exit(report.targets.some((t) => t.verdict === "FAIL") ? 1 : 0);
} catch (err) {
  await exit(1, `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
