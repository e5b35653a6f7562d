import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * Encryption of the CA's private keys at rest: AES-256-GCM under a key-encryption key (KEK)
 * that never enters the database. The KEK comes from TRELLIS_CA_KEK (base64 of 32 bytes: what
 * an operator with several replicas sets, from a secret store), else from `<data dir>/ca-kek`,
 * created on first start with mode 0600 (the single-replica and demo case).
 *
 * Sealed form: `v1.<iv>.<tag>.<ciphertext>`, base64url parts; the AAD binds it to its use, so a
 * sealed value cannot be moved to another field that uses the same KEK.
 */

export const KEK_BYTES = 32;
const VERSION = "v1";

export class KeyEncryptionError extends Error {
  readonly code = "TRELLIS_CA_KEK";
}

/** Decodes TRELLIS_CA_KEK; throws naming the variable (never echoing its value). */
export function parseKek(base64: string): Buffer {
  const key = Buffer.from(base64, "base64");
  if (key.length !== KEK_BYTES || key.toString("base64").replace(/=+$/, "") !== base64.trim().replace(/=+$/, "")) {
    throw new KeyEncryptionError(`TRELLIS_CA_KEK must be the base64 of exactly ${KEK_BYTES} random bytes (e.g. \`openssl rand -base64 32\`)`);
  }
  return key;
}

/** The KEK from the environment's value, else from (or newly into) `<dataDir>/ca-kek`. */
export function loadKek(fromEnv: string | undefined, dataDir: string): { key: Buffer; source: "env" | "file" | "new-file"; file?: string } {
  if (fromEnv) return { key: parseKek(fromEnv), source: "env" };
  const file = path.join(dataDir, "ca-kek");
  if (existsSync(file)) return { key: parseKek(readFileSync(file, "utf8").trim()), source: "file", file };
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(KEK_BYTES);
  writeFileSync(file, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return { key, source: "new-file", file };
}

export function seal(kek: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", kek, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(".");
}

/** Opens a sealed value; a wrong KEK, a changed byte or another AAD throws KeyEncryptionError. */
export function open(kek: Buffer, sealed: string, aad: string): string {
  const [version, iv, tag, ct] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || ct === undefined) throw new KeyEncryptionError("a sealed CA key is malformed");
  try {
    const authTag = Buffer.from(tag, "base64url");
    if (authTag.length !== 16) throw new Error("truncated tag");
    const decipher = createDecipheriv("aes-256-gcm", kek, Buffer.from(iv, "base64url"), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new KeyEncryptionError("a CA key could not be decrypted: the key-encryption key (TRELLIS_CA_KEK or <data dir>/ca-kek) is not the one it was sealed with");
  }
}
