import assert from "node:assert/strict";
import http2 from "node:http2";
import tls from "node:tls";
import { after, before, describe, it } from "node:test";
import type { Snapshot } from "@trellis/config";
import net from "node:net";
import { startHttpApp, startTcpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { HttpClient, inParallel, until } from "./helpers/client";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";
import { TestCa } from "./helpers/test-ca";
import type { MeshTlsMaterial } from "../src/identity/mesh-tls";

// Mutual TLS between real sidecars on real sockets, with certificates signed by the control
// plane's own x509 code (TestCa): the client side upgrades towards sidecar endpoints and checks
// the server's SPIFFE ID; the server side enforces its PeerAuthentication mode, authenticates
// callers by certificate and hands their SPIFFE ID to authorization.

const STRICT: Snapshot["inbound"]["peerAuthentication"] = { mode: "STRICT", portLevel: {}, source: "PeerAuthentication/default/strict" };
const DISABLE: Snapshot["inbound"]["peerAuthentication"] = { mode: "DISABLE", portLevel: {}, source: "PeerAuthentication/default/off" };
const WEB = "spiffe://cluster.local/ns/default/sa/web";

/** One request over HTTP/2 + TLS straight at an inbound port, with `material` as client certificate (none: no certificate). */
async function tlsRequest(port: number, material: MeshTlsMaterial | undefined, trust: string): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: trust, ...(material ? { key: material.keyPem, cert: material.certChainPem } : {}), checkServerIdentity: () => undefined });
    let settled = false;
    const done = (r: { status: number } | { error: string }) => {
      if (settled) return;
      settled = true;
      session.destroy();
      resolve(r);
    };
    session.on("error", (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
    const req = session.request({ ":path": "/", ":authority": "api:9080" }, { endStream: true });
    req.on("response", (h) => {
      req.resume();
      req.on("end", () => done({ status: Number(h[":status"]) }));
    });
    req.on("error", (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
    // A refused handshake under TLS 1.3 surfaces after the client's side finished: the stream closes unanswered.
    req.on("close", () => done({ error: `stream closed unanswered (rst ${req.rstCode})` }));
  });
}

/** The serial of the certificate an inbound listener presents now. */
function servedSerial(port: number, material: MeshTlsMaterial): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, key: material.keyPem, cert: material.certChainPem, ca: material.bundlePem, ALPNProtocols: ["h2"], checkServerIdentity: () => undefined }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.destroy();
      resolve(serial);
    });
    s.on("error", reject);
  });
}

async function metric(proxy: TestProxy, name: string): Promise<string[]> {
  const text = await proxy.dp.metrics.registry.metrics();
  return text.split("\n").filter((l) => l.startsWith(name));
}

