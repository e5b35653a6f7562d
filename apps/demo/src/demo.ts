#!/usr/bin/env -S node --import tsx
/**
 * `npm run demo`: the whole mesh on this machine. The control plane (embedded PGlite in the
 * data directory, or DATABASE_URL), the demo's config seeded as its first revision, every
 * Bookinfo instance with its own sidecar (joined to the mesh CA with a token; STRICT mTLS),
 * the ingress gateway, the external bookstore stand-in and the load generator; progress while
 * each part becomes healthy, then the URLs and the admin login. Ctrl-C stops everything in
 * reverse order. A second run reuses the data directory: same database, same admin password,
 * the proxies' certificates.
 *
 *   npm run demo -- [--scale N] [--rate R] [--ingress-port 8080] [--api-port 15080]
 *                   [--web-port 3000] [--data-dir .data/demo] [--json] [--no-load] [--no-web]
 *
 * The dashboard (apps/web) is built on the first run (and again when its sources changed)
 * and served on --web-port.
 *
 * `--json` prints one JSON line per event instead of the human progress (tests read it). A
 * port given as 0 is picked free.
 */
import { controlPlaneMallocEnv } from "@trellis/control/allocator";
import { CONTROL_PLANE_NODE_FLAGS } from "@trellis/control/heap";
import { PROXY_NODE_FLAGS } from "@trellis/proxy/node-flags";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DemoApi } from "./demo-api";
import { demoResources, SEED_MESSAGE, INGRESS_SERVICE, NAMESPACE, PORT_BOUND } from "./resources";
import { jwtKey, keptSecret } from "./secrets";
import { freePort, Supervisor } from "./supervisor";
import type { Managed } from "./supervisor";
import { ensureWebBuild } from "./web-build";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const CONTROL_MAIN = path.join(repoRoot, "apps/control/src/main.ts");
const PROXY_MAIN = path.join(repoRoot, "apps/proxy/src/main.ts");
const APP_MAIN = path.join(repoRoot, "apps/demo/src/main.ts");
const LOAD_MAIN = path.join(repoRoot, "apps/demo/src/loadgen.ts");
const WEB_DIR = path.join(repoRoot, "apps/web");
const NEXT_BIN = path.join(repoRoot, "node_modules/next/dist/bin/next");
const TSX = ["--import", "tsx"];

interface Options {
  scale: number;
  rate: number;
  ingressPort: number;
  apiPort: number;
  tlsPort: number;
  bookstorePort: number;
  dataDir: string;
  json: boolean;
  load: boolean;
  web: boolean;
  webPort: number;
}

