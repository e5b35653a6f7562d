import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

// The production bundle (scripts/build-app.mjs proxy → apps/proxy/dist/main.mjs) starts on plain
// node and loads only what a sidecar uses: not Node's bundled undici (which an ES import of
// node:http pulls in on Node 24) and not undici's fetch side (the package index), ~15 MB of RSS
// each; nor OpenTelemetry's metrics and logs SDKs, which the OTLP transformer's index loads.
// A preload reports what the process loaded once it listens.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

test("the proxy bundle starts on plain node without Node's bundled undici, undici's index or the OpenTelemetry metrics SDK", async (t) => {
  const built = spawnSync(process.execPath, [path.join(root, "scripts/build-app.mjs"), "proxy"], { cwd: root, encoding: "utf8" });
  assert.equal(built.status, 0, `build failed: ${built.stdout}${built.stderr}`);
  const dir = mkdtempSync(path.join(tmpdir(), "trellis-proxy-bundle-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const probe = path.join(dir, "probe.cjs");
  writeFileSync(
    probe,
    `process.on("SIGUSR2", () => process.stderr.write("LOADED " + JSON.stringify({
      nodeUndici: process.moduleLoadList.some((m) => m.includes("deps/undici")),
      undiciIndex: Object.keys(require.cache).some((f) => /[\\\\/]undici[\\\\/]index\\.js$/.test(f)),
      undiciPool: Object.keys(require.cache).some((f) => /[\\\\/]undici[\\\\/]lib[\\\\/]dispatcher[\\\\/]pool\\.js$/.test(f)),
      otlpTraceSerializer: Object.keys(require.cache).some((f) => /otlp-transformer[\\\\/]build[\\\\/]src[\\\\/]trace[\\\\/]protobuf[\\\\/]trace\\.js$/.test(f)),
      otlpTransformerIndex: Object.keys(require.cache).some((f) => /otlp-transformer[\\\\/]build[\\\\/]src[\\\\/]index\\.js$/.test(f)),
      sdkMetrics: Object.keys(require.cache).some((f) => /[\\\\/]sdk-metrics[\\\\/]/.test(f)),
    }) + "\\n"));`,
  );
  const args = ["--require", probe, path.join(root, "apps/proxy/dist/main.mjs"), "--service", "bundle", "--app-port", "1", "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0", "--control-plane", "127.0.0.1:1", "--data-dir", path.join(dir, "data"), "--log-level", "error"];
  const child = spawn(process.execPath, args, { cwd: "/", stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => void child.kill("SIGKILL"));
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!out.includes('"event":"listening"')) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `the bundle did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // The undici Pool the proxy talks HTTP/1.1 with is loaded at start (transport/h1-upstream.ts).
  child.kill("SIGUSR2");
  while (!err.includes("LOADED ")) {
    assert.ok(Date.now() < deadline, `no report from the preload: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const loaded = JSON.parse(err.slice(err.indexOf("LOADED ") + 7).split("\n")[0]!) as Record<string, boolean>;
  // The span exporter is built at start too (tracing/otlp-exporter.ts), from the trace serializer's
  // own module: not the otlp-transformer index, which loads the metrics and logs SDKs as well.
  assert.deepEqual(loaded, { nodeUndici: false, undiciIndex: false, undiciPool: true, otlpTraceSerializer: true, otlpTransformerIndex: false, sdkMetrics: false });
});
