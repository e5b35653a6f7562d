/**
 * The transport floor: the peer Trellis is compared with. A bare grpc-js server implementing
 * the same ConfigDiscovery service (same proto, same StreamConfig stream, same client), which
 * answers each Hello with a snapshot and, on `POST /push`, writes one precomputed snapshot of
 * `--bytes` bytes to every connected stream. No database, no validation, no compilation, no
 * per-proxy work, no status tracking: what is left is the cost of gRPC/HTTP/2 on Node itself.
 * It is NOT Istio; it is the lower bound any Node.js control plane on grpc-js could reach.
 *
 * Run by run.ts as a child process; prints {"event":"listening","grpc":…,"http":…} and exits
 * on SIGTERM or when its stdin closes (the benchmark went away).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { ConfigDiscoveryService, SNAPSHOT_CONTENT_TYPE } from "@trellis/proto";
import { DEFAULT_HEAP_GROWTH_PERCENT, tuneHeap } from "../../apps/control/src/heap";
import type { ControlMessage, ProxyMessage } from "@trellis/proto";

// The same heap settings as the control plane (its launch flags come from floor-phase.ts), so
// the RSS ratio compares work, not runtime tuning.
tuneHeap(Number(process.env.TRELLIS_HEAP_GROWTH_PERCENT ?? DEFAULT_HEAP_GROWTH_PERCENT));

const arg = process.argv.indexOf("--bytes");
const bytes = arg > 0 ? Number(process.argv[arg + 1]) : 4096;
if (!Number.isInteger(bytes) || bytes < 64) throw new Error(`--bytes must be an integer ≥ 64 (the snapshot body size to imitate), got '${process.argv[arg + 1]}'`);

/** A JSON body of exactly `bytes` bytes carrying `version`. */
function body(version: string): Buffer {
  const head = `{"version":${JSON.stringify(version)},"pad":"`;
  return Buffer.from(head + "x".repeat(bytes - head.length - 2) + `"}`, "utf8");
}

// Precomputed: the initial snapshot and two that alternate, like the benchmark's 90/10 ↔ 10/90 edits.
const snapshots: ControlMessage[] = ["floor-initial", "floor-a", "floor-b"].map((version) => ({ message: { $case: "snapshot", value: { version, contentType: SNAPSHOT_CONTENT_TYPE, body: body(version) } } }));
let current = snapshots[0] as ControlMessage;
let pushes = 0;
const streams = new Set<grpc.ServerDuplexStream<ProxyMessage, ControlMessage>>();

const server = new grpc.Server({ "grpc.keepalive_time_ms": 30_000, "grpc.keepalive_timeout_ms": 10_000 });
server.addService(ConfigDiscoveryService, {
  streamConfig(call: grpc.ServerDuplexStream<ProxyMessage, ControlMessage>) {
    const drop = () => streams.delete(call);
    call.on("data", (m: ProxyMessage) => {
      if (m.message?.$case !== "hello" || streams.has(call)) return; // ACKs are read and ignored
      streams.add(call);
      call.write(current);
    });
    call.on("end", () => (drop(), call.end()));
    call.on("cancelled", drop);
    call.on("error", drop);
    call.on("close", drop);
  },
});
const grpcPort = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));

const api = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/push") return void res.writeHead(404).end("POST /push\n");
  current = snapshots[1 + (pushes++ % 2)] as ControlMessage;
  for (const call of streams) call.write(current);
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ streams: streams.size }));
});
await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));

process.stdout.write(JSON.stringify({ event: "listening", grpc: `127.0.0.1:${grpcPort}`, http: `http://127.0.0.1:${(api.address() as AddressInfo).port}`, bytes }) + "\n");

const stop = () => {
  server.forceShutdown();
  api.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", () => {}); // Ctrl-C reaches the process group; run.ts stops us in order
process.stdin.on("end", stop).resume();
