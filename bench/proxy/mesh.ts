import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnControlPlane } from "../../apps/control/test/helpers/process";
import type { ControlProcess } from "../../apps/control/test/helpers/process";
import { applyResources, trpcMutation, trpcQuery } from "../../apps/proxy/test/helpers/control-plane";
import type { Cleanup } from "../config-propagation/cleanup";
import { freePort, spawnChild, waitFor } from "./children";
import type { Child } from "./children";
import { servesPayload } from "./probe";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PROXY_BUNDLE = path.join(repoRoot, "apps/proxy/dist/main.mjs");
const PROXY_MAIN = path.join(repoRoot, "apps/proxy/src/main.ts");

/** Mesh hosts of the benchmark: the app without a sidecar, and the app behind a server sidecar. */
export const HOSTS = {
  /** Service with `sidecar: false` + a static Workload at the app's port: one proxy on the path. */
  plain: "app-plain:8080",
  /** Service whose one workload is the server sidecar: client sidecar → (HTTP/2) → server sidecar → app. */
  meshed: "app-meshed:8080",
  /** The same behind sidecars with mesh identities and STRICT mTLS: client sidecar → (HTTP/2 over mTLS) → server sidecar → app. */
  mtls: "app-mtls:8080",
} as const;

export interface TrellisProxy {
  name: string;
  child: Child;
  outbound: number;
  inbound: number;
  admin: number;
}

export interface Mesh {
  controlPlane: ControlProcess;
  /** The one proxy: outbound → app-plain → app. */
  single: TrellisProxy;
  /** The sidecar pair: client outbound → server inbound (HTTP/2) → app. */
  client: TrellisProxy;
  server: TrellisProxy;
  /** The mTLS pair (with MeshOptions.mtls): both joined the mesh CA with tokens; the server's PeerAuthentication is STRICT. */
  mtls: { client: TrellisProxy; server: TrellisProxy; clientIdentityDir: string } | undefined;
}

export interface MeshOptions {
  /** bundle: apps/proxy/dist/main.mjs (built first, plain JS, as a sidecar image would run it); tsx: the sources. */
  runtime: "bundle" | "tsx";
  /** Extra node flags for every proxy (e.g. --cpu-prof). */
  nodeArgs: string[];
  /** When set, each proxy's stdout (access log; --trace-gc output) goes to <dir>/<name>.log instead of /dev/null. */
  stdoutDir: string | undefined;
  appPort: number;
  bodyBytes: number;
  dir: string;
  /** Where the proxies export spans: the control plane's /v1/traces, or this URL (the null sink, otlp-sink.mjs). */
  otlpEndpoint: "control-plane" | string;
  /** Also start the mTLS pair. */
  mtls: boolean;
}

