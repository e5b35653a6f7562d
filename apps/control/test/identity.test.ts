import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { IdentityClient } from "@trellis/proto";
import type { CertifyRequest, CertifyResponse } from "@trellis/proto";
import type { ControlPlane } from "../src/app";
import { splitPem } from "../src/ca/certificate-authority";
import { FakeProxy } from "../src/distribution/test/fake-proxy";
import { createCsr, newRsaKeyPair } from "../src/ca/x509";
import { errorOf, startTestControlPlane, type Api, type LogCapture } from "./helpers/control-plane";
import { createTestDatabase, type TestDatabase } from "./helpers/pg";

// The Identity service on a real control plane's TLS port, called by a real grpc-js client:
// joining with a token, renewing with the certificate on the connection, and every refusal.

const CONTROL = "URI:spiffe://cluster.local/ns/trellis-system/sa/trellis-control";

interface Caller {
  certify(req: Partial<CertifyRequest>): Promise<CertifyResponse>;
  close(): void;
}

/**
 * A client of the TLS port that trusts `bundle` and checks that the server is the control
 * plane by its SPIFFE ID (not a host name); with `identity`, it presents that certificate.
 */
function caller(address: string, bundle: string, identity?: { keyPem: string; certChainPem: string }): Caller {
  const creds = grpc.credentials.createSsl(Buffer.from(bundle), identity ? Buffer.from(identity.keyPem) : null, identity ? Buffer.from(identity.certChainPem) : null, {
    checkServerIdentity: (_host, cert) => (cert.subjectaltname === CONTROL ? undefined : new Error(`the server is ${cert.subjectaltname}, not the control plane`)),
  });
  const client = new IdentityClient(address, creds);
  return {
    certify: (req) =>
      new Promise((resolve, reject) => client.certify({ namespace: "", service: "", csrPem: "", joinToken: "", ...req }, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res!)))),
    close: () => client.close(),
  };
}

const status = (code: grpc.status) => (err: unknown) => (err as grpc.ServiceError).code === code;

