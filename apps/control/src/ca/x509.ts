import { randomBytes } from "node:crypto";
import { createCsr, newRsaKeyPair } from "@trellis/config/csr";
import forge from "node-forge";

export { createCsr, newRsaKeyPair };

/**
 * The X.509 work of the mesh CA, with node-forge: self-signed roots, and workload
 * certificates (X509-SVIDs) signed from a CSR. Keys are generated with node:crypto (native,
 * ~20× faster than forge's JavaScript RSA) and handed to forge as PEM. RSA 2048 throughout:
 * forge reads and signs RSA only.
 */

const pki = forge.pki;

export class CertificateRequestError extends Error {
  readonly code = "TRELLIS_BAD_CSR";
}

/** A positive random serial (RFC 5280: at most 20 octets, non-negative). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString("hex");
}

/** A self-signed root for the mesh: `validDays` long, for signing certificates only. */
export function createRoot(trustDomain: string, validDays: number, now = new Date()): { certPem: string; privateKeyPem: string; notAfter: Date } {
  const keys = newRsaKeyPair();
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + validDays * 86_400_000);
  const name = [
    { name: "organizationName", value: trustDomain },
    { name: "commonName", value: `Trellis mesh root CA ${now.toISOString().slice(0, 19)}Z` },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(pki.privateKeyFromPem(keys.privateKeyPem), forge.md.sha256.create());
  return { certPem: pki.certificateToPem(cert), privateKeyPem: keys.privateKeyPem, notAfter: cert.validity.notAfter };
}

/** The common name a CSR's subject carries (proxies put their workload name there), or undefined. */
export function csrCommonName(csrPem: string): string | undefined {
  try {
    const cn = pki.certificationRequestFromPem(csrPem).subject.getField("CN") as { value?: unknown } | null;
    return typeof cn?.value === "string" ? cn.value : undefined;
  } catch {
    return undefined;
  }
}

/** The public key of a CSR, after checking its self-signature (the requester holds the private key). */
export function csrPublicKey(csrPem: string): forge.pki.PublicKey {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = pki.certificationRequestFromPem(csrPem);
  } catch (err) {
    throw new CertificateRequestError(`the CSR is not a PEM PKCS#10 request with an RSA key: ${(err as Error).message}`);
  }
  if (!csr.publicKey) throw new CertificateRequestError("the CSR carries no public key");
  let verified = false;
  try {
    verified = csr.verify();
  } catch {
    // forge throws on a signature that does not decrypt under the key: the same answer.
  }
  if (!verified) throw new CertificateRequestError("the CSR's signature does not match its public key");
  const bits = (csr.publicKey as forge.pki.rsa.PublicKey).n?.bitLength?.() ?? 0;
  if (bits < 2048) throw new CertificateRequestError(`the CSR's RSA key has ${bits} bits; at least 2048 are required`);
  return csr.publicKey;
}

export interface SignedWorkloadCert {
  certPem: string;
  notBefore: Date;
  notAfter: Date;
  serial: string;
}

/**
 * A workload certificate for `spiffeId` over the CSR's key. Only the key is taken from the
 * CSR: the identity comes from what the requester was authorized for (its join token or its
 * current certificate), never from names it asked for.
 */
export function signWorkloadCert(opts: { csrPem: string; spiffeId: string; ttlMs: number; issuerCertPem: string; issuerKeyPem: string; now?: Date }): SignedWorkloadCert {
  const now = opts.now ?? new Date();
  const publicKey = csrPublicKey(opts.csrPem);
  const issuer = pki.certificateFromPem(opts.issuerCertPem);
  const cert = pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  // Back by a minute (a tenth of a short lifetime) for clock skew between the CA and the peers, so
  // that half-life stays about half the TTL from now; never past the issuer's own end. Whole
  // seconds, as X.509 stores them, so the notAfter reported is the certificate's.
  const second = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
  cert.validity.notBefore = second(now.getTime() - Math.min(60_000, opts.ttlMs / 10));
  cert.validity.notAfter = second(Math.min(now.getTime() + opts.ttlMs, issuer.validity.notAfter.getTime()));
  cert.setSubject([{ name: "organizationName", value: new URL(opts.spiffeId).host }]);
  cert.setIssuer(issuer.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true, clientAuth: true },
    // URI SAN only, marked critical as X509-SVIDs with an empty subject would need; the subject here is not empty, so it is not.
    { name: "subjectAltName", altNames: [{ type: 6, value: opts.spiffeId }] },
    { name: "subjectKeyIdentifier" },
    // The issuer's own SKI when it has one (an operator's intermediate may compute it differently from forge), else computed as RFC 5280 method 1.
    { name: "authorityKeyIdentifier", keyIdentifier: issuerKeyId(issuer) },
  ]);
  cert.sign(pki.privateKeyFromPem(opts.issuerKeyPem), forge.md.sha256.create());
  return { certPem: pki.certificateToPem(cert), notBefore: cert.validity.notBefore, notAfter: cert.validity.notAfter, serial: cert.serialNumber };
}

/** The issuer's subjectKeyIdentifier (raw bytes), or one computed from its key when it carries none. */
function issuerKeyId(issuer: forge.pki.Certificate): string {
  const ski = issuer.getExtension("subjectKeyIdentifier") as { subjectKeyIdentifier?: string } | null;
  // forge exposes the extension's value as hex.
  if (ski?.subjectKeyIdentifier) return forge.util.hexToBytes(ski.subjectKeyIdentifier);
  return issuer.generateSubjectKeyIdentifier().getBytes();
}

/** Notes about a certificate PEM the CA is given (operator-supplied): is it a CA, its end, its key matches. */
export function describeCaCert(certPem: string, privateKeyPem: string): { notAfter: Date; isCa: boolean; keyMatches: boolean; selfSigned: boolean } {
  const cert = pki.certificateFromPem(certPem);
  const key = pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey;
  const pub = cert.publicKey as forge.pki.rsa.PublicKey;
  const bc = cert.getExtension("basicConstraints") as { cA?: boolean } | null;
  return { notAfter: cert.validity.notAfter, isCa: bc?.cA === true, keyMatches: pub.n.equals(key.n) && pub.e.equals(key.e), selfSigned: cert.isIssuer(cert) };
}
