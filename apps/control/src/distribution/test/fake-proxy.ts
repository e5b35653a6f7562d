import * as grpc from "@grpc/grpc-js";
import { SnapshotSchema } from "@trellis/config";
import type { Snapshot } from "@trellis/config";
import { ConfigDiscoveryClient, ConfigDiscoveryService } from "@trellis/proto";
import type { ControlMessage, Hello, ProxyMessage } from "@trellis/proto";

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake proxy: a real grpc-js client holding one StreamConfig stream and recording what arrives. */
export class FakeProxy {
  readonly received: ControlMessage[] = [];
  end: { code: grpc.status; details: string } | undefined;
  private readonly client: grpc.Client;
  readonly call: grpc.ClientDuplexStream<ProxyMessage, ControlMessage>;

  /** `port` on 127.0.0.1 in plaintext, or any `host:port` with the given credentials (the TLS port). */
  constructor(port: number | string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    const client = new ConfigDiscoveryClient(typeof port === "number" ? `127.0.0.1:${port}` : port, credentials);
    this.client = client;
    this.call = client.streamConfig();
    this.call.on("data", (m: ControlMessage) => this.received.push(m));
    this.call.on("error", (e: grpc.ServiceError) => (this.end = { code: e.code, details: e.details }));
    this.call.on("status", (s: grpc.StatusObject) => (this.end ??= { code: s.code, details: s.details }));
  }

  hello(h: Partial<Hello> & Pick<Hello, "workload" | "service">): void {
    this.call.write({
      message: { $case: "hello", value: { namespace: "default", labels: {}, address: `10.0.0.${Math.floor(Math.random() * 250) + 1}`, ports: [{ name: "http", port: 9080, protocol: "http" }], proxyVersion: "0.1.0", lastVersion: "", inboundPort: 0, ...h } },
    });
  }
  ack(version: string): void {
    this.call.write({ message: { $case: "ack", value: { version } } });
  }
  nack(version: string, reason: string): void {
    this.call.write({ message: { $case: "nack", value: { version, reason } } });
  }

  /** Snapshots received so far, validated against SnapshotSchema. */
  snapshots(): Snapshot[] {
    return this.received.flatMap((m) => (m.message?.$case === "snapshot" ? [SnapshotSchema.parse(JSON.parse(Buffer.from(m.message.value.body).toString("utf8")))] : []));
  }
  /** Waits for the n-th snapshot (1-based). */
  async snapshot(n: number): Promise<Snapshot> {
    return waitFor(`snapshot #${n}`, () => this.snapshots()[n - 1]);
  }
  /**
   * The first snapshot listing an endpoint of `ownHost` (the proxy's own Service): a first push
   * can be compiled before the proxy's registration has landed, and the control plane then
   * pushes the corrected one. Tests that count snapshots start after this one.
   */
  async settled(ownHost: string, ownAddress?: string): Promise<Snapshot> {
    return waitFor(`a snapshot with ${ownHost}'s own endpoint`, () =>
      this.snapshots().find((s) => (s.outbound.hosts.find((h) => h.host === ownHost)?.clusters[0]?.endpoints ?? []).some((e) => ownAddress === undefined || e.address === ownAddress)),
    );
  }
  goodbye() {
    for (const m of this.received) if (m.message?.$case === "goodbye") return m.message.value;
    return undefined;
  }
  async ended(): Promise<{ code: grpc.status; details: string }> {
    return waitFor("the stream to end", () => this.end);
  }
  close(): void {
    this.call.end();
    this.client.close();
  }
  cancel(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** A client that sends raw bytes as the request, to test undecodable messages. */
export function rawStream(port: number): { call: grpc.ClientDuplexStream<Buffer, ControlMessage>; client: grpc.Client } {
  const Raw = grpc.makeGenericClientConstructor({ streamConfig: { ...ConfigDiscoveryService.streamConfig, requestSerialize: (b: Buffer) => b } }, "Raw");
  const client = new Raw(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (client as unknown as { streamConfig(): grpc.ClientDuplexStream<Buffer, ControlMessage> }).streamConfig();
  return { call, client };
}
