import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { FakeProxy, sleep, waitFor } from "../src/distribution/test/fake-proxy";
import { errorOf, grpcPort, LogCapture, startTestControlPlane, type Api } from "./helpers/control-plane";
import { createTestDatabase, type TestDatabase } from "./helpers/pg";
import { TcpForwarder } from "./helpers/tcp-forwarder";
import type { ControlPlane } from "../src/app";

// The control plane talks to the real PostgreSQL server through a real TCP forwarder that
// the test cuts and restores: the database is "gone" for this control plane only.

let db: TestDatabase;
const forwarder = new TcpForwarder("127.0.0.1", 5432);
let cp: ControlPlane | undefined;
let api: Api;
const proxies: FakeProxy[] = [];
const PASSWORD = "s3cret-pw-never-logged";

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  for (const p of proxies) p.cancel();
  await cp?.close();
  await forwarder.down();
  await db.drop();
});

function viaForwarder(url: string): string {
  const u = new URL(url);
  u.host = `${forwarder.address.host}:${forwarder.address.port}`;
  u.password = PASSWORD; // trust auth ignores it; it must still never be logged
  return u.toString();
}

const svc = (name: string) => ({ kind: "Service" as const, metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 80, protocol: "http" as const }] } });

test("database unreachable at start: a clear message, retries with backoff, then starts when it is back", async () => {
  await forwarder.up();
  const url = viaForwarder(db.url);
  await forwarder.down(); // the port is known but nothing listens
  const log = new LogCapture();
  const starting = startTestControlPlane({ databaseUrl: url, log });
  await waitFor("two retry messages", () => log.lines.filter((l) => l.includes("database unreachable at 127.0.0.1:")).length >= 2 || undefined, 15_000);
  const msgs = log.lines.filter((l) => l.includes("database unreachable"));
  assert.match(msgs[0]!, /database unreachable at 127\.0\.0\.1:\d+: .*ECONNREFUSED.*; retrying in [\d.]+s/);
  await forwarder.up();
  ({ cp, api } = await starting);
  assert.ok(log.text().includes("database reachable again"));
  assert.equal(log.text().includes(PASSWORD), false, "the password appeared in the log");
  assert.equal(await api.revisions.head.query(), 0);
});

test("database lost while running: writes fail clearly, proxies keep their snapshots, writes resume when it returns", async () => {
  assert.ok(cp);
  await api.resources.write.mutate({ baseRevision: 0, upserts: [svc("web"), svc("api")], message: "initial" });
  const p = new FakeProxy(grpcPort(cp));
  proxies.push(p);
  p.hello({ workload: "web-1", service: "web", address: "127.0.0.9" });
  const s1 = await p.snapshot(1);
  p.ack(s1.version);
  // Its own registration may still bring a second snapshot (its endpoint joins the web host); let that settle first.
  await sleep(300);
  const settled = p.snapshots().length;
  p.ack(p.snapshots().at(-1)!.version);

  await forwarder.down();
  const e = await errorOf(api.resources.write.mutate({ baseRevision: 1, upserts: [svc("cart")], message: "during outage" }));
  assert.equal(e.code, "SERVICE_UNAVAILABLE");
  assert.equal(e.trellisCode, "TRELLIS_DATABASE_UNAVAILABLE");
  assert.match(e.message, /database unreachable/);
  assert.equal(e.message.includes(PASSWORD), false);
  const ready = await fetch(`${cp.apiUrl}/readyz`);
  assert.equal(ready.status, 503);

  // The proxy's stream stays up and nothing new (nor a Goodbye) was sent to it.
  await sleep(500);
  assert.equal(p.end, undefined, `stream ended: ${JSON.stringify(p.end)}`);
  assert.equal(p.snapshots().length, settled, "no snapshot during the outage");
  assert.equal(p.goodbye(), undefined);

  await forwarder.up();
  let revision = 0;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      revision = (await api.resources.write.mutate({ baseRevision: 1, upserts: [svc("cart")], message: "after outage" })).revision;
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
  assert.equal(revision, 2);
  const s2 = await waitFor("the new config to reach the proxy", () => p.snapshots().find((s) => s.outbound.hosts.some((h) => h.host === "cart.default")), 10_000);
  assert.notEqual(s2.version, s1.version);
  assert.equal((await fetch(`${cp.apiUrl}/readyz`)).status, 200);
});
