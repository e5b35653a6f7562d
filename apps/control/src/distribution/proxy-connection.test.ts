import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, test } from "node:test";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import { OutgoingSnapshot, ProxyConnection } from "./proxy-connection";
import type { ConnectionEvents, IncomingMessage, OutgoingMessage } from "./proxy-connection";
import type { CompiledSnapshot } from "./snapshot-compiler";

/** A stand-in for grpc-js's server stream that lets the test decide when writes complete and whether the buffer is full. */
class FakeCall extends EventEmitter {
  readonly written: string[] = [];
  private readonly callbacks: (() => void)[] = [];
  full = false;
  write(msg: OutgoingMessage, cb: () => void): boolean {
    this.written.push(msg instanceof OutgoingSnapshot ? msg.version : `goodbye:${msg.message?.$case === "goodbye" ? msg.message.value.code : ""}`);
    this.callbacks.push(cb);
    return !this.full;
  }
  complete(): void {
    this.callbacks.shift()?.();
  }
  getPeer(): string {
    return "ipv4:127.0.0.1:1";
  }
  end(): void {}
}

const snap = (version: string): CompiledSnapshot => ({ version, revision: 1, body: () => Buffer.from("{}"), bodyChunks: () => [Buffer.from("{}")], snapshot: () => { throw new Error("unused"); } });

function connection() {
  const call = new FakeCall();
  const sent: string[] = [];
  const events: ConnectionEvents = { hello: async () => {}, sent: (_c, v) => sent.push(v), ack: () => {}, nack: () => {}, telemetry: () => undefined, closed: () => {} };
  const conn = new ProxyConnection(call as unknown as ServerDuplexStream<IncomingMessage, OutgoingMessage>, events);
  return { call, conn, sent };
}

describe("ProxyConnection flow control", () => {
  test("one snapshot in flight at a time; while it is, only the newest waits", () => {
    const { call, conn, sent } = connection();
    conn.push(snap("v1"));
    conn.push(snap("v2"));
    conn.push(snap("v3"));
    assert.deepEqual(call.written, ["v1"]);
    assert.equal(conn.targetVersion, "v3");
    call.complete();
    assert.deepEqual(call.written, ["v1", "v3"], "v2 was superseded before it could be written");
    call.complete();
    assert.deepEqual(sent, ["v1", "v3"]);
  });

  test("after write() returns false nothing more is written until 'drain'", () => {
    const { call, conn } = connection();
    call.full = true;
    conn.push(snap("v1"));
    conn.push(snap("v2"));
    call.complete();
    assert.deepEqual(call.written, ["v1"], "the write completed but the buffer is still full");
    call.full = false;
    call.emit("drain");
    assert.deepEqual(call.written, ["v1", "v2"]);
  });

  test("nothing is written after the stream ended", () => {
    const { call, conn } = connection();
    conn.push(snap("v1"));
    conn.push(snap("v2"));
    call.emit("cancelled");
    call.complete();
    conn.push(snap("v3"));
    assert.deepEqual(call.written, ["v1"]);
    assert.equal(conn.closed, true);
  });
});