function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string>();
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument '${a}' (options start with --; see the comment at the top of apps/demo/src/demo.ts)`);
    const eq = a.indexOf("=");
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (a === "--json" || a === "--no-load" || a === "--no-web") bools.add(a.slice(2));
    else flags.set(a.slice(2), argv[++i] ?? "");
  }
  const known = new Set(["scale", "rate", "ingress-port", "api-port", "tls-port", "bookstore-port", "web-port", "data-dir"]);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}; known: ${[...known].map((x) => `--${x}`).join(", ")}, --json, --no-load, --no-web`);
  const int = (name: string, def: number, min: number, max: number) => {
    const raw = flags.get(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected a whole number from ${min} to ${max}, got '${raw}'`);
    return n;
  };
  return {
    scale: int("scale", 0, 0, 5000),
    rate: int("rate", 20, 1, 10_000),
    ingressPort: int("ingress-port", 8080, 0, 65535),
    apiPort: int("api-port", 15080, 0, 65535),
    tlsPort: int("tls-port", 15012, 0, 65535),
    bookstorePort: int("bookstore-port", 15090, 0, 65535),
    dataDir: path.resolve(flags.get("data-dir") ?? process.env.TRELLIS_DEMO_DIR ?? path.join(repoRoot, ".data/demo")),
    json: bools.has("json"),
    load: !bools.has("no-load"),
    web: !bools.has("no-web"),
    webPort: int("web-port", 3000, 0, 65535),
  };
}

/** Bookinfo's instances: each an app process behind its own sidecar. */
const INSTANCES: Array<{ service: string; version: string; protocol: "http" | "http2" | "grpc" | "tcp"; usesMesh: boolean }> = [
  { service: "details", version: "v1", protocol: "http", usesMesh: false },
  { service: "ratings", version: "v1", protocol: "http2", usesMesh: false },
  { service: "inventory", version: "v1", protocol: "tcp", usesMesh: false },
  { service: "reviews", version: "v1", protocol: "grpc", usesMesh: false },
  { service: "reviews", version: "v2", protocol: "grpc", usesMesh: true },
  { service: "reviews", version: "v3", protocol: "grpc", usesMesh: true },
  { service: "productpage", version: "v1", protocol: "http", usesMesh: true },
];

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const say = (event: string, human: string, data: Record<string, unknown> = {}) => {
    if (o.json) process.stdout.write(JSON.stringify({ event, ...data, at: new Date().toISOString() }) + "\n");
    else process.stdout.write(`[demo ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${human}\n`);
  };
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const sup = new Supervisor(path.join(o.dataDir, "logs"));
  let shuttingDown = false;
  const shutdown = async (code: number, why?: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (why) say("stopping", why);
    await sup.stopAll(5_000, (name) => say("stop", `stopping ${name}`, { name }));
    say("stopped", "everything stopped");
    process.exit(code);
  };
  // The first Ctrl-C stops everything in order; an impatient second one must not leave the
  // children orphaned (a default signal death skips every handler): it kills them outright.
  let signals = 0;
  for (const s of ["SIGINT", "SIGTERM"] as const) {
    process.on(s, () => {
      signals++;
      if (signals === 1) return void shutdown(0, `${s}: stopping everything (reverse order)`);
      say("killing", `${s} again: killing every process now`);
      sup.killAll();
      process.exit(130);
    });
  }

  try {
    const adminPassword = keptSecret(path.join(o.dataDir, "admin-password"), () => randomBytes(15).toString("base64url"));
    const jwt = await jwtKey(path.join(o.dataDir, "jwt-key.json"));
    const ingressPort = o.ingressPort || (await freePort());
    const bookstorePort = o.bookstorePort || (await freePort());
    const tlsPort = o.tlsPort || (await freePort());

    say("starting", `data in ${o.dataDir}${process.env.DATABASE_URL ? " (database: DATABASE_URL)" : " (embedded PGlite)"}; logs in ${sup.logDir}`);
    const control = await sup.start("control-plane", [...CONTROL_PLANE_NODE_FLAGS, ...TSX, CONTROL_MAIN], {
      // jemalloc when this machine has Debian's libjemalloc2 (allocator.ts); without it the control plane says so.
      ...controlPlaneMallocEnv(),
      TRELLIS_DATA_DIR: path.join(o.dataDir, "control"),
      TRELLIS_API_PORT: String(o.apiPort),
      TRELLIS_GRPC_TLS_PORT: String(tlsPort),
      // Zero trust: every proxy joins the mesh CA; there is no plaintext config stream.
      TRELLIS_GRPC_PLAINTEXT: "false",
      TRELLIS_GRPC_PORT: "0",
      TRELLIS_ADMIN_PASSWORD: adminPassword,
      TRELLIS_LOG_LEVEL: process.env.TRELLIS_LOG_LEVEL ?? "info",
    }, 120_000);
    const apiUrl = String(control.listening["api"]);
    const controlTls = String(control.listening["grpcTls"]);
    say("control-plane", `control plane up: API ${apiUrl}, mTLS config ${controlTls}`, { api: apiUrl, grpcTls: controlTls });

    const api = await DemoApi.signIn(apiUrl, "admin", adminPassword);
    const bookstore = await sup.start("bookstore", [...TSX, APP_MAIN, "bookstore", "--port", String(bookstorePort)], {});
    const resources = demoResources({ ingressPort, jwks: jwt.jwks, bookstore: { address: "127.0.0.1", port: bookstorePort }, scale: o.scale });
    // The ingress and bookstore ports may differ between runs (--ingress-port 0): those resources follow this run's.
    const seeded = await api.seed(resources, SEED_MESSAGE, PORT_BOUND);
    say("config", seeded.created ? `config seeded as revision ${seeded.revision} (${resources.length} resources)` : seeded.added > 0 ? `config kept from the last run; ${seeded.added} resources added or moved to this run's ports (revision ${seeded.revision})` : `config kept from the last run (revision ${seeded.revision})`, { revision: seeded.revision, created: seeded.created });
    const bundleFile = path.join(o.dataDir, "ca-bundle.pem");
    // Problems on demand: `{"failureRate": 0.5}` in knobs/<workload>.json makes that instance fail half its requests.
    const knobsDir = path.join(o.dataDir, "knobs");
    mkdirSync(knobsDir, { recursive: true });
    writeFileSync(bundleFile, await api.caBundle());
    void bookstore;

    const proxyArgs = async (service: string, workload: string, version: string, extra: string[]) => {
      // The token goes in a 0600 file, not the argument list (which every local user can read).
      const proxyDir = path.join(o.dataDir, "proxies", workload);
      mkdirSync(proxyDir, { recursive: true, mode: 0o700 });
      const tokenFile = path.join(proxyDir, "join-token");
      writeFileSync(tokenFile, (await api.joinToken(NAMESPACE, service)) + "\n", { mode: 0o600 });
      return [...PROXY_NODE_FLAGS, ...TSX, PROXY_MAIN, "--service", service, "--namespace", NAMESPACE, "--workload", workload, "--version", version, "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0", "--control-plane", controlTls, "--ca-bundle", bundleFile, "--join-token-file", tokenFile, "--data-dir", proxyDir, "--otlp-endpoint", `${apiUrl}/v1/traces`, "--log-level", "warn", ...extra];
    };
    const sidecars: Array<{ workload: string; proxy: Managed }> = [];
    for (const inst of INSTANCES) {
      const workload = `${inst.service}-${inst.version}`;
      const appPort = await freePort();
      const proxy = await sup.start(`${workload}-sidecar`, await proxyArgs(inst.service, workload, inst.version, ["--app-port", String(appPort), "--app-protocol", inst.protocol]), {});
      const meshPort = Number(proxy.listening["outbound"]);
      await sup.start(workload, [...TSX, APP_MAIN, inst.service, "--port", String(appPort), "--version", inst.version, "--knobs-file", path.join(knobsDir, `${workload}.json`), ...(inst.usesMesh ? ["--mesh-port", String(meshPort)] : [])], {});
      sidecars.push({ workload, proxy });
      say("instance", `${workload} up with its sidecar (admin :${String(proxy.listening["admin"])})`, { workload, admin: proxy.listening["admin"], outbound: meshPort, inbound: proxy.listening["inbound"] });
    }
    const ingress = await sup.start("ingress-gateway", await proxyArgs(INGRESS_SERVICE, "ingress-0", "v1", ["--mode", "gateway"]), {});
    sidecars.push({ workload: "ingress-0", proxy: ingress });
    const ingressUrl = `http://127.0.0.1:${ingressPort}`;
    say("ingress", `ingress gateway up on ${ingressUrl}`, { ingress: ingressUrl });

    // Healthy: every proxy ready and SYNCED, and a page through the ingress.
    await waitFor("every proxy to be ready", 60_000, async () => {
      for (const s of sidecars) if ((await fetch(`http://127.0.0.1:${String(s.proxy.listening["admin"])}/ready`).catch(() => undefined))?.status !== 200) return false;
      return true;
    });
    const synced = await waitFor("every proxy to be SYNCED", 60_000, async () => {
      const status = await api.proxyStatus();
      const ours = sidecars.map((s) => status.find((p) => p.proxyId === `${NAMESPACE}/${s.workload}`));
      return ours.every((p) => p?.state === "SYNCED") ? ours.length : false;
    });
    say("synced", `${synced} proxies SYNCED`, { proxies: synced });
    await waitFor("the product page through the ingress", 60_000, async () => (await fetch(`${ingressUrl}/productpage`).catch(() => undefined))?.status === 200);
    say("healthy", `GET ${ingressUrl}/productpage answers 200`);

    if (o.load) {
      const load = await sup.start("load-generator", [...TSX, LOAD_MAIN, "--target", ingressUrl, "--rate", String(o.rate), "--jwt-key", jwt.keyFile, "--every-s", "5"], {});
      load.onLine((line) => {
        try {
          const s = JSON.parse(line) as { event: string; sent: number; okPct: number | null; p50Ms: number | null; p99Ms: number | null; byStatus: Record<string, number> };
          if (s.event !== "stats") return;
          if (o.json) process.stdout.write(line + "\n");
          else say("load", `load: ${s.sent} requests, ${s.okPct ?? "–"} % ok, p50 ${s.p50Ms ?? "–"} ms, p99 ${s.p99Ms ?? "–"} ms ${JSON.stringify(s.byStatus)}`);
        } catch {
          // not a stats line
        }
      });
    }

    let webUrl: string | undefined;
    if (o.web) {
      await ensureWebBuild(WEB_DIR, NEXT_BIN, () => say("web", "building the dashboard (next build; once, and again when apps/web changes)…"));
      const webPort = o.webPort || (await freePort());
      await sup.startServer("dashboard", [NEXT_BIN, "start", "-p", String(webPort), "-H", "127.0.0.1"], { TRELLIS_API_URL: apiUrl, NEXT_TELEMETRY_DISABLED: "1" }, WEB_DIR, `http://127.0.0.1:${webPort}/login`);
      webUrl = `http://127.0.0.1:${webPort}`;
      say("web", `dashboard up on ${webUrl}`, { web: webUrl });
    }

    say(
      "ready",
      [
        "the mesh is up:",
        `  Bookinfo      ${ingressUrl}/productpage   (API: ${ingressUrl}/api/v1/products needs a JWT; the load generator signs with ${jwt.keyFile})`,
        ...(webUrl ? [`  Dashboard     ${webUrl}   (sign in: admin / ${adminPassword})`] : []),
        `  Control API   ${apiUrl}/trpc   (sign in: admin / ${adminPassword}; the password is kept in ${path.join(o.dataDir, "admin-password")})`,
        `  Metrics       each sidecar's /metrics: ${sidecars.map((s) => `${s.workload} :${String(s.proxy.listening["admin"])}`).join(", ")}`,
        `  Logs          ${sup.logDir}`,
        "Ctrl-C stops everything.",
      ].join("\n"),
      { api: apiUrl, ingress: ingressUrl, web: webUrl ?? null, admin: { username: "admin", password: adminPassword }, proxies: Object.fromEntries(sidecars.map((s) => [s.workload, s.proxy.listening])), dataDir: o.dataDir, pids: sup.pids() },
    );

    // Watch for a part that dies on its own.
    const watch = setInterval(() => {
      const dead = sup.crashed();
      if (dead.length > 0) {
        clearInterval(watch);
        void shutdown(1, `${dead.map((d) => d.name).join(", ")} exited unexpectedly; see ${dead[0]!.logFile}`);
      }
    }, 1_000);
  } catch (err) {
    say("failed", `failed: ${(err as Error).message}`, { error: (err as Error).message });
    await shutdown(1);
  }
}

async function waitFor<T>(what: string, ms: number, check: () => Promise<T | false>): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

await main();
