import { generateKeyPairSync } from "node:crypto";
import forge from "node-forge";

/**
 * A workload's side of getting a certificate: an RSA key made locally (node:crypto, native and
 * fast) and a PKCS#10 request over it (node-forge: node:crypto cannot write CSRs). RSA 2048,
 * because the mesh CA signs with forge, which reads RSA keys only. Used by proxies, and by the
 * control plane for its own serving certificate. Imported as `@trellis/config/csr` so that
 * nothing else pulls node-forge in.
 */

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function newRsaKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** A CSR over the key pair, signed with its private key (proof of possession). The CA takes only the key from it. */
export function createCsr(privateKeyPem: string, publicKeyPem: string, commonName = "trellis-proxy"): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  csr.setSubject([{ name: "commonName", value: commonName }]);
  csr.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}
