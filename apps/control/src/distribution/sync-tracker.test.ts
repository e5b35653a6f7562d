import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ProxySyncStatus } from "./ports";
import { SyncTracker, stateOf } from "./sync-tracker";

const info = (proxyId: string) => ({ proxyId, workload: proxyId.split("/")[1] ?? "", service: "reviews", namespace: "default", address: "10.0.0.1", proxyVersion: "0.1.0" });

describe("SyncTracker", () => {
  test("SYNCED / STALE / NACKED follow compile, send, ACK and NACK", () => {
    const t = new SyncTracker({ replicaId: "r1" });
    t.connected(info("default/a"));
    assert.equal(t.get("default/a")?.state, "STALE", "nothing compiled yet");
    t.compiled("default/a", "v1", 1);
    t.sent("default/a", "v1");
    assert.equal(t.get("default/a")?.state, "STALE", "sent, not acknowledged");
    t.acked("default/a", "v1");
    assert.equal(t.get("default/a")?.state, "SYNCED");
    t.compiled("default/a", "v2", 2);
    assert.equal(t.get("default/a")?.state, "STALE", "a newer version exists");
    t.sent("default/a", "v2");
    t.nacked("default/a", "v2", "bad regex");
    const s = t.get("default/a");
    assert.equal(s?.state, "NACKED");
    assert.equal(s?.lastAckedVersion, "v1");
    assert.equal(s?.lastNackReason, "bad regex");
    t.compiled("default/a", "v3", 3);
    t.sent("default/a", "v3");
    assert.equal(t.get("default/a")?.state, "STALE");
  });

  test("changes reach the sink in batches with the latest status per proxy; disconnected proxies are reported once", async () => {
    const batches: ProxySyncStatus[][] = [];
    const t = new SyncTracker({ replicaId: "r1", flushMs: 60_000, sink: { record: async (c) => void batches.push([...c]) } });
    t.connected(info("default/a"));
    t.connected(info("default/b"));
    t.compiled("default/a", "v1", 1);
    t.sent("default/a", "v1");
    t.acked("default/a", "v1");
    await t.flush();
    assert.equal(batches.length, 1);
    assert.deepEqual(batches[0]?.map((s) => [s.proxyId, s.state, s.replicaId]), [["default/a", "SYNCED", "r1"], ["default/b", "STALE", "r1"]]);
    t.disconnected("default/b");
    await t.close();
    assert.deepEqual(batches[1]?.map((s) => [s.proxyId, s.disconnectedAt !== null]), [["default/b", true]]);
    assert.deepEqual(t.status().map((s) => s.proxyId), ["default/a"]);
  });

  test("a failed batch is retried with the next one", async () => {
    let fail = true;
    const recorded: string[] = [];
    const t = new SyncTracker({ replicaId: "r1", flushMs: 60_000, sink: { record: async (c) => { if (fail) throw new Error("db down"); recorded.push(...c.map((s) => s.proxyId)); } } });
    t.connected(info("default/a"));
    await t.flush();
    fail = false;
    t.connected(info("default/b"));
    await t.close();
    assert.deepEqual(recorded.sort(), ["default/a", "default/b"]);
  });

  test("stateOf", () => {
    assert.equal(stateOf({ latestVersion: "v1", lastSentVersion: null, lastAckedVersion: "v1", lastNackVersion: null }), "SYNCED", "restored from disk: acknowledged without a send");
  });
});