describe("Identity service on the TLS port [postgres]", () => {
  let pg: TestDatabase;
  let cp: ControlPlane;
  let api: Api;
  let log: LogCapture;
  let bundle: string;

  before(async () => {
    pg = await createTestDatabase("trellis_identity");
    ({ cp, api, log } = await startTestControlPlane({ databaseUrl: pg.url }));
    bundle = (await api.ca.bundle.query()).pem;
  });
  after(async () => {
    await cp.close();
    await pg.drop();
  });

  test("a proxy joins with a token, then renews with its certificate, keeping its key to itself", async () => {
    const { token } = await api.ca.joinTokens.create.mutate({ namespace: "bookinfo", service: "reviews" });
    const key = newRsaKeyPair();
    const joining = caller(cp.grpcTlsAddress, bundle);
    const first = await joining.certify({ namespace: "bookinfo", service: "reviews", csrPem: createCsr(key.privateKeyPem, key.publicKeyPem), joinToken: token });
    joining.close();
    assert.equal(first.spiffeId, "spiffe://cluster.local/ns/bookinfo/sa/reviews");
    const cert = new X509Certificate(splitPem(first.certChainPem)[0]!);
    assert.equal(cert.subjectAltName, "URI:spiffe://cluster.local/ns/bookinfo/sa/reviews");
    assert.equal(first.notAfterUnixMs, Date.parse(cert.validTo));
    assert.equal(first.trustBundlePem, bundle);

    // Renewal: a new key, no token; the connection's certificate says who is asking.
    const next = newRsaKeyPair();
    const renewing = caller(cp.grpcTlsAddress, bundle, { keyPem: key.privateKeyPem, certChainPem: first.certChainPem });
    const second = await renewing.certify({ namespace: "bookinfo", service: "reviews", csrPem: createCsr(next.privateKeyPem, next.publicKeyPem) });
    assert.equal(second.spiffeId, first.spiffeId);
    assert.notEqual(new X509Certificate(splitPem(second.certChainPem)[0]!).serialNumber, cert.serialNumber);
    // …but only for its own identity.
    await assert.rejects(renewing.certify({ namespace: "bookinfo", service: "ratings", csrPem: createCsr(next.privateKeyPem, next.publicKeyPem) }), status(grpc.status.PERMISSION_DENIED));
    renewing.close();
    assert.match(log.text(), /issued a workload certificate.*join token/);

    // The config stream on the TLS port: a proxy with this certificate speaks for bookinfo/reviews only.
    const creds = () => grpc.credentials.createSsl(Buffer.from(bundle), Buffer.from(key.privateKeyPem), Buffer.from(first.certChainPem), { checkServerIdentity: () => undefined });
    const impostor = new FakeProxy(cp.grpcTlsAddress, creds());
    impostor.hello({ namespace: "bookinfo", service: "ratings", workload: "ratings-1" });
    const end = await impostor.ended();
    assert.equal(end.code, grpc.status.PERMISSION_DENIED);
    assert.match(end.details, /certificate is for bookinfo\/reviews/);
    const honest = new FakeProxy(cp.grpcTlsAddress, creds());
    honest.hello({ namespace: "bookinfo", service: "reviews", workload: "reviews-1" });
    await honest.snapshot(1);
    honest.cancel();
    assert.ok(!log.text().includes(token.split(".")[1]!), "the token's secret is never logged");
  });

  test("refusals: no token nor certificate, a bad, revoked, expired or out-of-scope token, a bad CSR", async () => {
    const key = newRsaKeyPair();
    const csrPem = createCsr(key.privateKeyPem, key.publicKeyPem);
    const c = caller(cp.grpcTlsAddress, bundle);
    const id = { namespace: "bookinfo", service: "details", csrPem };
    await assert.rejects(c.certify(id), status(grpc.status.UNAUTHENTICATED));
    await assert.rejects(c.certify({ ...id, joinToken: "0123456789abcdef.not-the-secret" }), status(grpc.status.UNAUTHENTICATED));
    const scoped = await api.ca.joinTokens.create.mutate({ namespace: "bookinfo", service: "reviews" });
    await assert.rejects(c.certify({ ...id, joinToken: scoped.token }), (err: unknown) => status(grpc.status.PERMISSION_DENIED)(err) && /is for bookinfo\/reviews, not bookinfo\/details/.test((err as Error).message));
    const revoked = await api.ca.joinTokens.create.mutate({ namespace: "bookinfo" });
    await api.ca.joinTokens.revoke.mutate({ id: revoked.info.id });
    await assert.rejects(c.certify({ ...id, joinToken: revoked.token }), (err: unknown) => status(grpc.status.UNAUTHENTICATED)(err) && /revoked/.test((err as Error).message));
    const shortLived = await api.ca.joinTokens.create.mutate({ namespace: "bookinfo", ttlHours: 0.0003 }); // about a second
    await new Promise((r) => setTimeout(r, 1300));
    await assert.rejects(c.certify({ ...id, joinToken: shortLived.token }), (err: unknown) => status(grpc.status.UNAUTHENTICATED)(err) && /expired/.test((err as Error).message));
    const good = await api.ca.joinTokens.create.mutate({ namespace: "bookinfo" });
    await assert.rejects(c.certify({ ...id, csrPem: "garbage", joinToken: good.token }), status(grpc.status.INVALID_ARGUMENT));
    await assert.rejects(c.certify({ ...id, namespace: "Not A Label", joinToken: good.token }), status(grpc.status.PERMISSION_DENIED), "the token is for bookinfo");
    // The control plane's own identity is never issued, not even with a token covering its namespace.
    const system = await api.ca.joinTokens.create.mutate({ namespace: "trellis-system" });
    await assert.rejects(c.certify({ namespace: "trellis-system", service: "trellis-control", csrPem, joinToken: system.token }), (err: unknown) => status(grpc.status.PERMISSION_DENIED)(err) && /control plane's identity/.test((err as Error).message));
    const direct = await errorOf(api.ca.joinTokens.create.mutate({ namespace: "trellis-system", service: "trellis-control" }));
    assert.equal(direct.code, "BAD_REQUEST");
    c.close();
  });

  test("the plaintext port does not serve Identity; a client that does not trust the mesh CA cannot connect to the TLS port", async () => {
    const plain = new IdentityClient(cp.grpcAddress, grpc.credentials.createInsecure());
    await assert.rejects(new Promise((resolve, reject) => plain.certify({ namespace: "a", service: "b", csrPem: "x", joinToken: "y" }, (err, res) => (err ? reject(err) : resolve(res)))), status(grpc.status.UNIMPLEMENTED));
    plain.close();
    const stranger = caller(cp.grpcTlsAddress, splitPem(bundle).length ? (await import("../src/ca/x509")).createRoot("elsewhere", 1).certPem : bundle);
    await assert.rejects(stranger.certify({ namespace: "a", service: "b", csrPem: "x", joinToken: "y" }), status(grpc.status.UNAVAILABLE));
    stranger.close();
  });
});