/** Builds apps/proxy/dist/main.mjs (scripts/build-app.mjs proxy); throws with its output on failure. */
export function buildProxyBundle(): void {
  const r = spawnSync(process.execPath, [path.join(repoRoot, "scripts/build-app.mjs"), "proxy"], { cwd: repoRoot, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building trellis-proxy failed:\n${r.stdout}${r.stderr}`);
}

const service = (name: string, sidecar: boolean, traceSampling?: number) => ({ kind: "Service", metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 8080, protocol: "http" }], sidecar, ...(traceSampling === undefined ? {} : { traceSampling }) } });

/** The calling service (the single proxy and the client sidecar); `traceSampling` unset = the default 1 %. */
export const benchClientService = (traceSampling?: number) => service("bench-client", true, traceSampling);
/** The called service behind the server sidecar. */
export const benchServerService = (traceSampling?: number) => service("app-meshed", true, traceSampling);
/** The mTLS pair's services, and the PeerAuthentication that makes the server refuse plaintext. */
const mtlsResources = [
  service("bench-client-mtls", true),
  service("app-mtls", true),
  { kind: "PeerAuthentication", metadata: { name: "app-mtls-strict", namespace: "default" }, spec: { selector: { service: "app-mtls" }, mode: "STRICT" } },
];

/**
 * The control plane (production bundle, embedded PGlite in `dir`) with the benchmark's mesh,
 * then three trellis-proxy processes: `single`, and the `client`/`server` pair. Resolves once
 * both paths answer the payload end to end.
 */
export async function startMesh(o: MeshOptions, cleanup: Cleanup, log: (s: string) => void): Promise<Mesh> {
  const dataDir = path.join(o.dir, "control");
  mkdirSync(dataDir, { recursive: true });
  const controlPlane = await spawnControlPlane({ TRELLIS_DATA_DIR: dataDir, TRELLIS_LOG_LEVEL: "warn", TRELLIS_REPLICA_ID: "bench" }, { runtime: "bundle", timeoutMs: 120_000 });
  cleanup.add("stop the control plane", () => controlPlane.stop());
  log(`control plane up (pid ${controlPlane.pid}, PGlite in ${dataDir})`);
  await applyResources(
    controlPlane.api,
    [
      service("app-plain", false),
      { kind: "Workload", metadata: { name: "app-plain-1", namespace: "default" }, spec: { service: "app-plain", address: "127.0.0.1", ports: { http: o.appPort }, sidecar: false } },
      benchServerService(),
      benchClientService(),
      ...(o.mtls ? mtlsResources : []),
    ],
    "proxy benchmark mesh",
  );

  if (o.runtime === "bundle") buildProxyBundle();
  const start = async (name: string, svc: string, appPort: number, identityArgs: string[] = []): Promise<TrellisProxy> => {
    const ports = { outbound: await freePort(), inbound: await freePort(), admin: await freePort() };
    const entry = o.runtime === "bundle" ? [PROXY_BUNDLE] : ["--import", "tsx", PROXY_MAIN];
    const args = [
      ...o.nodeArgs,
      ...entry,
      ...["--service", svc, "--workload", name, "--namespace", "default", "--app-port", String(appPort)],
      ...["--outbound-port", String(ports.outbound), "--inbound-port", String(ports.inbound), "--admin-port", String(ports.admin)],
      ...(identityArgs.length ? identityArgs : ["--control-plane", `127.0.0.1:${controlPlane.grpcPort}`]),
      ...["--data-dir", path.join(o.dir, "proxy", name), "--log-level", "warn"],
      // Sampled spans (1 % by default) are exported for real: to the null sink, or to the control plane's store.
      ...["--otlp-endpoint", o.otlpEndpoint === "control-plane" ? `${controlPlane.api}/v1/traces` : o.otlpEndpoint],
    ];
    // stdout (the access log, one JSON line per request) goes to /dev/null: the ports are
    // chosen here, so the `listening` line is not needed, and /ready says when it serves.
    let stdout: "ignore" | number = "ignore";
    if (o.stdoutDir) {
      mkdirSync(o.stdoutDir, { recursive: true });
      stdout = openSync(path.join(o.stdoutDir, `${name}.log`), "w");
    }
    // A caller's heap-growth setting reaches the proxies (experiments; unset: the proxy's own default).
    const growth = process.env.TRELLIS_PROXY_HEAP_GROWTH_PERCENT;
    const child = spawnChild(name, process.execPath, args, { stdout, cwd: repoRoot, env: growth === undefined ? {} : { TRELLIS_PROXY_HEAP_GROWTH_PERCENT: growth } });
    if (typeof stdout === "number") closeSync(stdout); // the child has its own copy
    cleanup.add(`stop ${name}`, () => child.stop());
    await waitFor(`${name} /ready`, async () => {
      if (child.child.exitCode !== null) throw new Error(`${name} exited with ${child.child.exitCode}: ${child.stderr()}`);
      return (await fetch(`http://127.0.0.1:${ports.admin}/ready`)).status === 200 ? true : undefined;
    }, 30_000);
    return { name, child, ...ports };
  };
  const server = await start("app-meshed-1", "app-meshed", o.appPort);
  const single = await start("bench-single", "bench-client", 1);
  const client = await start("bench-client-1", "bench-client", 1);
  // The client learns the server sidecar's endpoint from a push after the server registered.
  await waitFor(`GET ${HOSTS.plain} through the single proxy`, () => servesPayload(single.outbound, HOSTS.plain, o.bodyBytes), 30_000);
  await waitFor(`GET ${HOSTS.meshed} through the sidecar pair`, () => servesPayload(client.outbound, HOSTS.meshed, o.bodyBytes), 30_000);
  log(`trellis-proxy (${o.runtime}) up: single ${single.child.pid}, client ${client.child.pid}, server ${server.child.pid}`);
  let mtls: Mesh["mtls"];
  if (o.mtls) {
    // As an operator joins workloads: the trust bundle from ca.bundle, one join token per service, the TLS config port.
    const bundle = path.join(o.dir, "ca-bundle.pem");
    writeFileSync(bundle, (await trpcQuery<{ pem: string }>(controlPlane.api, "ca.bundle")).pem);
    const joined = async (name: string, svc: string, appPort: number) => {
      const { token } = await trpcMutation<{ token: string }>(controlPlane.api, "ca.joinTokens.create", { namespace: "default", service: svc });
      return start(name, svc, appPort, ["--control-plane", `127.0.0.1:${controlPlane.grpcTlsPort}`, "--ca-bundle", bundle, "--join-token", token]);
    };
    const mServer = await joined("app-mtls-1", "app-mtls", o.appPort);
    const mClient = await joined("bench-client-mtls-1", "bench-client-mtls", 1);
    await waitFor(`GET ${HOSTS.mtls} through the mTLS pair`, () => servesPayload(mClient.outbound, HOSTS.mtls, o.bodyBytes), 30_000);
    mtls = { client: mClient, server: mServer, clientIdentityDir: path.join(o.dir, "proxy", mClient.name, "identity") };
    log(`mTLS pair up: client ${mClient.child.pid}, server ${mServer.child.pid}`);
  }
  return { controlPlane, single, client, server, mtls };
}
