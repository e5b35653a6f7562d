#!/usr/bin/env -S node --import tsx
/**
 * trellis-demo-bootstrap: what `npm run demo` does before starting the proxies, for
 * docker-compose (a one-shot container): waits for the control plane, signs in as admin, seeds
 * the demo's config (or reconciles the ports a run may change), and writes into BOOTSTRAP_DIR
 * the trust bundle (ca-bundle.pem), one join token per workload (tokens/<workload>, 0600) and
 * the JWT signing key the load generator uses (jwt-key.json). Exits 0 when done.
 *
 * Environment: TRELLIS_API (http://control:15080), TRELLIS_ADMIN_PASSWORD, BOOTSTRAP_DIR
 * (/bootstrap), DEMO_INGRESS_PORT (8080), DEMO_BOOKSTORE_ADDRESS (bookstore),
 * DEMO_BOOKSTORE_PORT (8080), DEMO_SCALE (0).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DemoApi } from "./demo-api";
import { demoResources, NAMESPACE, PORT_BOUND, SEED_MESSAGE, WORKLOADS } from "./resources";
import { jwtKey } from "./secrets";

const env = (name: string, def?: string): string => {
  const v = process.env[name] ?? def;
  if (v === undefined || v === "") {
    process.stderr.write(`trellis-demo-bootstrap: ${name} is required\n`);
    process.exit(2);
  }
  return v;
};
const api = env("TRELLIS_API", "http://control:15080");
const dir = env("BOOTSTRAP_DIR", "/bootstrap");
const port = (name: string, def: string) => {
  const n = Number(env(name, def));
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    process.stderr.write(`trellis-demo-bootstrap: ${name} must be a port number\n`);
    process.exit(2);
  }
  return n;
};

const log = (msg: string, data: Record<string, unknown> = {}) => process.stdout.write(JSON.stringify({ event: "bootstrap", msg, ...data }) + "\n");

const deadline = Date.now() + 120_000;
for (;;) {
  const ok = await fetch(`${api}/readyz`).then((r) => r.ok, () => false);
  if (ok) break;
  if (Date.now() > deadline) {
    process.stderr.write(`trellis-demo-bootstrap: the control plane at ${api} was not ready within 120 s\n`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 1000));
}
const client = await DemoApi.signIn(api, "admin", env("TRELLIS_ADMIN_PASSWORD"));
mkdirSync(path.join(dir, "tokens"), { recursive: true, mode: 0o700 });
const jwt = await jwtKey(path.join(dir, "jwt-key.json"));
const resources = demoResources({ ingressPort: port("DEMO_INGRESS_PORT", "8080"), jwks: jwt.jwks, bookstore: { address: env("DEMO_BOOKSTORE_ADDRESS", "bookstore"), port: port("DEMO_BOOKSTORE_PORT", "8080") }, scale: Number(env("DEMO_SCALE", "0")) });
const seeded = await client.seed(resources, SEED_MESSAGE, PORT_BOUND);
log("config", seeded);
writeFileSync(path.join(dir, "ca-bundle.pem"), await client.caBundle());
for (const w of WORKLOADS) writeFileSync(path.join(dir, "tokens", w.workload), (await client.joinToken(NAMESPACE, w.service)) + "\n", { mode: 0o600 });
log("done", { workloads: WORKLOADS.map((w) => w.workload) });
