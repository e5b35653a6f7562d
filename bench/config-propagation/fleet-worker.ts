/**
 * One process of the fake-proxy fleet: holds a ConfigDiscovery stream per fake proxy, each on
 * its own HTTP/2 connection (local subchannel pool) as real proxies would, reads only the
 * version and body size of each snapshot and ACKs it at once. No zod, no JSON parsing: the
 * fleet must cost as little CPU as possible because it shares the machine with the server.
 * Driven by fleet.ts over IPC; exits when the orchestrator goes away.
 */
import * as grpc from "@grpc/grpc-js";
import { ConfigDiscoveryClient } from "@trellis/proto";
import type { ControlMessage, ProxyMessage } from "@trellis/proto";
import { nowUs, proxySpec } from "./fleet-protocol";
import type { ChangeState, FromWorker, SyncState, ToWorker } from "./fleet-protocol";

interface FakeProxy {
  index: number;
  client: grpc.Client;
  call: grpc.ClientDuplexStream<ProxyMessage, ControlMessage>;
  version: string;
  bytes: number;
  /** Receipt time of the first snapshot (µs, 0 = none yet). */
  firstAt: number;
  ended: string | undefined;
  /** Version when the current change was armed, and when a different one first arrived (µs, 0 = not yet). */
  baseline: string;
  changedAt: number;
  expected: boolean;
}

const proxies: FakeProxy[] = [];
let snapshots = 0;
let lastSnapshotAt = 0;

const CHANNEL_OPTIONS: grpc.ChannelOptions = { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": 64 << 20 };

function open(target: string, index: number, services: number): FakeProxy {
  const client = new ConfigDiscoveryClient(target, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  // waitForReady: a connection refused or reset during a connect storm is retried with
  // grpc's backoff instead of failing the stream, as a real proxy would keep reconnecting.
  const call = client.streamConfig(new grpc.Metadata({ waitForReady: true }));
  const p: FakeProxy = { index, client, call, version: "", bytes: 0, firstAt: 0, ended: undefined, baseline: "", changedAt: 0, expected: false };
  call.on("data", (m: ControlMessage) => {
    if (m.message?.$case !== "snapshot") return;
    const at = nowUs();
    const { version, body } = m.message.value;
    if (p.ended === undefined) call.write({ message: { $case: "ack", value: { version } } });
    snapshots++;
    lastSnapshotAt = at;
    p.version = version;
    p.bytes = body.length;
    if (p.firstAt === 0) p.firstAt = at;
    if (p.changedAt === 0 && version !== p.baseline) p.changedAt = at;
  });
  const end = (why: string) => (p.ended ??= why);
  call.on("error", (e: grpc.ServiceError) => end(`${grpc.status[e.code] ?? e.code}: ${e.details}`));
  call.on("status", (s: grpc.StatusObject) => end(`${grpc.status[s.code] ?? s.code}: ${s.details}`));
  call.write({ message: { $case: "hello", value: { ...proxySpec(index, services), proxyVersion: "bench", lastVersion: "", inboundPort: 0 } } });
  return p;
}

async function connect(target: string, from: number, to: number, services: number): Promise<void> {
  for (let j = from; j < to; j++) {
    proxies.push(open(target, j, services));
    if ((j - from) % 100 === 99) await new Promise((r) => setImmediate(r)); // let replies in during a large connect
  }
}

function syncState(): SyncState {
  const s: SyncState = { total: proxies.length, synced: 0, ended: 0, endReasons: [], snapshots, lastFirstAt: 0, lastSnapshotAt, bytesMin: Number.POSITIVE_INFINITY, bytesMax: 0, bytesSum: 0 };
  for (const p of proxies) {
    if (p.version !== "") s.synced++;
    s.lastFirstAt = Math.max(s.lastFirstAt, p.firstAt);
    if (p.ended !== undefined) {
      s.ended++;
      if (s.endReasons.length < 3) s.endReasons.push(`proxy-${p.index}: ${p.ended}`);
    }
    s.bytesMin = Math.min(s.bytesMin, p.bytes);
    s.bytesMax = Math.max(s.bytesMax, p.bytes);
    s.bytesSum += p.bytes;
  }
  return s;
}

function arm(expect: "all" | number[]): void {
  const set = expect === "all" ? undefined : new Set(expect);
  for (const p of proxies) {
    p.baseline = p.version;
    p.changedAt = 0;
    p.expected = set === undefined || set.has(p.index);
  }
}

function changeState(final: boolean): ChangeState {
  const s: ChangeState = { expected: 0, changed: 0, unexpected: 0 };
  for (const p of proxies) {
    if (p.expected) {
      s.expected++;
      if (p.changedAt !== 0) s.changed++;
    } else if (p.changedAt !== 0) s.unexpected++;
  }
  if (final || s.changed === s.expected) s.times = proxies.filter((p) => p.expected && p.changedAt !== 0).map((p) => p.changedAt);
  return s;
}

function reply(m: FromWorker): void {
  process.send?.(m);
}

process.on("message", (m: ToWorker) => {
  switch (m.t) {
    case "connect":
      void connect(m.target, m.from, m.to, m.services).then(() => reply({ t: "ok", seq: m.seq }));
      return;
    case "sync":
      return reply({ t: "sync", seq: m.seq, state: syncState() });
    case "arm":
      arm(m.expect);
      return reply({ t: "ok", seq: m.seq });
    case "query":
      return reply({ t: "change", seq: m.seq, state: changeState(m.final) });
    case "close":
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
