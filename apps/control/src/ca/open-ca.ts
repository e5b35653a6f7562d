import { readFileSync } from "node:fs";
import type { Database } from "../db/open-database";
import type { Env } from "../env";
import type { Logger } from "../log";
import type { ControlServices } from "../services";
import { CaError, CertificateAuthority } from "./certificate-authority";
import { JoinTokens } from "./join-tokens";
import { WorkloadCertificates } from "./workload-certificates";
import { loadKek } from "./key-encryption";

/** The mesh CA: its key-encryption key (env or data dir), the operator's certificate files if any, the active authority. */
export async function openCa(env: Env, db: Database, log: Logger): Promise<ControlServices["ca"]> {
  const kek = loadKek(env.TRELLIS_CA_KEK, env.TRELLIS_DATA_DIR);
  if (kek.source === "new-file") log.info("created the CA key-encryption key; with several replicas, set TRELLIS_CA_KEK on all of them instead", { file: kek.file });
  const read = (name: string, file: string | undefined) => {
    if (!file) return undefined;
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new CaError(`${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const certPem = read("TRELLIS_CA_CERT_FILE", env.TRELLIS_CA_CERT_FILE);
  const keyPem = read("TRELLIS_CA_KEY_FILE", env.TRELLIS_CA_KEY_FILE);
  const authority = await CertificateAuthority.open(db, {
    trustDomain: env.TRELLIS_TRUST_DOMAIN,
    workloadTtlMs: env.TRELLIS_WORKLOAD_CERT_TTL_HOURS * 3_600_000,
    rootValidDays: env.TRELLIS_CA_ROOT_VALID_DAYS,
    kek: kek.key,
    operator: certPem && keyPem ? { certPem, keyPem, chainPem: read("TRELLIS_CA_CHAIN_FILE", env.TRELLIS_CA_CHAIN_FILE) } : undefined,
    log,
  });
  return { authority, joinTokens: new JoinTokens(db), certificates: new WorkloadCertificates(db) };
}
