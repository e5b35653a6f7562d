/**
 * A real control plane for the proxy's end-to-end tests: `trellis-control` as its own OS
 * process (node --import tsx apps/control/src/main.ts), plus a minimal client of its tRPC
 * HTTP API (plain fetch: the proxy does not depend on @trpc/client). Copied from the control
 * plane's own helpers in spirit; apps do not import each other's tests.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sessionFor, TEST_ADMIN_PASSWORD } from "../../../control/test/helpers/test-auth";

/** Every control plane this test process starts shares one CA key-encryption key (replicas on one database must). */
const TEST_CA_KEK = randomBytes(32).toString("base64");
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const MAIN = path.join(repoRoot, "apps/control/src/main.ts");

/** A control-plane replica running as its own process. */
export interface ControlProcess {
  child: ChildProcess;
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:41234` (tRPC under /trpc). */
  api: string;
  grpcPort: number;
  /** `127.0.0.1:<grpcPort>`, a ConfigClient target. */
  grpcTarget: string;
  /** The TLS port (mTLS config stream, Identity service), `host:port`. */
  grpcTlsTarget: string;
  /** The last 20 kB of its stderr (JSON log lines), for failure messages. */
  stderr(): string;
  /** SIGTERM (graceful: Goodbye to every proxy), SIGKILL after 10 s; resolves when it exited. */
  stop(): Promise<void>;
}

/**
 * Spawns the control plane with `env` on top of test defaults (API and gRPC on port 0, short
 * grace and push timers) and waits for its first stdout line, `{"event":"listening",…}`.
 * Pass `TRELLIS_GRPC_PORT` to restart one on the port proxies already know.
 */
export async function spawnControlPlane(env: Record<string, string>, opts: { timeoutMs?: number } = {}): Promise<ControlProcess> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "",
      TRELLIS_API_PORT: "0",
      TRELLIS_GRPC_PORT: "0",
      TRELLIS_GRPC_TLS_PORT: "0",
      TRELLIS_ENDPOINT_GRACE_MS: "300",
      TRELLIS_PUSH_DEBOUNCE_MS: "20",
      TRELLIS_PUSH_MAX_DELAY_MS: "100",
      TRELLIS_CA_KEK: TEST_CA_KEK,
      TRELLIS_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const listening = await new Promise<{ api: string; grpc: string; grpcTls: string }>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`control plane did not start in ${timeoutMs} ms; stderr:\n${err}`))), timeoutMs);
    const onExit = (code: number | null) => (clearTimeout(timer), reject(new Error(`control plane exited with ${code}; stderr:\n${err}`)));
    const onData = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.off("exit", onExit);
      child.stdout.resume(); // keep draining the banner
      resolve(JSON.parse(out.slice(0, nl)) as { api: string; grpc: string; grpcTls: string });
    };
    child.stdout.on("data", onData);
    child.once("exit", onExit);
  });
  const grpcPort = Number(listening.grpc.split(":").pop());
  return {
    child,
    api: listening.api,
    grpcPort,
    grpcTarget: listening.grpc === "off" ? "off" : `127.0.0.1:${grpcPort}`,
    grpcTlsTarget: listening.grpcTls,
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
        child.once("exit", () => (clearTimeout(kill), resolve()));
        child.kill("SIGTERM");
      }),
  };
}

/** A tRPC error answer, with the Trellis details the control plane adds. */
export class TrpcError extends Error {
  constructor(
    readonly procedure: string,
    readonly body: unknown,
  ) {
    super(`${procedure} failed: ${JSON.stringify(body)}`);
  }
}

async function call<T>(url: string, procedure: string, init: RequestInit): Promise<T> {
  const api = url.slice(0, url.indexOf("/trpc/"));
  const res = await fetch(url, { ...init, headers: { "content-type": "application/json", ...(await sessionFor(api, "proxy-tests")), ...init.headers } });
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  if (!res.ok || !body.result) throw new TrpcError(procedure, body.error ?? body);
  return body.result.data;
}

/** GET /trpc/<procedure>?input=…: a tRPC query (no transformer: dates come back as ISO strings). */
export function trpcQuery<T>(api: string, procedure: string, input?: unknown): Promise<T> {
  const query = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  return call<T>(`${api}/trpc/${procedure}${query}`, procedure, { method: "GET" });
}

/** POST /trpc/<procedure>: a tRPC mutation. */
export function trpcMutation<T>(api: string, procedure: string, input: unknown): Promise<T> {
  return call<T>(`${api}/trpc/${procedure}`, procedure, { method: "POST", body: JSON.stringify(input) });
}

/** Config sync status of one proxy, as `proxies.status` returns it. */
export interface ProxyStatusRow {
  proxyId: string;
  state: "SYNCED" | "STALE" | "NACKED";
  latestVersion: string | null;
  lastAckedVersion: string | null;
  lastNackVersion: string | null;
  lastNackReason: string | null;
}

/** Writes resources as one revision on top of the head (`trellis apply`); returns the new revision. */
export async function applyResources(api: string, upserts: unknown[], message = "proxy test"): Promise<number> {
  const head = await trpcQuery<number>(api, "revisions.head");
  const r = await trpcMutation<{ revision: number }>(api, "resources.write", { baseRevision: head, upserts, message });
  return r.revision;
}

/** Polls proxies.status until proxy `id` satisfies `ok` (default 15 s; statuses are flushed about once a second). */
export async function waitForProxyStatus(api: string, id: string, ok: (s: ProxyStatusRow) => boolean, ms = 15_000): Promise<ProxyStatusRow> {
  const deadline = Date.now() + ms;
  let last: ProxyStatusRow | undefined;
  for (;;) {
    last = (await trpcQuery<ProxyStatusRow[]>(api, "proxies.status", {})).find((s) => s.proxyId === id);
    if (last && ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`proxy ${id}: status never became as expected; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
