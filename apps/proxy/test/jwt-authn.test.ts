import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import type { CryptoKey, JWK } from "jose";
import type { Snapshot } from "@trellis/config";
import { startHttpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { HttpClient, until } from "./helpers/client";
import { startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";

// RequestAuthentication on a real server sidecar: real RS256 and ES256 keys (jose), one issuer's
// JWKS served by a real HTTP server on port 0 (fetched and cached by the proxy), the other
// inline; tokens signed here. Then authorization rules on the verified claims.

const RS_ISSUER = "https://issuer.example";
const ES_ISSUER = "https://es.example";

interface Keys {
  priv: CryptoKey;
  jwk: JWK;
}

async function keys(alg: "RS256" | "ES256", kid: string): Promise<Keys> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { priv: privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

describe("RequestAuthentication (JWT) on the server sidecar", () => {
  const t = new Teardown();
  let app: TestServer;
  let server: TestProxy;
  let client: HttpClient;
  let rs: Keys;
  let es: Keys;
  let stranger: Keys;
  let second: Keys;
  let jwksFetches = 0;
  let jwks: http.Server;

  const token = (k: Keys, alg: string, claims: Record<string, unknown>, opts: { issuer?: string; audience?: string; expiresIn?: string; kid?: string } = {}) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg, kid: opts.kid ?? k.jwk.kid! })
      .setIssuer(opts.issuer ?? (alg === "RS256" ? RS_ISSUER : ES_ISSUER))
      .setSubject("alice")
      .setAudience(opts.audience ?? "bookinfo")
      .setIssuedAt()
      .setExpirationTime(opts.expiresIn ?? "5m")
      .sign(k.priv);
  const get = (path: string, bearer?: string) => client.request("api:9080", path, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});

  before(async () => {
    rs = await keys("RS256", "rs-1");
    es = await keys("ES256", "es-1");
    stranger = await keys("RS256", "rs-1"); // same kid, another key: a forged signature
    second = await keys("RS256", "rs-2");
    jwks = http.createServer((req, res) => {
      jwksFetches++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [rs.jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
    t.track({ close: () => new Promise<void>((r) => jwks.close(() => r())) });
    const rules: Snapshot["inbound"]["jwtRules"] = [
      { source: "RequestAuthentication/default/rs", rule: { issuer: RS_ISSUER, audiences: ["bookinfo"], jwksUri: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`, forwardOriginalToken: false } },
      { source: "RequestAuthentication/default/es", rule: { issuer: ES_ISSUER, jwks: JSON.stringify({ keys: [es.jwk] }), forwardOriginalToken: true } },
      // A second RequestAuthentication for the RS issuer, with another key and an empty audience list (no audience check).
      { source: "RequestAuthentication/default/rs-2", rule: { issuer: RS_ISSUER, audiences: [], jwks: JSON.stringify({ keys: [second.jwk] }), forwardOriginalToken: false } },
    ];
    const policies: Snapshot["inbound"]["authorizationPolicies"] = [
      { source: "AuthorizationPolicy/default/admins-only", action: "ALLOW", rules: [{ to: [{ operation: { notPaths: ["/admin/*"] } }] }, { to: [{ operation: { paths: ["/admin/*"] } }], when: [{ key: "request.auth.claims[groups]", values: ["admins"] }] }] },
      // /private needs a verified JWT principal from either issuer.
      { source: "AuthorizationPolicy/default/private-needs-token", action: "DENY", rules: [{ to: [{ operation: { paths: ["/private/*"] } }], when: [{ key: "request.auth.principal", notValues: [`${RS_ISSUER}/*`, `${ES_ISSUER}/*`] }] }] },
    ];
    app = t.track(await startHttpApp("api"));
    server = t.track(await startSidecar("api", app.port, { jwtRules: rules, authorizationPolicies: policies }));
    client = t.track(new HttpClient(server.inboundPort));
  });
  after(() => t.stop());

  it("a valid RS256 token (remote JWKS) and a valid ES256 token (inline JWKS) pass; no token passes too", async () => {
    const r1 = await get("/items", await token(rs, "RS256", {}));
    assert.equal(r1.status, 200);
    assert.equal(app.seen.at(-1)!.headers.authorization, undefined, "the token is removed unless forwardOriginalToken");
    const esToken = await token(es, "ES256", {}, { audience: "anything" });
    assert.equal((await get("/items", esToken)).status, 200, "no audiences configured for this issuer: any audience");
    assert.equal(app.seen.at(-1)!.headers.authorization, `Bearer ${esToken}`, "forwardOriginalToken keeps it");
    assert.equal((await get("/items")).status, 200, "no token: authentication has nothing to refuse");
    for (let i = 0; i < 5; i++) assert.equal((await get("/items", await token(rs, "RS256", {}))).status, 200);
    assert.equal(jwksFetches, 1, "the remote JWKS is fetched once and cached");
    assert.equal((await get("/items", await token(second, "RS256", {}, { audience: "other-aud" }))).status, 200, "the second rule for the issuer accepts its own key, any audience");
  });

  it("a bad signature, a wrong issuer, an expired token, a wrong audience or garbage are 401 with the cause", async () => {
    const cases: Array<[string, Promise<string> | string, RegExp]> = [
      ["forged signature", token(stranger, "RS256", {}), /Jwt verification fails/],
      ["unknown issuer", token(rs, "RS256", {}, { issuer: "https://evil.example" }), /Jwt issuer is not configured/],
      ["expired", token(rs, "RS256", {}, { expiresIn: "-1m" }), /Jwt is expired/],
      ["wrong audience", token(rs, "RS256", {}, { audience: "elsewhere" }), /Audiences in Jwt are not allowed/],
      ["garbage", "not.a.jwt", /Jwt/],
    ];
    const seen = app.seen.length;
    for (const [what, tok, body] of cases) {
      const r = await get("/items", await tok);
      assert.equal(r.status, 401, what);
      assert.match(r.body, body, what);
      assert.equal(r.headers["x-trellis-response-flags"], "UAEX", what);
    }
    assert.equal(app.seen.length, seen, "none reached the app");
    await until(() => server.accessLog.lines.some((l) => typeof l.reason === "string" && (l.reason as string).startsWith("RequestAuthentication/default/rs: Jwt is expired")), "the refusal in the access log");
  });

  it("claims and the request principal reach authorization", async () => {
    assert.equal((await get("/admin/users", await token(rs, "RS256", { groups: ["admins"] }))).status, 200);
    assert.equal((await get("/admin/users", await token(rs, "RS256", { groups: ["users"] }))).status, 403);
    assert.equal((await get("/admin/users")).status, 403, "no token, no claims");
    assert.equal((await get("/private/x")).status, 403, "a path that needs a verified principal");
    assert.equal((await get("/private/x", await token(es, "ES256", {}))).status, 200);
  });
});
