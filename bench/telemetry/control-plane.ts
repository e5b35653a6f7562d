import { mkdirSync } from "node:fs";
import pg from "pg";
import { TEST_SERVER_URL, createTestDatabase, tempDataDir } from "../../apps/control/test/helpers/pg";
import { spawnControlPlane } from "../../apps/control/test/helpers/process";
import type { ControlProcess } from "../../apps/control/test/helpers/process";
import type { Cleanup } from "../config-propagation/cleanup";
import { cpuSeconds } from "../config-propagation/rss";
import { apiClient } from "../config-propagation/seed";
import type { Api } from "../config-propagation/seed";
import type { Mesh } from "./mesh";
import type { Options } from "./options";

export interface ControlPlane {
  cp: ControlProcess;
  api: Api;
  /**
   * Starts measuring the CPU of the PostgreSQL backends serving this control plane's database
   * (none with PGlite); the returned function gives their CPU seconds since, counting only
   * backends alive at both ends (a backend that exits takes its counter with it).
   */
  pgCpu(): Promise<() => number>;
  stop(): Promise<void>;
}

/** The control plane as its own process on a fresh database (dropped at the end), with the mesh's Services applied. */
export async function startControlPlane(o: Options, mesh: Mesh, cleanup: Cleanup): Promise<ControlPlane> {
  const env: Record<string, string> = { TRELLIS_REPLICA_ID: "bench-telemetry", TRELLIS_LOG_LEVEL: "warn" };
  if (o.memoryMb !== undefined) env.TRELLIS_TELEMETRY_MEMORY_MB = String(o.memoryMb);
  let dbName: string | undefined;
  if (o.database === "postgres") {
    const db = await createTestDatabase("trellis_bench_telemetry");
    cleanup.add(`drop database ${db.name}`, () => db.drop());
    env.DATABASE_URL = db.url;
    env.TRELLIS_DATA_DIR = "/nonexistent-data-dir-postgres-bench";
    dbName = db.name;
  } else {
    const dir = await tempDataDir("trellis-bench-telemetry-");
    cleanup.add(`remove ${dir.path}`, () => dir.remove());
    env.TRELLIS_DATA_DIR = dir.path;
  }
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  const nodeArgs = [...o.cpNodeArgs, ...(o.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProfDir}`] : [])];
  const cp = await spawnControlPlane(env, { runtime: o.cpRuntime, nodeArgs, timeoutMs: 120_000 });
  const stop = cleanup.add("stop the control plane", () => cp.stop());
  const api = apiClient(cp.api);
  const head = await api.revisions.head.query();
  const upserts = Array.from({ length: mesh.services }, (_, s) => mesh.serviceResource(s));
  await api.resources.write.mutate({ baseRevision: head, upserts, message: `bench telemetry: ${mesh.services} services` });
  const pgCpu = async () => {
    const before = new Map((dbName ? await backendPids(dbName) : []).map((p) => [p, cpuSeconds(p)]));
    return () => [...before].reduce((sum, [p, c0]) => sum + Math.max(0, (cpuSeconds(p) ?? c0 ?? 0) - (c0 ?? 0)), 0);
  };
  return { cp, api, pgCpu, stop };
}

async function backendPids(dbName: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: TEST_SERVER_URL });
  await client.connect();
  try {
    const r = await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [dbName]);
    return r.rows.map((x) => x.pid);
  } finally {
    await client.end();
  }
}
