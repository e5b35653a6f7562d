import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startHttpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { eventually } from "./helpers/client";
import { applyResources, spawnControlPlane, trpcMutation, trpcQuery, waitForProxyStatus } from "./helpers/control-plane";
import type { ControlProcess } from "./helpers/control-plane";
import { createTestDatabase } from "./helpers/pg";
import type { TestDatabase } from "./helpers/pg";
import { spawnProxy } from "./helpers/proxy-process";
import type { ProxyProcess } from "./helpers/proxy-process";

// The whole path with real processes: a control plane on Postgres, two trellis-proxy
// processes that join with tokens, a namespace-wide STRICT PeerAuthentication. Traffic between
// the sidecars runs over mTLS with the certificates the mesh CA issued; plaintext is refused;
// the graph's mTLS share and the Istio metrics come from those handshakes.

const svc = (name: string) => ({ kind: "Service", metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }] } });
const strict = { kind: "PeerAuthentication", metadata: { name: "default", namespace: "default" }, spec: { mode: "STRICT" } };

function get(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/", headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

interface Edge {
  id: string;
  traffic?: { requests: number; mtlsShare: number };
}

describe("mesh mTLS end to end: join tokens, STRICT, real proxies", () => {
  let db: TestDatabase;
  let cp: ControlProcess;
  let app: TestServer;
  let reviews: ProxyProcess;
  let productpage: ProxyProcess;
  const dir = mkdtempSync(path.join(tmpdir(), "trellis-mtls-e2e-"));

  before(async () => {
    db = await createTestDatabase();
    // Zero trust: no plaintext config port at all; the proxies join and stream over mTLS.
    cp = await spawnControlPlane({ DATABASE_URL: db.url, TRELLIS_GRPC_PLAINTEXT: "false" });
    await applyResources(cp.api, [svc("productpage"), svc("reviews"), strict], "strict mesh");
    const bundle = path.join(dir, "ca.pem");
    writeFileSync(bundle, (await trpcQuery<{ pem: string }>(cp.api, "ca.bundle")).pem);
    app = await startHttpApp("reviews");
    const join = async (service: string, appPort: number) => {
      const { token } = await trpcMutation<{ token: string }>(cp.api, "ca.joinTokens.create", { namespace: "default", service });
      return spawnProxy(["--service", service, "--namespace", "default", "--workload", `${service}-v1`, "--app-port", String(appPort), "--ca-bundle", bundle, "--join-token", token, "--control-plane", cp.grpcTlsTarget, "--data-dir", path.join(dir, service)]);
    };
    reviews = await join("reviews", app.port);
    productpage = await join("productpage", 1);
    for (const id of ["default/reviews-v1", "default/productpage-v1"]) await waitForProxyStatus(cp.api, id, (s) => s.state === "SYNCED", 30_000);
  });
  after(async () => {
    await productpage?.stop();
    await reviews?.stop();
    await app?.close();
    await cp?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sidecars talk mTLS with their mesh identities; the graph and metrics say so", async () => {
    // The first request may race the snapshot that lists reviews' endpoint: wait for a 200.
    await eventually("productpage → reviews to answer 200", async () => ((await get(productpage.outbound, "reviews:9080")) === 200 ? true : undefined));
    for (let i = 0; i < 9; i++) assert.equal(await get(productpage.outbound, "reviews:9080"), 200);
    const line = await eventually("reviews' access-log line", async () => reviews.accessLog.find((l) => l.direction === "inbound" && l.response_code === 200));
    assert.equal(line.connection_security_policy, "mutual_tls");
    assert.equal(line.peer_principal, "spiffe://cluster.local/ns/default/sa/productpage");
    const metrics = await (await fetch(`http://127.0.0.1:${reviews.admin}/metrics`)).text();
    assert.match(metrics, /istio_requests_total\{[^}]*reporter="destination"[^}]*connection_security_policy="mutual_tls"[^}]*\} \d+/);
    const edge = await eventually("the productpage → reviews edge with its mTLS share", async () => {
      const g = await trpcQuery<{ edges: Edge[] }>(cp.api, "graph.get", { kind: "service", windowSec: 300 });
      const e = g.edges.find((x) => x.id === "svc:default/productpage>svc:default/reviews>http");
      return e?.traffic && e.traffic.requests >= 10 ? e : undefined;
    });
    assert.equal(edge.traffic!.mtlsShare, 1);
  });

  it("with TRELLIS_GRPC_PLAINTEXT=false the control plane opens no plaintext config port", () => {
    assert.equal(cp.grpcTarget, "off");
  });

  it("the proxy list shows when each proxy's certificate expires (the CA's record of its latest issue)", async () => {
    const rows = await trpcQuery<Array<{ proxyId: string; certificate: { spiffeId: string; notAfter: string } | null }>>(cp.api, "proxies.status", {});
    for (const [id, sa] of [["default/reviews-v1", "reviews"], ["default/productpage-v1", "productpage"]] as const) {
      const cert = rows.find((r) => r.proxyId === id)?.certificate;
      assert.equal(cert?.spiffeId, `spiffe://cluster.local/ns/default/sa/${sa}`, id);
      const left = Date.parse(cert!.notAfter) - Date.now();
      assert.ok(left > 23 * 3_600_000 && left <= 24 * 3_600_000, `${id}: expires in ${left} ms`);
    }
  });

  it("STRICT: a caller without a sidecar is refused at the connection", async () => {
    const seen = app.seen.length;
    await assert.rejects(get(reviews.inbound, "reviews:9080"), /socket hang up|ECONNRESET/);
    assert.equal(app.seen.length, seen);
  });
});
