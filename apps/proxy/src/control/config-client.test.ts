import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, afterEach, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import type { Snapshot } from "@trellis/config";
import { ConfigDiscoveryService } from "@trellis/proto";
import type { ControlMessage, Hello, ProxyMessage } from "@trellis/proto";
import { createLogger } from "../core/log";
import { ConfigClient } from "./config-client";
import type { ConfigClientOptions } from "./config-client";
import { SnapshotFile } from "./snapshot-file";
import { snapshotFixture, snapshotMessage } from "./snapshot-fixture";

// The client against an in-process ConfigDiscovery server the test drives message by message.
// The real control plane is exercised in apps/proxy/test/config-client.test.ts.

type Call = grpc.ServerDuplexStream<ProxyMessage, ControlMessage>;

/** A scripted control plane: records every stream's messages; the test sends on `streams[i]`. */
class FakeControlPlane {
  readonly streams: { call: Call; received: ProxyMessage[] }[] = [];
  private server = new grpc.Server();
  port = 0;

  async listen(port = 0): Promise<void> {
    this.server = new grpc.Server();
    this.server.addService(ConfigDiscoveryService, {
      streamConfig: (call: Call) => {
        const s = { call, received: [] as ProxyMessage[] };
        this.streams.push(s);
        call.on("data", (m: ProxyMessage) => s.received.push(m));
        call.on("error", () => {});
      },
    });
    this.port = await new Promise<number>((resolve, reject) => this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  }

  /** Hello of stream i, once it arrived. */
  hello(i: number): Promise<Hello> {
    return waitFor(`hello on stream ${i}`, () => {
      const m = this.streams[i]?.received[0]?.message;
      return m?.$case === "hello" ? m.value : undefined;
    });
  }

  send(i: number, s: Snapshot | ReturnType<typeof snapshotMessage>): void {
    const value = "contentType" in s ? s : snapshotMessage(s);
    this.streams[i]!.call.write({ message: { $case: "snapshot", value } });
  }

  /** The ACK/NACK answers on stream i. */
  answers(i: number): string[] {
    return (this.streams[i]?.received ?? []).flatMap((m) =>
      m.message?.$case === "ack" ? [`ack ${m.message.value.version}`] : m.message?.$case === "nack" ? [`nack ${m.message.value.version}: ${m.message.value.reason}`] : [],
    );
  }

  goodbye(i: number, code: string, reason: string): void {
    const { call } = this.streams[i]!;
    call.write({ message: { $case: "goodbye", value: { code, reason } } });
    call.emit("error", { code: grpc.status.UNAVAILABLE, details: reason });
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

async function waitFor<T>(what: string, check: () => T | undefined | false, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const root = await mkdtemp(path.join(tmpdir(), "trellis-config-client-"));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(over: Partial<ConfigClientOptions> = {}) {
  const lines: Record<string, unknown>[] = [];
  const applied: string[] = [];
  const dataDir = path.join(root, `proxy-${n++}`);
  const log = createLogger("debug", {}, (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const options = (target: string): ConfigClientOptions => ({
    target,
    hello: { workload: "reviews-a", service: "reviews", namespace: "default", labels: { version: "v1" }, address: "127.0.0.1", ports: [{ name: "http", port: 9080, protocol: "http" }], inboundPort: 15006, proxyVersion: "test" },
    dataDir,
    apply: (s) => void applied.push(s.version),
    log,
    backoff: { baseMs: 20, maxMs: 100 },
    connectTimeoutMs: 2000,
    ...over,
  });
  const client = (target: string): ConfigClient => {
    const c = new ConfigClient(options(target));
    cleanups.push(() => c.stop());
    return c;
  };
  return { client, applied, lines, dataDir };
}

async function fakeControlPlane(): Promise<FakeControlPlane> {
  const cp = new FakeControlPlane();
  await cp.listen();
  cleanups.push(() => cp.stop());
  return cp;
}

describe("ConfigClient", () => {
  test("says hello with its identity and inbound port, applies a snapshot, saves it, then ACKs", async () => {
    const cp = await fakeControlPlane();
    const { client, applied, dataDir } = setup();
    const c = client(`127.0.0.1:${cp.port}`);
    const events: string[] = [];
    c.on("connected", () => events.push("connected"));
    c.on("applied", (s, source) => events.push(`applied ${s.version} ${source}`));
    await c.start();
    const hello = await cp.hello(0);
    assert.deepEqual({ ...hello, labels: { ...hello.labels } }, {
      workload: "reviews-a", service: "reviews", namespace: "default", labels: { version: "v1" }, address: "127.0.0.1",
      ports: [{ name: "http", port: 9080, protocol: "http" }], proxyVersion: "test", lastVersion: "", inboundPort: 15006,
    });
    assert.equal(c.connected, true);

    const s1 = snapshotFixture("1111111111111111", 3);
    cp.send(0, s1);
    await waitFor("the ACK", () => cp.answers(0).length === 1);
    assert.deepEqual(cp.answers(0), ["ack 1111111111111111"]);
    assert.deepEqual(applied, ["1111111111111111"]);
    assert.deepEqual(c.current, s1);
    assert.deepEqual(JSON.parse(await readFile(path.join(dataDir, "snapshot.json"), "utf8")), s1, "saved before the ACK");
    assert.deepEqual(events, ["connected", "applied 1111111111111111 control-plane"]);
    const st = c.status();
    assert.equal(st.version, "1111111111111111");
    assert.equal(st.revision, 3);
    assert.equal(st.source, "control-plane");
    assert.ok(st.lastAckAt instanceof Date);
    assert.equal(st.lastNack, undefined);
  });

  test("a snapshot apply() throws on is NACKed with the message; the previous one stays", async () => {
    const cp = await fakeControlPlane();
    const { client, dataDir } = setup({
      apply: (s) => {
        if (s.revision === 2) throw new Error("route table rejected: listener 9080 twice");
      },
    });
    const c = client(`127.0.0.1:${cp.port}`);
    const nacks: string[] = [];
    c.on("nacked", (n) => nacks.push(n.version));
    await c.start();
    await cp.hello(0);
    cp.send(0, snapshotFixture("1111111111111111", 1));
    cp.send(0, snapshotFixture("2222222222222222", 2));
    await waitFor("two answers", () => cp.answers(0).length === 2);
    assert.deepEqual(cp.answers(0), ["ack 1111111111111111", "nack 2222222222222222: route table rejected: listener 9080 twice"]);
    assert.equal(c.current?.version, "1111111111111111");
    assert.deepEqual(nacks, ["2222222222222222"]);
    assert.equal(c.status().lastNack?.reason, "route table rejected: listener 9080 twice");
    assert.equal(JSON.parse(await readFile(path.join(dataDir, "snapshot.json"), "utf8")).version, "1111111111111111", "the refused one is not saved");
  });

  test("an invalid body is NACKed with the field path and never reaches apply()", async () => {
    const cp = await fakeControlPlane();
    const { client, applied } = setup();
    const c = client(`127.0.0.1:${cp.port}`);
    await c.start();
    await cp.hello(0);
    const bad = { ...snapshotFixture("3333333333333333"), outbound: { hosts: "all" } };
    cp.send(0, snapshotMessage(bad));
    await waitFor("the NACK", () => cp.answers(0).length === 1);
    assert.match(cp.answers(0)[0]!, /^nack 3333333333333333: snapshot does not match SnapshotSchema: outbound\.hosts: /);
    assert.deepEqual(applied, []);
    assert.equal(c.current, undefined);
  });

  test("reconnects after the control plane ends the stream, saying which version it serves", async () => {
    const cp = await fakeControlPlane();
    const { client, lines } = setup();
    const c = client(`127.0.0.1:${cp.port}`);
    const disconnects: number[] = [];
    c.on("disconnected", (e) => disconnects.push(e.code));
    await c.start();
    await cp.hello(0);
    cp.send(0, snapshotFixture("1111111111111111"));
    await waitFor("the ACK", () => cp.answers(0).length === 1);
    cp.goodbye(0, "TRELLIS_SHUTTING_DOWN", "control plane replica is shutting down; reconnect to another one");
    const hello = await cp.hello(1);
    assert.equal(hello.lastVersion, "1111111111111111");
    assert.deepEqual(disconnects, [grpc.status.UNAVAILABLE]);
    assert.equal(c.status().reconnects, 1);
    await waitFor("connected again", () => c.connected);
    assert.ok(lines.some((l) => l.msg === "control plane replica is shutting down" && l.code === "TRELLIS_SHUTTING_DOWN"), "the Goodbye reason is logged");
  });

  test("restores the disk copy first, and a control plane that comes up later is found", async () => {
    const { client, applied, dataDir, lines } = setup();
    const saved = snapshotFixture("4444444444444444", 7);
    await new SnapshotFile(dataDir, createLogger("error")).write(JSON.stringify(saved));
    // A port nobody listens on yet: take a free one, then release it.
    const probe = new FakeControlPlane();
    await probe.listen();
    const port = probe.port;
    probe.stop();

    const c = client(`127.0.0.1:${port}`);
    await c.start();
    assert.deepEqual(applied, ["4444444444444444"], "applied before start() resolved");
    assert.equal(c.status().source, "disk");
    assert.equal(c.connected, false);
    await waitFor("a few failed attempts", () => c.status().reconnects >= 2);
    const warnings = lines.filter((l) => l.level === "warn" && l.msg === "control plane unreachable; retrying");
    assert.equal(warnings.length, 1, "one warning per outage, not one per attempt");

    const cp = new FakeControlPlane();
    await cp.listen(port);
    cleanups.push(() => cp.stop());
    const hello = await cp.hello(0);
    assert.equal(hello.lastVersion, "4444444444444444");
    await waitFor("connected", () => c.connected);
  });

  test("a disk copy for another proxy, or one apply() refuses, is ignored", async () => {
    const other = setup();
    await new SnapshotFile(other.dataDir, createLogger("error")).write(JSON.stringify(snapshotFixture(undefined, 1, "shop/cart-1")));
    const c1 = other.client("127.0.0.1:1");
    await c1.start();
    assert.equal(c1.current, undefined);
    assert.ok(other.lines.some((l) => l.msg === "ignoring the snapshot on disk: it is for another proxy"));

    const refusing = setup({ apply: () => { throw new Error("unsupported"); } });
    await new SnapshotFile(refusing.dataDir, createLogger("error")).write(JSON.stringify(snapshotFixture()));
    const c2 = refusing.client("127.0.0.1:1");
    await c2.start();
    assert.equal(c2.current, undefined);
    assert.ok(refusing.lines.some((l) => l.msg === "ignoring the snapshot on disk: it could not be applied" && l.error === "unsupported"));
  });

  test("stop() ends the stream and the reconnect loop promptly", async () => {
    const cp = await fakeControlPlane();
    const { client } = setup({ backoff: { baseMs: 60_000, maxMs: 60_000 } });
    const c = client(`127.0.0.1:${cp.port}`);
    await c.start();
    await cp.hello(0);
    const started = Date.now();
    await c.stop();
    assert.ok(Date.now() - started < 2000, "stop does not wait out a backoff delay");
    assert.equal(c.connected, false);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(cp.streams.length, 1, "no reconnect after stop");
  });

  test("live tap: a TapControl reaches setTaps, events go out on their own beat, and a stream's end stops every tap", async () => {
    const cp = await fakeControlPlane();
    const taps: string[][] = [];
    let pending = [{ tapIds: ["t1"], direction: 1, startUnixMs: 1, durationMs: 2, sourceWorkload: "", sourceNamespace: "", destinationService: "reviews", destinationNamespace: "default", destinationWorkload: "", method: "GET", authority: "", path: "/", status: 200, grpcStatus: "", responseFlags: "-", route: "", mtls: false, requestBytes: 0, responseBytes: 0, requestHeaders: {}, traceId: "" }];
    const telemetry = {
      takeDelta: () => ({ intervalMs: 1000, strings: [""], requests: [], tcp: [], saturation: [] }),
      takeTapEvents: () => pending.splice(0),
      setTaps: (specs: { id: string }[]) => void taps.push(specs.map((t) => t.id)),
      intervalMs: 60_000,
      tapIntervalMs: 20,
    };
    const { client } = setup({ telemetry });
    const c = client(`127.0.0.1:${cp.port}`);
    await c.start();
    await cp.hello(0);
    cp.streams[0]!.call.write({ message: { $case: "tap", value: { taps: [{ id: "t1", sampleRate: 1, maxPerSecond: 10, ttlMs: 5000 }] } } });
    await waitFor("setTaps", () => taps.length === 1);
    assert.deepEqual(taps, [["t1"]]);
    const sent = await waitFor("the tap events", () => cp.streams[0]!.received.find((m) => m.message?.$case === "tapEvents")?.message);
    assert.equal(sent.$case === "tapEvents" && sent.value.events[0]?.destinationService, "reviews");
    assert.equal(pending.length, 0);
    cp.goodbye(0, "TRELLIS_TEST", "bye");
    await waitFor("the taps stopped", () => taps.length === 2);
    assert.deepEqual(taps[1], []);
    pending = [];
  });
});
