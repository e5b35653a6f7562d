// New mTLS connections to a sidecar's inbound listener as fast as `concurrency` loops can open
// them, for `seconds`: each is a full handshake (no session resumption) with a mesh client
// certificate, counted once the server's first HTTP/2 frame (its SETTINGS) arrives, i.e. after
// it verified the certificate and handed the connection to its HTTP/2 server.
// usage: node handshakes.mjs <port> <identity dir: key.pem cert.pem bundle.pem> <concurrency> <seconds>
// Prints one JSON line: {handshakes, errors, firstError, wallS, latencyMs: {p50, p99}}.
import { readFileSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";

const [port, dir, concurrency, seconds] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4] ?? 8), Number(process.argv[5] ?? 5)];
const material = { key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")), ca: readFileSync(path.join(dir, "bundle.pem")) };
// One secure context for all: the client's own setup is not what is measured.
const secureContext = tls.createSecureContext(material);

const latencies = [];
let errors = 0;
let firstError;
const started = performance.now();
const deadline = started + seconds * 1000;

function once() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = tls.connect({ host: "127.0.0.1", port, secureContext, ALPNProtocols: ["h2"], checkServerIdentity: () => undefined });
    let settled = false;
    const done = (ok, err) => {
      if (settled) return;
      settled = true;
      s.destroy();
      if (ok) latencies.push(performance.now() - t0);
      else {
        errors++;
        firstError ??= err?.code ?? err?.message ?? String(err);
      }
      resolve();
    };
    s.once("data", () => done(true));
    s.once("error", (err) => done(false, err));
    s.once("close", () => done(false, new Error("closed before the server's first frame")));
  });
}

async function loop() {
  while (performance.now() < deadline) await once();
}

await Promise.all(Array.from({ length: concurrency }, loop));
const wallS = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : NaN);
process.stdout.write(JSON.stringify({ handshakes: latencies.length, errors, firstError, wallS, latencyMs: { p50: pct(50), p99: pct(99) } }) + "\n");
