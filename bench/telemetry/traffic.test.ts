import assert from "node:assert/strict";
import { test } from "node:test";
import { Direction, ProxyMessage } from "@trellis/proto";
import { decodeDelta } from "../../apps/control/src/telemetry/live/decode-delta";
import { Mesh, serviceName } from "./mesh";
import { deltaOf } from "./traffic";
import { encodeDeltaBody, telemetryMessage } from "./wire";

const sender = (mesh: Mesh, p: number) => ({ proxyId: `default/${mesh.workloadOf(p)}`, namespace: "default", workload: mesh.workloadOf(p), service: serviceName(mesh.serviceOf(p)), labels: { version: mesh.versionOf(p) } });

test("every fake proxy's delta passes the control plane's validation, with 3–8 outbound rows at most", () => {
  const mesh = new Mesh(200, 300);
  for (let p = 0; p < mesh.proxies; p += 7) {
    for (const k of [1, 2, 30]) {
      const d = deltaOf(mesh, p, k, mesh.inboundCallers(p), mesh.inboundCallers(p, true));
      const rows = decodeDelta(sender(mesh, p), d);
      assert.equal(rows.length, d.requests.length + d.tcp.length + d.saturation.length);
      const outbound = d.requests.filter((r) => r.direction === Direction.DIRECTION_OUTBOUND).length;
      assert.ok(outbound <= 8, `proxy ${p}: ${outbound} outbound rows`);
      assert.ok(d.saturation.some((r) => r.direction === Direction.DIRECTION_INBOUND), "the inbound saturation row is always sent");
    }
  }
});

test("the callee's inbound row of a second mirrors the caller's outbound row", () => {
  const mesh = new Mesh(100, 100);
  const caller = 7;
  const callee = mesh.targets[mesh.serviceOf(caller)]![0]!;
  const k = 5;
  const out = deltaOf(mesh, caller, k, mesh.inboundCallers(caller), []);
  const inn = deltaOf(mesh, callee, k, mesh.inboundCallers(callee), []);
  const row = out.requests.find((r) => r.direction === Direction.DIRECTION_OUTBOUND && out.strings[r.peer!.service] === serviceName(callee));
  const mirror = inn.requests.find((r) => r.direction === Direction.DIRECTION_INBOUND && inn.strings[r.peer!.workload] === mesh.workloadOf(caller));
  assert.ok(row && mirror, "both sides report the edge");
  assert.deepEqual(mirror.byClass, row.byClass);
  assert.deepEqual(mirror.latencyCounts, row.latencyCounts);
});

test("the mesh: 3–8 distinct callees per service, never itself, and egress lists them", () => {
  const mesh = new Mesh(1000, 1000);
  for (let s = 0; s < 1000; s++) {
    const ts = mesh.targets[s]!;
    assert.ok(ts.length >= 3 && ts.length <= 8 && !ts.includes(s) && new Set(ts).size === ts.length);
    for (const t of ts) assert.ok(mesh.egressOf(s).includes(serviceName(t)));
  }
  assert.ok(mesh.edgeCount > 4000 && mesh.edgeCount < 6000, `${mesh.edgeCount} edges`);
});

test("a pre-encoded telemetry message decodes to the same delta with its sequence", () => {
  const mesh = new Mesh(50, 60);
  const d = deltaOf(mesh, 3, 1, mesh.inboundCallers(3), []);
  for (const seq of [1, 127, 128, 300_000]) {
    const m = ProxyMessage.decode(telemetryMessage(encodeDeltaBody(d), seq));
    assert.equal(m.message?.$case, "telemetry");
    assert.deepEqual(m.message?.value, { ...d, sequence: seq });
  }
});
