#!/usr/bin/env node
// trellis-proxy: the Trellis sidecar. Flags and TRELLIS_PROXY_* variables: see USAGE (--help).
// Prints one JSON line `{"event":"listening",...}` with the bound ports on stdout first; access
// logs follow on stdout, operational logs go to stderr.
import { ArgsError, parseProxyArgs, USAGE, wantsHelp } from "./args";
import { tuneProxyHeap } from "./node-flags";
import { installRuntimeFixes } from "./runtime-fixes";
import { createLogger } from "./core/log";
import { startSidecar } from "./sidecar";

const argv = process.argv.slice(2);
if (wantsHelp(argv)) {
  process.stdout.write(USAGE + "\n");
  process.exit(0);
}
let opts;
try {
  opts = parseProxyArgs(argv, process.env);
} catch (err) {
  if (err instanceof ArgsError) {
    process.stderr.write(`trellis-proxy: ${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  throw err;
}
tuneProxyHeap(opts.heapGrowthPercent);
const log = createLogger(opts.logLevel, { proxy: `${opts.namespace}/${opts.workload}` });
const fixes = installRuntimeFixes();
if (fixes.bindPatched) log.debug("AsyncResource#bind replaced without its deprecated accessor (see runtime-fixes.ts)");
process.on("uncaughtException", (err) => {
  // A bug on one request must not take every other connection down with it.
  log.error("uncaught exception", { error: String(err?.stack ?? err) });
});
process.on("unhandledRejection", (err) => log.error("unhandled rejection", { error: String((err as Error)?.stack ?? err) }));

try {
  const sidecar = await startSidecar(opts, log);
  process.stdout.write(JSON.stringify({ event: "listening", ...sidecar.ports, proxy: `${opts.namespace}/${opts.workload}`, controlPlane: opts.controlPlane }) + "\n");
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    sidecar.stop().then(
      () => process.exit(0),
      (err) => {
        log.error("shutdown failed", { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
} catch (err) {
  log.error("trellis-proxy failed to start", { error: String((err as Error)?.message ?? err) });
  process.exit(1);
}
