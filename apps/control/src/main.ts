#!/usr/bin/env -S node --import tsx
/**
 * trellis-control: starts one control-plane replica and prints where it listens. The first
 * stdout line is JSON ({"event":"listening",...}) so launchers and tests can read the ports.
 */
import { startControlPlane } from "./app";
import { readEnv, redactUrl } from "./env";
import { allocatorInUse, controlPlaneMallocEnv, JEMALLOC_CONF } from "./allocator";
import { CONTROL_PLANE_NODE_FLAGS, tuneHeap } from "./heap";
import { createLogger } from "./log";

const env = readEnv();
const log = createLogger(env.TRELLIS_LOG_LEVEL, { replica: env.TRELLIS_REPLICA_ID });
const heap = tuneHeap(env.TRELLIS_HEAP_GROWTH_PERCENT);
if (heap.missingFlags.length > 0) {
  log.warn("started without the control plane's node flags: the heap keeps more head-room than it needs (about +60 MB RSS at 2000 proxies)", { missing: heap.missingFlags, startWith: `node ${CONTROL_PLANE_NODE_FLAGS.join(" ")} apps/control/dist/main.mjs`, orSet: `NODE_OPTIONS=${CONTROL_PLANE_NODE_FLAGS.join(" ")}` });
}
if (allocatorInUse() === "system") {
  const lib = controlPlaneMallocEnv().LD_PRELOAD;
  log.warn("started on the system malloc, which keeps freed memory resident: about +40 MB RSS at 2000 proxies (apps/control/src/allocator.ts)", lib ? { startWith: `LD_PRELOAD=${lib} MALLOC_CONF=${JEMALLOC_CONF}` } : { install: "libjemalloc2 (Debian), then start with LD_PRELOAD=<its libjemalloc.so.2> MALLOC_CONF=" + JEMALLOC_CONF });
}
log.info("starting control plane", { database: env.DATABASE_URL ? redactUrl(env.DATABASE_URL) : `embedded PGlite in ${env.TRELLIS_DATA_DIR}` });

const cp = await startControlPlane(env, log);
process.stdout.write(JSON.stringify({ event: "listening", api: cp.apiUrl, grpc: cp.grpcAddress, grpcTls: cp.grpcTlsAddress, replica: cp.replicaId, database: cp.db.backend }) + "\n");
if (cp.firstAdmin?.generatedPassword) {
  // Once, on stdout (not in the logs): the operator's way in. Set TRELLIS_ADMIN_PASSWORD to choose it instead.
  process.stdout.write(`First start: created user '${cp.firstAdmin.username}' with password ${cp.firstAdmin.generatedPassword}\n  (shown this once; change it with auth.changePassword)\n`);
}
process.stdout.write(`Trellis control plane ready\n  API (tRPC):   ${cp.apiUrl}/trpc\n  config gRPC:  ${cp.grpcAddress === "off" ? "plaintext port off" : `${cp.grpcAddress} (plaintext)`}, ${cp.grpcTlsAddress} (TLS: mTLS streams, identity)\n  database:     ${cp.db.backend === "postgres" ? cp.db.target : `embedded PGlite (${env.TRELLIS_DATA_DIR})`}\n`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    cp.close().then(
      () => process.exit(0),
      (err: Error) => {
        log.error("shutdown failed", { cause: err.message });
        process.exit(1);
      },
    );
  });
}
