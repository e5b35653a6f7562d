import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import type { Snapshot } from "@trellis/config";
import { startHttpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { HttpClient, until } from "./helpers/client";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";
import { TestCa } from "./helpers/test-ca";

// trellis-proxy in gateway mode on real sockets: it listens on its Gateway's server port,
// picks the server by Host and the bound Route's rule by path, and carries the request over
// mTLS to the destination's sidecar; its own RequestAuthentication and AuthorizationPolicy
// guard one path with a JWT.

const ISSUER = "https://login.bookinfo.example";

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("gateway mode: an ingress gateway in front of a STRICT mesh", () => {
  const t = new Teardown();
  const ca = new TestCa();
  let app: TestServer;
  let productpage: TestProxy;
  let ingress: TestProxy;
  let client: HttpClient;
  let gatewayPort: number;
  let token: (sub: string, issuer?: string) => Promise<string>;

  before(async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" }] });
    token = (sub, issuer = ISSUER) => new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer(issuer).setSubject(sub).setIssuedAt().setExpirationTime("5m").sign(privateKey);

    app = t.track(await startHttpApp("productpage"));
    productpage = t.track(await startSidecar("productpage", app.port, { identity: ca.issue("default", "productpage"), peerAuthentication: { mode: "STRICT", portLevel: {}, source: null } }));
    gatewayPort = await freePort();
    const gateways: Snapshot["gateways"] = [
      {
        source: "Gateway/default/bookinfo",
        servers: [{ port: { number: gatewayPort, name: "http", protocol: "HTTP" }, hosts: ["bookinfo.example.com", "*.bookinfo.test"] }],
        routes: [
          {
            source: "Route/default/bookinfo",
            hosts: ["bookinfo.example.com", "*.bookinfo.test"],
            http: [{ match: [{ path: { prefix: "/productpage" } }, { path: { prefix: "/api/" } }], route: [{ destination: { host: "productpage.default" } }] }],
            tcp: [],
          },
        ],
      },
    ];
    const snap = snapshot({
      service: "ingress",
      namespace: "default",
      gateways,
      hosts: [host({ name: "productpage", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port: productpage.inboundPort, sidecar: true }] })],
      jwtRules: [{ source: "RequestAuthentication/default/ingress-jwt", rule: { issuer: ISSUER, jwks, forwardOriginalToken: false } }],
      authorizationPolicies: [
        { source: "AuthorizationPolicy/default/api-needs-jwt", action: "DENY", rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }], to: [{ operation: { paths: ["/api/*"] } }] }] },
      ],
    });
    ingress = t.track(await startProxy({ app: "ingress", workload: "ingress-0" }, snap, { identity: ca.issue("default", "ingress"), mode: "gateway" }));
    await ingress.dp.gatewayListeners!.settled();
    client = t.track(new HttpClient(gatewayPort));
  });
  after(() => t.stop());

  it("listens on the Gateway's port and routes by Host and path to the sidecar, over mTLS", async () => {
    assert.deepEqual(ingress.dp.gatewayListeners!.ports, [gatewayPort]);
    const r = await client.request("bookinfo.example.com", "/productpage?u=normal");
    assert.equal(r.status, 200, r.body);
    assert.equal(app.seen.at(-1)!.path, "/productpage?u=normal");
    await until(() => productpage.accessLog.lines.some((l) => l.path === "/productpage?u=normal"), "the sidecar's line");
    const line = productpage.accessLog.lines.find((l) => l.path === "/productpage?u=normal")!;
    assert.equal(line.connection_security_policy, "mutual_tls");
    assert.equal(line.peer_principal, "spiffe://cluster.local/ns/default/sa/ingress");
    assert.equal((await client.request("shop.bookinfo.test:80", "/productpage")).status, 200, "a wildcard server host");
  });

  it("a Host no server covers, or a path no rule matches, is 404", async () => {
    assert.equal((await client.request("evil.example.com", "/productpage")).status, 404);
    assert.equal((await client.request("bookinfo.example.com", "/admin")).status, 404);
  });

  it("the gateway's JWT policy: /api/* needs a valid token (none → 403, bad → 401, good → 200); other paths do not", async () => {
    const seen = app.seen.length;
    assert.equal((await client.request("bookinfo.example.com", "/api/v1/products")).status, 403);
    assert.equal((await client.request("bookinfo.example.com", "/api/v1/products", { headers: { authorization: `Bearer ${await token("alice", "https://evil.example")}` } })).status, 401);
    assert.equal(app.seen.length, seen, "refused at the gateway");
    const ok = await client.request("bookinfo.example.com", "/api/v1/products", { headers: { authorization: `Bearer ${await token("alice")}` } });
    assert.equal(ok.status, 200);
    assert.equal(app.seen.at(-1)!.headers["authorization"], undefined, "the token stops at the gateway (forwardOriginalToken false)");
    assert.equal((await client.request("bookinfo.example.com", "//api/../api/v1/products")).status, 403, "no path detour around the rule");
  });

  it("a new snapshot moves the listener: the old port closes, the new one serves", async () => {
    const next = await freePort();
    const current = ingress.dp.current!.snapshot;
    const moved = { ...current, version: "00000000000000aa", gateways: current.gateways.map((g) => ({ ...g, servers: g.servers.map((s) => ({ ...s, port: { ...s.port, number: next } })) })) };
    ingress.dp.apply(moved);
    await ingress.dp.gatewayListeners!.settled();
    assert.deepEqual(ingress.dp.gatewayListeners!.ports, [next]);
    const c2 = t.track(new HttpClient(next));
    assert.equal((await c2.request("bookinfo.example.com", "/productpage")).status, 200);
    await assert.rejects(new HttpClient(gatewayPort).request("bookinfo.example.com", "/productpage"), /ECONNREFUSED|socket hang up|ECONNRESET/);
  });
});
