#!/usr/bin/env -S node --import tsx
/**
 * trellis-demo-load: steady traffic through the ingress, a realistic mix of paths, some with a
 * JWT (the ingress requires one on /api/*), printing its own success rate and latency every
 * few seconds. Open loop: request i leaves at start + i / rate whatever earlier ones do.
 *
 *   trellis-demo-load --target http://127.0.0.1:8080 [--rate 20] [--every-s 5] [--jwt-key FILE] [--duration-s N]
 *
 * --jwt-key: a JSON file {"privateJwk": …, "issuer": …} to sign tokens with (the demo writes one);
 * without it only the pages that need no token are requested.
 * Each report is one JSON line on stdout: {"event":"stats", sent, ok, okPct, p50Ms, p99Ms, byStatus}.
 */
import http from "node:http";
import { readFileSync } from "node:fs";
import { importJWK, SignJWT } from "jose";
import type { JWK } from "jose";

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  const eq = a.indexOf("=");
  if (eq > 0) args.set(a.slice(2, eq), a.slice(eq + 1));
  else args.set(a.slice(2), process.argv[++i] ?? "");
}
const num = (name: string, def: number) => {
  const v = Number(args.get(name) ?? def);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`trellis-demo-load: --${name} must be a positive number\n`);
    process.exit(2);
  }
  return v;
};
const target = new URL(args.get("target") ?? process.env.DEMO_TARGET ?? "http://127.0.0.1:8080");
const rate = num("rate", Number(process.env.DEMO_RATE ?? 20));
const everyS = num("every-s", 5);
const durationS = args.has("duration-s") ? num("duration-s", 0) : Infinity;

/** The mix: [weight, path, with a JWT]. */
const MIX: Array<[number, string, boolean]> = [
  [55, "/productpage?u=normal", false],
  [15, "/productpage?u=test", false],
  [20, "/api/v1/products", true],
  [10, "/api/v1/products/0/reviews", true],
];

let sign: (() => Promise<string>) | undefined;
const keyFile = args.get("jwt-key") ?? process.env.DEMO_JWT_KEY;
if (keyFile) {
  const { privateJwk, issuer } = JSON.parse(readFileSync(keyFile, "utf8")) as { privateJwk: JWK; issuer: string };
  const key = await importJWK(privateJwk, "ES256");
  let cached: { token: string; until: number } | undefined;
  sign = async () => {
    if (!cached || cached.until < Date.now()) {
      const users = ["alice", "bob", "carol"];
      cached = { token: await new SignJWT({ scope: "products:read" }).setProtectedHeader({ alg: "ES256", kid: privateJwk.kid ?? "demo" }).setIssuer(issuer).setSubject(users[Math.floor(Math.random() * users.length)]!).setIssuedAt().setExpirationTime("10m").sign(key), until: Date.now() + 60_000 };
    }
    return cached.token;
  };
}

if (!sign) MIX.splice(0, MIX.length, ...MIX.filter((m) => !m[2]));
const totalWeight = MIX.reduce((s, m) => s + m[0], 0);

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let window = { sent: 0, ok: 0, latencies: [] as number[], byStatus: {} as Record<string, number> };
const totals = { sent: 0, ok: 0 };

function pick(): [string, boolean] {
  let x = Math.random() * totalWeight;
  for (const [w, path, jwt] of MIX) {
    if (x < w) return [path, jwt];
    x -= w;
  }
  return [MIX[0]![1], MIX[0]![2]];
}

async function once(): Promise<void> {
  const [path, withJwt] = pick();
  const headers: Record<string, string> = {};
  if (withJwt && sign) headers.authorization = `Bearer ${await sign()}`;
  const t0 = performance.now();
  const status = await new Promise<string>((resolve) => {
    const req = http.request({ host: target.hostname, port: target.port || 80, path, headers, agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(String(res.statusCode)));
      res.on("error", () => resolve("reset"));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.message === "timeout" ? "timeout" : (err.code ?? "error")));
    req.end();
  });
  window.sent++;
  totals.sent++;
  window.byStatus[status] = (window.byStatus[status] ?? 0) + 1;
  if (status.startsWith("2")) {
    window.ok++;
    totals.ok++;
  }
  window.latencies.push(performance.now() - t0);
}

function report(): void {
  const l = window.latencies.sort((a, b) => a - b);
  const pct = (p: number) => (l.length ? Number(l[Math.min(l.length - 1, Math.floor(p * l.length))]!.toFixed(1)) : null);
  const line = { event: "stats", at: new Date().toISOString(), target: target.origin, rate, sent: window.sent, ok: window.ok, okPct: window.sent ? Number(((100 * window.ok) / window.sent).toFixed(2)) : null, p50Ms: pct(0.5), p99Ms: pct(0.99), byStatus: window.byStatus, totalSent: totals.sent, totalOkPct: totals.sent ? Number(((100 * totals.ok) / totals.sent).toFixed(2)) : null };
  process.stdout.write(JSON.stringify(line) + "\n");
  window = { sent: 0, ok: 0, latencies: [], byStatus: {} };
}

const started = performance.now();
let i = 0;
const timer = setInterval(report, everyS * 1000);
const tick = () => {
  const elapsed = (performance.now() - started) / 1000;
  if (elapsed >= durationS) {
    clearInterval(timer);
    report();
    agent.destroy();
    return;
  }
  // Send what is due (a late timer sends the backlog), then sleep until the next one.
  while (i < elapsed * rate) {
    i++;
    void once();
  }
  setTimeout(tick, Math.max(1, ((i + 1) / rate - elapsed) * 1000));
};
process.stdout.write(JSON.stringify({ event: "started", target: target.origin, rate, mix: MIX.map(([w, p, j]) => ({ share: w / totalWeight, path: p, jwt: j })) }) + "\n");
tick();
for (const s of ["SIGINT", "SIGTERM"] as const) process.once(s, () => (report(), process.exit(0)));
