/**
 * One process of the load generator: a ConfigDiscovery stream per fake proxy, each on its own
 * HTTP/2 connection (local subchannel pool) as real proxies would. A fake proxy says Hello,
 * ACKs every snapshot at once and, while telemetry is on, writes one delta a second at its own
 * offset within the second (proxies are not synchronised), pre-encoded (wire.ts) so sending
 * costs little. Every send is timed against its schedule, so the orchestrator can tell whether
 * the generator kept up. Driven by load.ts over IPC; exits when the orchestrator goes away.
 */
import * as grpc from "@grpc/grpc-js";
import { ConfigDiscoveryService, ControlMessage } from "@trellis/proto";
import { HTTP_PORT, Mesh, NAMESPACE, serviceName } from "./mesh";
import { nowUs } from "./load-protocol";
import type { FromWorker, SendStats, SyncState, ToWorker } from "./load-protocol";
import { deltaOf } from "./traffic";
import { encodeDeltaBody, encodeProxyMessage, telemetryMessage } from "./wire";

interface FakeProxy {
  index: number;
  client: grpc.Client;
  call: grpc.ClientDuplexStream<Buffer, ControlMessage>;
  version: string;
  ended: string | undefined;
  /** Offset of its sends within each second, µs. */
  phaseUs: number;
  sequence: number;
  /** Encoded delta bodies, one per second of the cycle. */
  bodies: Uint8Array[];
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": 64 << 20 };
const METHOD = ConfigDiscoveryService.streamConfig.path;
/** Golden-ratio spacing spreads the proxies' offsets evenly over the second whatever their number. */
const PHI = 0.6180339887498949;

const proxies: FakeProxy[] = [];
let mesh: Mesh | undefined;
let snapshots = 0;
let lastSnapshotAt = 0;
let stats: SendStats = emptyStats();

function emptyStats(): SendStats {
  return { sent: 0, bytes: 0, lateMs: [], backpressured: 0, rejected: 0, rejectReasons: [] };
}

function open(target: string, j: number, m: Mesh): FakeProxy {
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  // waitForReady: a refused or reset connection during the connect storm is retried, as a real proxy would.
  const call = client.makeBidiStreamRequest(METHOD, (b: Buffer) => b, (b: Buffer) => ControlMessage.decode(b), new grpc.Metadata({ waitForReady: true }));
  const p: FakeProxy = { index: j, client, call, version: "", ended: undefined, phaseUs: Math.floor(((j * PHI) % 1) * 1e6), sequence: 0, bodies: [] };
  call.on("data", (msg: ControlMessage) => {
    const c = msg.message;
    if (c?.$case === "snapshot") {
      if (p.ended === undefined) call.write(encodeProxyMessage({ message: { $case: "ack", value: { version: c.value.version } } }));
      snapshots++;
      lastSnapshotAt = nowUs();
      p.version = c.value.version;
    } else if (c?.$case === "telemetryRejected") {
      stats.rejected++;
      if (stats.rejectReasons.length < 3) stats.rejectReasons.push(`${m.workloadOf(j)} #${c.value.sequence}: ${c.value.reason}`);
    }
  });
  const end = (why: string) => (p.ended ??= why);
  call.on("error", (e: grpc.ServiceError) => end(`${grpc.status[e.code] ?? e.code}: ${e.details}`));
  call.on("status", (s: grpc.StatusObject) => end(`${grpc.status[s.code] ?? s.code}: ${s.details}`));
  const hello = {
    workload: m.workloadOf(j),
    service: serviceName(m.serviceOf(j)),
    namespace: NAMESPACE,
    labels: { version: m.versionOf(j) },
    // Unique loopback addresses; nothing connects to them (there is no data plane here).
    address: `127.0.${Math.floor(j / 250) % 256}.${(j % 250) + 1}`,
    ports: [{ ...HTTP_PORT }],
    proxyVersion: "bench-telemetry",
    lastVersion: "",
    inboundPort: 0,
  };
  call.write(encodeProxyMessage({ message: { $case: "hello", value: hello } }));
  return p;
}

async function connect(target: string, from: number, to: number, services: number, total: number): Promise<void> {
  mesh = new Mesh(services, total);
  for (let j = from; j < to; j++) {
    proxies.push(open(target, j, mesh));
    if ((j - from) % 100 === 99) await new Promise((r) => setImmediate(r)); // let replies in during a large connect
  }
}

function prepare(cycle: number): void {
  const m = mesh!;
  for (const p of proxies) {
    const inbound = m.inboundCallers(p.index);
    const tcpInbound = m.inboundCallers(p.index, true);
    p.bodies = Array.from({ length: cycle }, (_, k) => encodeDeltaBody(deltaOf(m, p.index, k + 1, inbound, tcpInbound)));
  }
}

function syncState(): SyncState {
  const s: SyncState = { total: proxies.length, synced: 0, ended: 0, endReasons: [], snapshots, lastSnapshotAt };
  for (const p of proxies) {
    if (p.version !== "") s.synced++;
    if (p.ended !== undefined) {
      s.ended++;
      if (s.endReasons.length < 3) s.endReasons.push(`${mesh?.workloadOf(p.index)}: ${p.ended}`);
    }
  }
  return s;
}

// The schedule: proxies sorted by offset; each round (second) sends them all in that order.
let order: FakeProxy[] = [];
let running = false;
let startUs = 0;
let cursor = 0;
let round = 0;
let timer: NodeJS.Timeout | undefined;

function send(p: FakeProxy, lateUs: number): void {
  if (p.ended !== undefined || p.bodies.length === 0) return;
  p.sequence++;
  const msg = telemetryMessage(p.bodies[(p.sequence - 1) % p.bodies.length]!, p.sequence);
  if (!p.call.write(msg)) stats.backpressured++;
  stats.sent++;
  stats.bytes += msg.length;
  stats.lateMs.push(Math.round(lateUs / 10) / 100);
}

function pump(): void {
  timer = undefined;
  const now = nowUs();
  while (running) {
    const p = order[cursor]!;
    const due = startUs + round * 1e6 + p.phaseUs;
    if (due > now) {
      timer = setTimeout(pump, Math.max(0, Math.floor((due - now) / 1000)));
      return;
    }
    send(p, now - due);
    if (++cursor === order.length) {
      cursor = 0;
      round++;
    }
  }
}

function start(atUs: number): void {
  order = [...proxies].sort((a, b) => a.phaseUs - b.phaseUs);
  if (order.length === 0) return;
  running = true;
  startUs = atUs;
  cursor = 0;
  round = 0;
  pump();
}

function stop(): void {
  running = false;
  if (timer) clearTimeout(timer);
  timer = undefined;
}

function reply(m: FromWorker): void {
  process.send?.(m);
}

process.on("message", (m: ToWorker) => {
  switch (m.t) {
    case "connect":
      void connect(m.target, m.from, m.to, m.services, m.proxies).then(() => reply({ t: "ok", seq: m.seq }));
      return;
    case "prepare": {
      const t0 = performance.now();
      prepare(m.cycle);
      return reply({ t: "ok", seq: m.seq, ms: performance.now() - t0 });
    }
    case "sync":
      return reply({ t: "sync", seq: m.seq, state: syncState() });
    case "start":
      start(m.atUs);
      return reply({ t: "ok", seq: m.seq });
    case "stop":
      stop();
      return reply({ t: "ok", seq: m.seq });
    case "stats": {
      const s = stats;
      if (m.reset) stats = emptyStats();
      return reply({ t: "stats", seq: m.seq, stats: s });
    }
    case "close":
      stop();
      for (const p of proxies) {
        p.ended ??= "closed by the bench";
        p.call.cancel();
        p.client.close();
      }
      reply({ t: "ok", seq: m.seq });
      setTimeout(() => process.exit(0), 100).unref();
      return;
  }
});
process.on("disconnect", () => process.exit(0));
process.on("SIGINT", () => {}); // Ctrl-C reaches the whole process group; the orchestrator closes us in order