describe("automatic mTLS between sidecars", () => {
  const t = new Teardown();
  const ca = new TestCa();
  const foreignCa = new TestCa();
  let app: TestServer;
  let api: TestProxy;
  let apiIdentity: MeshTlsMaterial;
  let web: TestProxy;
  let viaWeb: HttpClient;

  /** A client sidecar with `identity` whose host `api` has one sidecar endpoint, `port`. */
  async function client(name: string, identity: MeshTlsMaterial | undefined, port: number, endpoint: { plaintext?: boolean } = {}): Promise<HttpClient> {
    const proxy = t.track(await startProxy({ app: name }, snapshot({ service: name, hosts: [host({ name: "api", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port, sidecar: true, ...endpoint }] })] }), identity ? { identity } : {}));
    if (name === "web") web = proxy;
    return t.track(new HttpClient(proxy.dp.ports.outbound));
  }

  before(async () => {
    app = t.track(await startHttpApp("api"));
    apiIdentity = ca.issue("default", "api");
    api = t.track(
      await startSidecar("api", app.port, {
        identity: apiIdentity,
        peerAuthentication: STRICT,
        authorizationPolicies: [{ source: "AuthorizationPolicy/default/web-only", action: "ALLOW", rules: [{ from: [{ source: { principals: [WEB] } }] }] }],
      }),
    );
    viaWeb = await client("web", ca.issue("default", "web"), api.inboundPort);
  });
  after(() => t.stop());

  it("a client sidecar upgrades to mTLS; the server sees the caller's SPIFFE ID, metrics and logs say mutual_tls", async () => {
    const r = await viaWeb.request("api:9080", "/items");
    assert.equal(r.status, 200, r.body);
    await until(() => api.accessLog.lines.some((l) => l.path === "/items"), "the server's access-log line");
    const line = api.accessLog.lines.find((l) => l.path === "/items")!;
    assert.equal(line.connection_security_policy, "mutual_tls");
    assert.equal(line.peer_principal, WEB);
    await until(() => web.accessLog.lines.some((l) => l.path === "/items"), "the client's access-log line");
    assert.equal(web.accessLog.lines.find((l) => l.path === "/items")!.connection_security_policy, "mutual_tls");
    const series = await metric(api, "istio_requests_total{");
    assert.ok(series.some((l) => l.includes('connection_security_policy="mutual_tls"') && l.includes('reporter="destination"')), series.join("\n"));
    assert.ok(!series.some((l) => l.includes('connection_security_policy="none"')), "nothing reached api in plaintext");
    assert.ok(series.some((l) => l.includes(`source_principal="${WEB}"`)), "the server reports the caller's proven identity");
    const out = await metric(web, "istio_requests_total{");
    assert.ok(out.some((l) => l.includes('destination_principal="spiffe://cluster.local/ns/default/sa/api"')), out.join("\n"));
  });

  it("STRICT: a plaintext connection is refused before any request, and counted", async () => {
    const seen = app.seen.length;
    const direct = new HttpClient(api.inboundPort);
    await assert.rejects(direct.request("api:9080", "/plain"), /socket hang up|ECONNRESET/);
    direct.close();
    assert.equal(app.seen.length, seen, "nothing reached the app");
    assert.ok((await metric(api, "trellis_proxy_inbound_connections_refused_total")).some((l) => l.includes('reason="plaintext"') && !l.endsWith(" 0")));
  });

  it("a certificate from another CA, an expired certificate, or none at all fails the handshake", async () => {
    const seen = app.seen.length;
    const good = await tlsRequest(api.inboundPort, ca.issue("default", "web"), ca.root.certPem);
    assert.deepEqual(good, { status: 200 }, "the same kind of connection with a good certificate works (the test's client is sound)");
    const foreign = foreignCa.issue("default", "web");
    const expired = ca.issue("default", "web", { ttlMs: 3_600_000, now: new Date(Date.now() - 2 * 3_600_000) });
    for (const [what, material] of [["another CA", foreign], ["expired", expired], ["no certificate", undefined]] as const) {
      const r = await tlsRequest(api.inboundPort, material, ca.root.certPem);
      assert.ok("error" in r, `${what}: refused, got ${JSON.stringify(r)}`);
    }
    assert.equal(app.seen.length, seen + 1, "only the good request reached the app");
    assert.ok((await metric(api, "trellis_proxy_inbound_connections_refused_total")).some((l) => l.includes('reason="handshake"') && !l.endsWith(" 0")));
    // Through a sidecar with a foreign certificate (trusting the right root): the server refuses it, the caller gets 503 UF.
    const viaForeign = await client("foreign", { ...foreignCa.issue("default", "web"), bundlePem: ca.root.certPem }, api.inboundPort);
    const r = await viaForeign.request("api:9080", "/foreign");
    assert.equal(r.status, 503);
    assert.equal(app.seen.length, seen + 1);
  });

  it("a valid mesh certificate with the wrong SPIFFE ID gets through mTLS and is denied by policy", async () => {
    const viaIntruder = await client("intruder", ca.issue("default", "intruder"), api.inboundPort);
    const r = await viaIntruder.request("api:9080", "/secret");
    assert.equal(r.status, 403);
    assert.equal(r.body, "RBAC: access denied");
    await until(() => api.accessLog.lines.some((l) => l.path === "/secret"), "the denial logged");
    const line = api.accessLog.lines.find((l) => l.path === "/secret")!;
    assert.equal(line.peer_principal, "spiffe://cluster.local/ns/default/sa/intruder");
    assert.equal(line.reason, "AuthorizationPolicy/default/web-only");
  });

  it("the client checks the server: a sidecar presenting another service's identity is refused (503 UF)", async () => {
    const otherApp = t.track(await startHttpApp("impostor"));
    const impostor = t.track(await startSidecar("impostor", otherApp.port, { identity: ca.issue("default", "impostor") }));
    const viaConfused = await client("confused", ca.issue("default", "confused"), impostor.inboundPort);
    const r = await viaConfused.request("api:9080", "/who");
    assert.equal(r.status, 503);
    assert.equal(otherApp.seen.length, 0, "the request never left the client sidecar");
  });

  it("PERMISSIVE takes both; DISABLE: callers dial plaintext and TLS is refused", async () => {
    const petsApp = t.track(await startHttpApp("pets"));
    const pets = t.track(await startSidecar("pets", petsApp.port, { identity: ca.issue("default", "pets") }));
    const direct = t.track(new HttpClient(pets.inboundPort));
    assert.equal((await direct.request("pets:9080", "/plain")).status, 200);
    assert.deepEqual(await tlsRequest(pets.inboundPort, ca.issue("default", "web"), ca.root.certPem), { status: 200 });
    await until(() => pets.accessLog.lines.length >= 2, "both logged");
    assert.deepEqual(pets.accessLog.lines.map((l) => l.connection_security_policy).sort(), ["mutual_tls", "none"]);

    const legacyApp = t.track(await startHttpApp("legacy"));
    const legacy = t.track(await startSidecar("legacy", legacyApp.port, { identity: ca.issue("default", "legacy"), peerAuthentication: DISABLE }));
    const viaPlain = await client("plain-caller", ca.issue("default", "plain-caller"), legacy.inboundPort, { plaintext: true });
    assert.equal((await viaPlain.request("api:9080", "/legacy")).status, 200);
    // A DestinationPolicy with tls DISABLE opts a host out of auto mTLS on the client side too.
    const optedOut = t.track(await startProxy({ app: "opted-out" }, snapshot({ service: "opted-out", hosts: [host({ name: "api", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port: legacy.inboundPort, sidecar: true }], policy: { host: "api", subsets: [], tls: { mode: "DISABLE" } } })] }), { identity: ca.issue("default", "opted-out") }));
    assert.equal((await t.track(new HttpClient(optedOut.dp.ports.outbound)).request("api:9080", "/legacy-2")).status, 200, "DISABLE at the destination refuses TLS, so only a plaintext dial works");
    await until(() => legacy.accessLog.lines.length >= 1, "logged");
    assert.equal(legacy.accessLog.lines[0]!.connection_security_policy, "none");
    assert.ok("error" in (await tlsRequest(legacy.inboundPort, ca.issue("default", "web"), ca.root.certPem)), "DISABLE refuses TLS");
  });

  it("raw TCP rides the same mTLS sessions (CONNECT over HTTP/2 + TLS); port-level STRICT refuses a plaintext tunnel", async () => {
    const db = t.track(await startTcpApp("db"));
    // Two ports, one STRICT: the listener must take plaintext connections, and refuse them per port.
    const listeners = [
      { name: "tcp", port: 5432, targetPort: db.port, protocol: "tcp" as const },
      { name: "tcp-open", port: 5433, targetPort: db.port + 1, protocol: "tcp" as const },
    ];
    const onlyApi: Snapshot["inbound"]["authorizationPolicies"] = [{ source: "AuthorizationPolicy/default/db-from-api", action: "ALLOW", rules: [{ from: [{ source: { principals: ["spiffe://cluster.local/ns/default/sa/api"] } }] }] }];
    const dbProxy = t.track(await startProxy({ app: "db" }, snapshot({ service: "db", listeners, authorizationPolicies: onlyApi, peerAuthentication: { mode: "PERMISSIVE", portLevel: { [String(db.port)]: "STRICT" }, source: null } }), { identity: ca.issue("default", "db") }));
    const dbHost = (plaintext: boolean) => host({ name: "db", ports: [{ port: 5432, protocol: "tcp" }], endpoints: [{ port: dbProxy.inboundPort, sidecar: true, plaintext }] });
    const exchange = async (forwardPort: number): Promise<string> => {
      const socket = net.connect(forwardPort, "127.0.0.1");
      socket.on("error", () => undefined);
      return new Promise((resolve) => {
        let buf = "";
        socket.on("data", (c: Buffer) => (buf += c.toString()));
        socket.once("close", () => resolve(buf));
        socket.write("ping\nquit\n");
      });
    };
    const secure = t.track(await startProxy({ app: "api" }, snapshot({ service: "api", hosts: [dbHost(false)] }), { identity: ca.issue("default", "api"), tcpForward: [{ port: 0, authority: "db:5432" }] }));
    assert.equal(await exchange(secure.dp.ports.tcpForward[0]!), "db:ping\ndb:bye\n");
    await until(() => secure.accessLog.lines.some((l) => l.protocol === "tcp"), "the client's TCP line");
    assert.equal(secure.accessLog.lines.find((l) => l.protocol === "tcp")!.connection_security_policy, "mutual_tls");
    await until(() => dbProxy.accessLog.lines.some((l) => l.protocol === "tcp"), "the server's TCP line");
    assert.equal(dbProxy.accessLog.lines.find((l) => l.protocol === "tcp")!.peer_principal, "spiffe://cluster.local/ns/default/sa/api");
    // A caller told to dial in plaintext reaches the PERMISSIVE listener, but the STRICT port refuses the tunnel.
    const plain = t.track(await startProxy({ app: "api" }, snapshot({ service: "api", hosts: [dbHost(true)] }), { identity: ca.issue("default", "api"), tcpForward: [{ port: 0, authority: "db:5432" }] }));
    assert.equal(await exchange(plain.dp.ports.tcpForward[0]!), "");
    await until(() => dbProxy.accessLog.lines.filter((l) => l.protocol === "tcp").length >= 2, "the refusal logged");
    assert.equal(dbProxy.accessLog.lines.filter((l) => l.protocol === "tcp")[1]!.reason, "TRELLIS_MTLS_REQUIRED");
    assert.equal(dbProxy.accessLog.lines.filter((l) => l.protocol === "tcp")[1]!.connection_security_policy, "none");
    // Over mTLS but with an identity the policy does not allow: the tunnel is refused (RBAC).
    const intruder = t.track(await startProxy({ app: "intruder" }, snapshot({ service: "intruder", hosts: [dbHost(false)] }), { identity: ca.issue("default", "intruder"), tcpForward: [{ port: 0, authority: "db:5432" }] }));
    assert.equal(await exchange(intruder.dp.ports.tcpForward[0]!), "");
    await until(() => dbProxy.accessLog.lines.filter((l) => l.protocol === "tcp").length >= 3, "the denial logged");
    const denied = dbProxy.accessLog.lines.filter((l) => l.protocol === "tcp")[2]!;
    assert.equal(denied.reason, "AuthorizationPolicy/default/db-from-api");
    assert.equal(denied.response_flags, "RBAC");
    assert.equal(denied.peer_principal, "spiffe://cluster.local/ns/default/sa/intruder");
  });

  it("root rotation: with both roots in every bundle, certificates from the old and the new root interoperate", async () => {
    const newRoot = new TestCa();
    const bundle = ca.root.certPem + newRoot.root.certPem;
    const appB = t.track(await startHttpApp("api"));
    const server = t.track(await startSidecar("api", appB.port, { identity: { ...newRoot.issue("default", "api"), bundlePem: bundle }, peerAuthentication: STRICT }));
    const viaOld = await client("rotating", { ...ca.issue("default", "rotating"), bundlePem: bundle }, server.inboundPort);
    assert.equal((await viaOld.request("api:9080", "/overlap")).status, 200);
  });

  it("certificates rotate under steady load: open connections go on, new handshakes get the new certificate, zero failed requests", async () => {
    const before = await servedSerial(api.inboundPort, ca.issue("default", "web"));
    let rotations = 0;
    const rotating = (async () => {
      for (; rotations < 4; rotations++) {
        await new Promise((r) => setTimeout(r, 120));
        api.dp.setIdentity(ca.issue("default", "api"));
        web.dp.setIdentity(ca.issue("default", "web"));
      }
    })();
    const statuses = await inParallel(600, 8, async () => (await viaWeb.request("api:9080", "/steady")).status);
    await rotating;
    assert.equal(rotations, 4);
    assert.deepEqual([...new Set(statuses)], [200], `every request succeeded: ${statuses.filter((s) => s !== 200).length} failed`);
    const nowServed = await servedSerial(api.inboundPort, ca.issue("default", "web"));
    assert.notEqual(nowServed, before, "a new handshake gets the rotated certificate");
  });
});
