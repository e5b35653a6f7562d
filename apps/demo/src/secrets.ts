import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { exportJWK, generateKeyPair } from "jose";
import { JWT_ISSUER } from "./resources";

/** A secret kept in the data directory (0600): made once, the same on every later run. */
export function keptSecret(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const v = make();
  writeFileSync(file, v + "\n", { mode: 0o600 });
  return v;
}

export async function jwtKey(file: string): Promise<{ jwks: string; keyFile: string }> {
  if (!existsSync(file)) {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const kid = randomBytes(4).toString("hex");
    const pub = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
    writeFileSync(file, JSON.stringify({ issuer: JWT_ISSUER, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "ES256" }, jwks: { keys: [pub] } }, null, 2), { mode: 0o600 });
  }
  const k = JSON.parse(readFileSync(file, "utf8")) as { jwks: unknown };
  return { jwks: JSON.stringify(k.jwks), keyFile: file };
}

