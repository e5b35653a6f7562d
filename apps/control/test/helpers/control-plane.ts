import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { startControlPlane, type ControlPlane } from "../../src/app";
import { readEnv } from "../../src/env";
import { TEST_CA_KEK } from "./process";
import { sessionFor, TEST_ADMIN_PASSWORD } from "./test-auth";
import { createLogger, type Logger } from "../../src/log";
import type { AppRouter } from "../../src/trpc/root";

export type Api = ReturnType<typeof apiClient>;

/** A typed tRPC client over real HTTP, signed in as `user` (see test-auth.ts), as the dashboard uses it. */
export function apiClient(baseUrl: string, user = "tester") {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/trpc`, headers: async () => ({ ...(await sessionFor(baseUrl, user)) }) })] });
}

/** A typed tRPC client sending exactly these headers (none: anonymous). */
export function rawApiClient(baseUrl: string, headers: Record<string, string> = {}) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/trpc`, headers })] });
}

/** Captured log lines of an in-process control plane. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger = createLogger("debug", {}, (l) => this.lines.push(l));
  text(): string {
    return this.lines.join("\n");
  }
}

/** Starts a control-plane replica in this process on ports 0 with short timers for tests. */
export async function startTestControlPlane(opts: { databaseUrl?: string; dataDir?: string; replicaId?: string; log?: LogCapture; /** TRELLIS_CA_KEK; null = unset (the data directory keeps one). */ caKek?: string | null; /** TRELLIS_ADMIN_PASSWORD; null = unset (a generated one). */ adminPassword?: string | null } = {}): Promise<{ cp: ControlPlane; api: Api; log: LogCapture }> {
  const log = opts.log ?? new LogCapture();
  const env = readEnv({
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    TRELLIS_DATA_DIR: opts.dataDir ?? "/nonexistent-data-dir-for-postgres-tests",
    TRELLIS_API_PORT: "0",
    TRELLIS_GRPC_PORT: "0",
    TRELLIS_GRPC_TLS_PORT: "0",
    TRELLIS_REPLICA_ID: opts.replicaId ?? "test-replica",
    TRELLIS_ENDPOINT_GRACE_MS: "300",
    TRELLIS_PUSH_DEBOUNCE_MS: "20",
    TRELLIS_PUSH_MAX_DELAY_MS: "100",
    ...(opts.caKek === null ? {} : { TRELLIS_CA_KEK: opts.caKek ?? TEST_CA_KEK }),
    ...(opts.adminPassword === null ? {} : { TRELLIS_ADMIN_PASSWORD: opts.adminPassword ?? TEST_ADMIN_PASSWORD }),
  });
  const cp = await startControlPlane(env, log.logger);
  return { cp, api: apiClient(cp.apiUrl), log };
}

/** The tRPC error code and Trellis data of a failed call (throws if the call succeeded). */
export async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string; trellisCode?: string; issues?: { path: string; message: string }[]; findings?: { code: string; path: string }[] }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof TRPCError_)) throw err;
    const data = (err as TRPCClientError<AppRouter>).data as Record<string, unknown> | undefined;
    return { code: String(data?.code), message: err.message, ...(data as object) } as never;
  }
  throw new Error("expected the call to fail, but it succeeded");
}
const TRPCError_ = TRPCClientError;

/** grpc port of a control plane's `host:port` address. */
export function grpcPort(cp: ControlPlane): number {
  return Number(cp.grpcAddress.split(":").pop());
}
