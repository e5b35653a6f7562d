/**
 * Real data plane for the control plane's end-to-end tests: `trellis-proxy` processes (the
 * proxy's own entry point, run as a process: apps do not import each other's sources) in
 * front of tiny echo apps, and a tRPC client that also speaks subscriptions (SSE through the
 * `eventsource` package: Node 20 has no EventSource of its own).
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource } from "eventsource";
import type { AppRouter } from "../../src/trpc/root";
import { sessionFor } from "./test-auth";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const PROXY_MAIN = path.join(repoRoot, "apps/proxy/src/main.ts");

/** A typed API client whose subscriptions run over SSE, as the dashboard's do; signed in as `user` (test-auth.ts). */
export function streamingClient(baseUrl: string, user = "tester") {
  const url = `${baseUrl}/trpc`;
  const session = () => sessionFor(baseUrl, user);
  // The browser sends the session cookie with its EventSource; the eventsource package takes a fetch to add it.
  const eventSourceOptions = async () => {
    const headers = await session();
    return { fetch: (input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) };
  };
  return createTRPCClient<AppRouter>({
    links: [splitLink({ condition: (op) => op.type === "subscription", true: httpSubscriptionLink({ url, EventSource, eventSourceOptions }), false: httpLink({ url, headers: async () => ({ ...(await session()) }) }) })],
  });
}

/** A trellis-proxy process. */
export interface Sidecar {
  child: ChildProcess;
  outbound: number;
  inbound: number;
  admin: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawns trellis-proxy (ports 0) with `args` and waits for its `listening` line on stdout. */
export async function spawnSidecar(args: string[], timeoutMs = 30_000): Promise<Sidecar> {
  const child = spawn(process.execPath, ["--import", "tsx", PROXY_MAIN, "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0", ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`trellis-proxy did not start; stderr:\n${err}`))), timeoutMs);
    const onExit = (code: number | null) => (clearTimeout(timer), reject(new Error(`trellis-proxy exited with ${code}; stderr:\n${err}`)));
    let out = "";
    const onData = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      child.stdout!.off("data", onData);
      child.stdout!.resume(); // the access log follows; drain it
      resolve(JSON.parse(out.slice(0, nl)) as Record<string, number>);
    };
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
  });
  return {
    child,
    outbound: ports.outbound!,
    inbound: ports.inbound!,
    admin: ports.admin!,
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      }),
  };
}

/** An app answering 200 with its name, or 404 for paths ending in /missing. */
export async function startEchoApp(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const status = req.url?.split("?")[0]?.endsWith("/missing") ? 404 : 200;
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ name, path: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** A request through a sidecar's outbound listener (the app's view of the mesh). */
export function meshRequest(outboundPort: number, host: string, p: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: outboundPort, path: p, headers: { host, ...headers } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Polls until `f` returns a value other than undefined (default 20 s). */
export async function eventually<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
