/**
 * A real Prometheus server for the history tests: the `prometheus` binary (Debian package
 * `prometheus`, /usr/bin/prometheus) as its own process on a free port, with a temporary
 * config and data directory, scraping the given targets' /metrics every second.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const INSTALL_HINT = "install it with `apt-get update && apt-get install -y prometheus` (Debian package; binary /usr/bin/prometheus), or run .ci/run, which installs it";

/** The prometheus binary: $TRELLIS_PROMETHEUS_BIN, else `prometheus` on PATH, else /usr/bin/prometheus; throws how to install it when there is none. */
export function prometheusBinary(): string {
  const candidates = [process.env.TRELLIS_PROMETHEUS_BIN, ...(process.env.PATH ?? "").split(path.delimiter).map((d) => d && path.join(d, "prometheus")), "/usr/bin/prometheus"];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error(`this test runs a real Prometheus server and no prometheus binary was found: ${INSTALL_HINT}`);
}

/** A port nothing listens on right now (Prometheus needs a concrete port before it starts). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export interface PrometheusProcess {
  url: string;
  child: ChildProcess;
  /** An instant query's vector, as [labels, value] pairs. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts Prometheus on `port` scraping `targets` (`host:port`, path /metrics) every second; resolves once it is ready and every target is up. */
export async function startPrometheus(port: number, targets: string[], timeoutMs = 30_000): Promise<PrometheusProcess> {
  const bin = prometheusBinary();
  const version = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (version.status !== 0) throw new Error(`${bin} --version failed (${version.status}): ${version.stderr}`);
  const dir = mkdtempSync(path.join(tmpdir(), "trellis-prometheus-"));
  const config = path.join(dir, "prometheus.yml");
  writeFileSync(
    config,
    ["global:", "  scrape_interval: 1s", "  scrape_timeout: 900ms", "  evaluation_interval: 1s", "scrape_configs:", "  - job_name: trellis-proxies", "    metrics_path: /metrics", "    static_configs:", `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`, ""].join("\n"),
  );
  const child = spawn(bin, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const query = async (promql: string) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string };
    if (body.status !== "success" || !body.data) throw new Error(`prometheus query ${promql} failed: ${body.error ?? res.status}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => (rmSync(dir, { recursive: true, force: true }), resolve());
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once("exit", done);
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}; stderr:\n${err}`);
    const up = await query("up").catch(() => []);
    if (up.length === targets.length && up.every((u) => u.value === 1)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not scrape every target within ${timeoutMs} ms (up: ${JSON.stringify(up)}); stderr:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, child, query, stderr: () => err, stop };
}
