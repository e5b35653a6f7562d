import assert from "node:assert/strict";
import { X509Certificate, randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { after, before, describe, test } from "node:test";
import forge from "node-forge";
import { createLogger } from "@trellis/config/log";
import { createTestDatabase } from "../../test/helpers/pg";
import type { TestDatabase } from "../../test/helpers/pg";
import { openDatabase } from "../db/open-database";
import type { Database } from "../db/open-database";
import { CaError, CertificateAuthority, splitPem } from "./certificate-authority";
import type { CaOptions } from "./certificate-authority";
import { JoinTokenError, JoinTokens } from "./join-tokens";
import { KeyEncryptionError, open } from "./key-encryption";
import { CertificateRequestError, createCsr, createRoot, newRsaKeyPair } from "./x509";

const DAY = 86_400_000;
const lines: string[] = [];
const log = createLogger("debug", {}, (l) => lines.push(l));

/** A proxy's side: a key pair that never leaves it, and the CSR it sends. */
function proxyKey(): { keyPem: string; csrPem: string } {
  const k = newRsaKeyPair();
  return { keyPem: k.privateKeyPem, csrPem: createCsr(k.privateKeyPem, k.publicKeyPem) };
}

/** A TLS handshake between two workload identities, each trusting `ca` (PEM roots); resolves with the SAN each side saw, or rejects. */
async function handshake(server: { key: string; cert: string }, client: { key: string; cert: string }, ca: { server: string; client: string }): Promise<{ serverSaw: string | undefined; clientSaw: string | undefined }> {
  let serverSaw: string | undefined;
  const srv = tls.createServer({ key: server.key, cert: server.cert, ca: ca.server, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.3" }, (s) => {
    serverSaw = s.getPeerX509Certificate()?.subjectAltName;
    s.end("ok");
  });
  srv.on("tlsClientError", () => undefined);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  try {
    return await new Promise((resolve, reject) => {
      const c = tls.connect({ port: (srv.address() as AddressInfo).port, host: "127.0.0.1", key: client.key, cert: client.cert, ca: ca.client, checkServerIdentity: () => undefined, minVersion: "TLSv1.3" });
      c.on("error", reject);
      c.on("close", () => reject(new Error("the connection closed before the server answered")));
      c.on("data", () => {
        const clientSaw = c.getPeerX509Certificate()?.subjectAltName;
        c.end();
        // The server records its peer on the same turn it answers.
        setImmediate(() => resolve({ serverSaw, clientSaw }));
      });
    });
  } finally {
    srv.close();
  }
}

describe("mesh certificate authority [postgres]", () => {
  let pg: TestDatabase;
  let db: Database;
  let clock = Date.now();
  const kek = randomBytes(32);
  const opts = (extra: Partial<CaOptions> = {}): CaOptions => ({ trustDomain: "cluster.local", workloadTtlMs: DAY, rootValidDays: 3650, kek, log, now: () => new Date(clock), ...extra });

  before(async () => {
    pg = await createTestDatabase("trellis_ca");
    db = await openDatabase({ databaseUrl: pg.url, dataDir: "" });
  });
  after(async () => {
    await db.close();
    await pg.drop();
  });

  test("replicas starting together agree on one generated root, stored sealed", async () => {
    const cas = await Promise.all([1, 2, 3].map(() => CertificateAuthority.open(db, opts())));
    const rows = await db.sql<{ state: string; key_sealed: string; cert_pem: string }>("SELECT state, key_sealed, cert_pem FROM ca_authorities");
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.state, "active");
    assert.match(rows[0]!.key_sealed, /^v1\./);
    assert.doesNotMatch(rows[0]!.key_sealed, /PRIVATE KEY/);
    const root = new X509Certificate(rows[0]!.cert_pem);
    assert.ok(root.ca);
    assert.equal(await cas[0]!.trustBundlePem(), await cas[2]!.trustBundlePem());
    await assert.rejects(CertificateAuthority.open(db, opts({ kek: randomBytes(32) })), (e: unknown) => e instanceof KeyEncryptionError && /TRELLIS_CA_KEK/.test(e.message));
    // A sealed key whose GCM tag was cut short is refused, not checked against fewer bytes.
    const [v, iv, tag, ct] = rows[0]!.key_sealed.split(".");
    assert.throws(() => open(kek, [v, iv, tag!.slice(0, 6), ct].join("."), "trellis-ca-key:1"), KeyEncryptionError);
  });

  test("issues a 24 h workload certificate whose only identity is the SPIFFE ID it was authorized for", async () => {
    const ca = await CertificateAuthority.open(db, opts());
    const { keyPem, csrPem } = proxyKey();
    const issued = await ca.issue(csrPem, { namespace: "bookinfo", service: "reviews" });
    assert.equal(issued.spiffeId, "spiffe://cluster.local/ns/bookinfo/sa/reviews");
    const cert = new X509Certificate(issued.certChainPem);
    assert.equal(cert.subjectAltName, "URI:spiffe://cluster.local/ns/bookinfo/sa/reviews");
    assert.equal(cert.ca, false);
    assert.ok(cert.checkPrivateKey((await import("node:crypto")).createPrivateKey(keyPem)), "the certificate is for the proxy's own key");
    const root = new X509Certificate(splitPem(issued.trustBundlePem)[0]!);
    assert.ok(cert.checkIssued(root) && cert.verify(root.publicKey));
    const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    assert.ok(Math.abs(lifetime - (DAY + 60_000)) < 2000, `lifetime ${lifetime} ms`);
    assert.deepEqual(cert.keyUsage?.sort(), ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], "server and client auth");
  });

  test("two workload certificates complete a real mutual TLS handshake; one from another CA is refused", async () => {
    const ca = await CertificateAuthority.open(db, opts());
    const a = proxyKey();
    const b = proxyKey();
    const ia = await ca.issue(a.csrPem, { namespace: "bookinfo", service: "productpage" });
    const ib = await ca.issue(b.csrPem, { namespace: "bookinfo", service: "reviews" });
    const bundle = ia.trustBundlePem;
    const seen = await handshake({ key: b.keyPem, cert: ib.certChainPem }, { key: a.keyPem, cert: ia.certChainPem }, { server: bundle, client: bundle });
    assert.equal(seen.serverSaw, "URI:spiffe://cluster.local/ns/bookinfo/sa/productpage");
    assert.equal(seen.clientSaw, "URI:spiffe://cluster.local/ns/bookinfo/sa/reviews");

    // Another mesh's CA (its own database and key): its certificate is not trusted here.
    const otherPg = await createTestDatabase("trellis_ca_other");
    const otherDb = await openDatabase({ databaseUrl: otherPg.url, dataDir: "" });
    try {
      const other = await CertificateAuthority.open(otherDb, opts({ kek: randomBytes(32) }));
      const m = proxyKey();
      const im = await other.issue(m.csrPem, { namespace: "bookinfo", service: "productpage" });
      await assert.rejects(handshake({ key: b.keyPem, cert: ib.certChainPem }, { key: m.keyPem, cert: im.certChainPem }, { server: bundle, client: bundle }));
    } finally {
      await otherDb.close();
      await otherPg.drop();
    }
  });

  test("a CSR that is not one, is forged, or has a short key is refused by name", async () => {
    const ca = await CertificateAuthority.open(db, opts());
    await assert.rejects(ca.issue("not a csr", { namespace: "a", service: "b" }), CertificateRequestError);
    const k = newRsaKeyPair();
    const other = newRsaKeyPair();
    // A CSR carrying one key, signed with another: no proof of possession.
    const csr = forge.pki.createCertificationRequest();
    csr.publicKey = forge.pki.publicKeyFromPem(k.publicKeyPem);
    csr.setSubject([{ name: "commonName", value: "x" }]);
    csr.sign(forge.pki.privateKeyFromPem(other.privateKeyPem), forge.md.sha256.create());
    await assert.rejects(ca.issue(forge.pki.certificationRequestToPem(csr), { namespace: "a", service: "b" }), /signature does not match/);
    const small = forge.pki.rsa.generateKeyPair({ bits: 1024, workers: -1 });
    const weak = forge.pki.createCertificationRequest();
    weak.publicKey = small.publicKey;
    weak.sign(small.privateKey, forge.md.sha256.create());
    await assert.rejects(ca.issue(forge.pki.certificationRequestToPem(weak), { namespace: "a", service: "b" }), /1024 bits; at least 2048/);
    await assert.rejects(ca.issue(createCsr(k.privateKeyPem, k.publicKeyPem), { namespace: "Bad NS", service: "b" }), /namespace 'Bad NS'/);
  });

  test("root rotation: both roots trusted through the overlap, old certificates keep working, then the old root drops out", async () => {
    const ca = await CertificateAuthority.open(db, opts());
    const a = proxyKey();
    const b = proxyKey();
    const before = await ca.issue(a.csrPem, { namespace: "bookinfo", service: "productpage" });
    const rotated = await ca.rotate();
    const afterCert = await ca.issue(b.csrPem, { namespace: "bookinfo", service: "reviews" });
    const bundle = afterCert.trustBundlePem;
    assert.equal(splitPem(bundle).length, 2, "old and new roots during the overlap");
    assert.equal(new X509Certificate(splitPem(bundle)[0]!).fingerprint256, rotated.fingerprint, "the new root first");
    const seen = await handshake({ key: b.keyPem, cert: afterCert.certChainPem }, { key: a.keyPem, cert: before.certChainPem }, { server: bundle, client: bundle });
    assert.equal(seen.serverSaw, "URI:spiffe://cluster.local/ns/bookinfo/sa/productpage", "a pre-rotation certificate is accepted by a post-rotation peer");
    clock += DAY + 1000;
    assert.equal(await ca.retireExpired(), 1);
    assert.equal(splitPem(await ca.trustBundlePem()).length, 1);
    const states = (await ca.describe()).map((d) => d.state);
    assert.deepEqual(states, ["active", "retired"]);
  });

  test("an operator's intermediate signs with its chain; a CA certificate without its key, or without a chain, is refused", async () => {
    const root = createRoot("corp.example", 3650);
    const inter = newRsaKeyPair();
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(inter.publicKeyPem);
    cert.serialNumber = "01";
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 365 * DAY);
    cert.setSubject([{ name: "commonName", value: "corp mesh intermediate" }]);
    cert.setIssuer(forge.pki.certificateFromPem(root.certPem).subject.attributes);
    // Its key identifier is not the SHA-1 of its key (as forge would compute it): some CAs use other methods.
    cert.setExtensions([{ name: "basicConstraints", cA: true, critical: true }, { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true }, { name: "subjectKeyIdentifier", value: forge.asn1.toDer(forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, forge.util.hexToBytes("0a1b2c3d4e5f60718293"))).getBytes() }]);
    cert.sign(forge.pki.privateKeyFromPem(root.privateKeyPem), forge.md.sha256.create());
    const interPem = forge.pki.certificateToPem(cert);

    await assert.rejects(CertificateAuthority.open(db, opts({ operator: { certPem: interPem, keyPem: inter.privateKeyPem } })), (e: unknown) => e instanceof CaError && /TRELLIS_CA_CHAIN_FILE/.test(e.message));
    await assert.rejects(CertificateAuthority.open(db, opts({ operator: { certPem: interPem, keyPem: newRsaKeyPair().privateKeyPem, chainPem: root.certPem } })), /does not belong/);
    const ca = await CertificateAuthority.open(db, opts({ operator: { certPem: interPem, keyPem: inter.privateKeyPem, chainPem: root.certPem } }));
    const p = proxyKey();
    const issued = await ca.issue(p.csrPem, { namespace: "bookinfo", service: "details" });
    const [leaf, mid] = splitPem(issued.certChainPem).map((pem) => new X509Certificate(pem));
    assert.ok(leaf!.verify(mid!.publicKey) && mid!.verify(new X509Certificate(root.certPem).publicKey), "leaf → intermediate → operator root");
    // OpenSSL's issuer check (X509_check_issued) compares the leaf's authority key id with the intermediate's own.
    assert.ok(leaf!.checkIssued(mid!), "the leaf's authorityKeyIdentifier is the intermediate's subjectKeyIdentifier");
    const rootPrint = new X509Certificate(root.certPem).fingerprint256;
    assert.ok(splitPem(issued.trustBundlePem).some((pem) => new X509Certificate(pem).fingerprint256 === rootPrint), "the operator's root is trusted");
    // Opening again with the same certificate imports nothing new.
    const count = (await db.sql("SELECT id FROM ca_authorities")).length;
    await CertificateAuthority.open(db, opts({ operator: { certPem: interPem, keyPem: inter.privateKeyPem, chainPem: root.certPem } }));
    assert.equal((await db.sql("SELECT id FROM ca_authorities")).length, count);
  });

  test("nothing the CA logs or describes holds a private key", async () => {
    const ca = await CertificateAuthority.open(db, opts());
    const described = JSON.stringify(await ca.describe());
    assert.doesNotMatch(described, /PRIVATE KEY|key_sealed|keySealed/);
    assert.ok(lines.length > 0, "the CA logged its lifecycle");
    for (const l of lines) assert.doesNotMatch(l, /PRIVATE KEY|v1\.[A-Za-z0-9_-]{10,}\./, l);
  });

  test("join tokens: scoped, expiring, revocable; the secret is never stored", async () => {
    const tokens = new JoinTokens(db, () => new Date(clock));
    const { token, info } = await tokens.create({ namespace: "bookinfo", service: "reviews", ttlMs: 3_600_000, createdBy: "admin" });
    const secret = token.split(".")[1]!;
    assert.equal((await tokens.redeem(token, { namespace: "bookinfo", service: "reviews" })).uses, 1);
    const stored = JSON.stringify(await db.sql("SELECT * FROM join_tokens"));
    assert.ok(!stored.includes(secret), "only a hash of the secret is kept");
    assert.ok(!JSON.stringify(await tokens.list()).includes(secret));
    const refused = async (t: string, id: { namespace: string; service: string }, reason: string) =>
      assert.rejects(tokens.redeem(t, id), (e: unknown) => e instanceof JoinTokenError && e.reason === reason && !e.message.includes(secret));
    await refused(token, { namespace: "bookinfo", service: "ratings" }, "out-of-scope");
    await refused(token, { namespace: "other", service: "reviews" }, "out-of-scope");
    await refused(`${info.id}.wrong-secret`, { namespace: "bookinfo", service: "reviews" }, "unknown");
    await refused("garbage", { namespace: "bookinfo", service: "reviews" }, "malformed");
    const anyService = await tokens.create({ namespace: "bookinfo", ttlMs: 3_600_000, createdBy: "admin" });
    await tokens.redeem(anyService.token, { namespace: "bookinfo", service: "ratings" });
    assert.ok(await tokens.revoke(info.id));
    await refused(token, { namespace: "bookinfo", service: "reviews" }, "revoked");
    clock += 3_600_001;
    await refused(anyService.token, { namespace: "bookinfo", service: "ratings" }, "expired");
    assert.equal(await tokens.revoke("0000000000000000"), false);
  });
});
