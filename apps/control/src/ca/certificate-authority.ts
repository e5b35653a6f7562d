import { X509Certificate, createHash } from "node:crypto";
import { spiffeId } from "@trellis/config";
import type { Database } from "../db/open-database";
import type { Logger } from "../log";
import { open, seal } from "./key-encryption";
import { createRoot, describeCaCert, signWorkloadCert } from "./x509";

/**
 * The mesh certificate authority. One authority is `active` (signs); after a rotation the
 * previous one is `retiring`: its root stays in the trust bundle until every certificate it
 * signed has expired (the longest workload TTL), so peers holding old and new certificates
 * keep trusting each other through the overlap; then it is `retired`.
 *
 * First start generates a root (or imports the operator's root/intermediate), under an
 * advisory lock so that replicas starting together agree on one. Private keys are stored
 * sealed (key-encryption.ts) and held decrypted in memory only for signing; nothing here logs
 * or returns them.
 *
 * Safe use: one instance per process; `issue()` re-reads which authority is active, so a
 * rotation made by another replica is followed at the next certificate.
 */

export interface CaOptions {
  trustDomain: string;
  /** Workload certificate lifetime (default 24 h); proxies renew at half of it. */
  workloadTtlMs: number;
  /** Lifetime of a generated root, days. */
  rootValidDays: number;
  /** Key-encryption key for the stored private keys. */
  kek: Buffer;
  /** An operator-supplied signing certificate (root or intermediate) and its key; chain up to the root if intermediate. */
  operator?: { certPem: string; keyPem: string; chainPem?: string | undefined } | undefined;
  log: Logger;
  now?: () => Date;
}

export interface IssuedCertificate {
  spiffeId: string;
  /** The workload certificate, then any intermediates up to (not including) the root. */
  certChainPem: string;
  /** Roots to trust (PEM, concatenated). */
  trustBundlePem: string;
  notAfter: Date;
  serial: string;
}

export class CaError extends Error {
  readonly code = "TRELLIS_CA";
}

interface AuthorityRow {
  id: number;
  cert_pem: string;
  chain_pem: string;
  root_pem: string;
  key_sealed: string;
  source: string;
  state: string;
  not_after: Date;
  retired_at: Date | null;
}

interface Signer {
  id: number;
  certPem: string;
  chainPem: string;
  keyPem: string;
}

const LOCK = "SELECT pg_advisory_xact_lock(hashtext('trellis_mesh_ca'))";
const aad = (id: number) => `trellis-ca-key:${id}`;

/** SHA-256 fingerprint of a certificate, for logs and the API (colon-separated hex, like openssl). */
export function fingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

export class CertificateAuthority {
  private signer: Signer | undefined;
  private readonly rotatedListeners = new Set<() => void>();
  private readonly now: () => Date;

  private constructor(
    private readonly db: Pick<Database, "sql" | "withSession">,
    private readonly opts: CaOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Opens the CA: the active authority, created (generated or imported) when there is none. */
  static async open(db: Pick<Database, "sql" | "withSession">, opts: CaOptions): Promise<CertificateAuthority> {
    const ca = new CertificateAuthority(db, opts);
    await ca.ensureActive();
    await ca.loadSigner();
    return ca;
  }

  get trustDomain(): string {
    return this.opts.trustDomain;
  }

  /** Signs a workload certificate for `namespace/service` over the CSR's key. */
  async issue(csrPem: string, identity: { namespace: string; service: string }): Promise<IssuedCertificate> {
    const signer = await this.loadSigner();
    const id = spiffeId({ trustDomain: this.opts.trustDomain, namespace: identity.namespace, serviceAccount: identity.service });
    const cert = signWorkloadCert({ csrPem, spiffeId: id, ttlMs: this.opts.workloadTtlMs, issuerCertPem: signer.certPem, issuerKeyPem: signer.keyPem, now: this.now() });
    return { spiffeId: id, certChainPem: normalizePem(cert.certPem) + signer.chainPem, trustBundlePem: await this.trustBundlePem(), notAfter: cert.notAfter, serial: cert.serial };
  }

  /** The roots peers must trust now: the active authority's and those of retiring ones still in their overlap. */
  async trustBundlePem(): Promise<string> {
    const rows = await this.db.sql<AuthorityRow>("SELECT * FROM ca_authorities WHERE state IN ('active', 'retiring') ORDER BY id DESC");
    const roots = [...new Set(rows.filter((r) => r.state === "active" || this.inOverlap(r)).map((r) => normalizePem(r.root_pem)))];
    return roots.join("");
  }

  /** What the API may show about the authorities: certificates and fingerprints, never keys. */
  async describe(): Promise<{ id: number; source: string; state: string; fingerprint: string; notAfter: Date; retiredAt: Date | null; rootFingerprint: string }[]> {
    const rows = await this.db.sql<AuthorityRow>("SELECT * FROM ca_authorities ORDER BY id DESC");
    return rows.map((r) => ({ id: r.id, source: r.source, state: r.state, fingerprint: fingerprint(r.cert_pem), notAfter: r.not_after, retiredAt: r.retired_at, rootFingerprint: fingerprint(r.root_pem) }));
  }

  /**
   * Root rotation: a new generated root becomes active; the old authority retires but its
   * root stays trusted for the longest workload TTL, so certificates it signed keep working
   * while proxies renew onto the new root.
   */
  async rotate(): Promise<{ id: number; fingerprint: string }> {
    const created = await this.db.withSession((s) =>
      s.transaction(async (tx) => {
        await tx.query(LOCK);
        await tx.query("UPDATE ca_authorities SET state = 'retiring', retired_at = $1 WHERE state = 'active'", [this.now()]);
        return this.insertGenerated(tx, "rotated");
      }),
    );
    for (const l of this.rotatedListeners) l();
    this.opts.log.info("mesh CA root rotated", { authority: created.id, fingerprint: created.fingerprint, overlapHours: this.opts.workloadTtlMs / 3_600_000 });
    await this.loadSigner();
    return created;
  }

  /** Calls `listener` after each rotation made through this instance (other replicas' are seen by polling the bundle). */
  onRotated(listener: () => void): () => void {
    this.rotatedListeners.add(listener);
    return () => this.rotatedListeners.delete(listener);
  }

  /** Retires authorities whose overlap is over (they drop out of the trust bundle); returns how many. */
  async retireExpired(): Promise<number> {
    const rows = await this.db.sql<AuthorityRow>("SELECT * FROM ca_authorities WHERE state = 'retiring'");
    const done = rows.filter((r) => !this.inOverlap(r));
    for (const r of done) await this.db.sql("UPDATE ca_authorities SET state = 'retired' WHERE id = $1", [r.id]);
    return done.length;
  }

  private inOverlap(r: AuthorityRow): boolean {
    if (r.state !== "retiring") return r.state === "active";
    return r.retired_at !== null && r.retired_at.getTime() + this.opts.workloadTtlMs > this.now().getTime() && r.not_after.getTime() > this.now().getTime();
  }

  /** Makes sure one authority is active: the operator's when given (imported once), else a generated root. */
  private async ensureActive(): Promise<void> {
    await this.db.withSession((s) =>
      s.transaction(async (tx) => {
        await tx.query(LOCK);
        const active = (await tx.query<AuthorityRow>("SELECT * FROM ca_authorities WHERE state = 'active' ORDER BY id DESC")) as AuthorityRow[];
        const op = this.opts.operator;
        if (op) {
          if (active.some((a) => normalizePem(a.cert_pem) === normalizePem(op.certPem))) return;
          const checked = this.checkOperator(op);
          await tx.query("UPDATE ca_authorities SET state = 'retiring', retired_at = $1 WHERE state = 'active'", [this.now()]);
          const [row] = await tx.query<{ id: number }>(
            "INSERT INTO ca_authorities (cert_pem, chain_pem, root_pem, key_sealed, source, state, not_after) VALUES ($1, $2, $3, '', 'operator', 'active', $4) RETURNING id",
            [normalizePem(op.certPem), checked.chainPem, checked.rootPem, checked.notAfter],
          );
          await tx.query("UPDATE ca_authorities SET key_sealed = $1 WHERE id = $2", [seal(this.opts.kek, op.keyPem, aad(row!.id)), row!.id]);
          this.opts.log.info("mesh CA: using the operator's certificate", { authority: row!.id, fingerprint: fingerprint(op.certPem), root: fingerprint(checked.rootPem) });
          return;
        }
        if (active.length > 0) return;
        const created = await this.insertGenerated(tx, "generated");
        this.opts.log.info("mesh CA: generated a root", { authority: created.id, fingerprint: created.fingerprint, trustDomain: this.opts.trustDomain });
      }),
    );
  }

  private async insertGenerated(tx: { query<R extends object>(text: string, params?: readonly unknown[]): Promise<R[]> }, source: "generated" | "rotated"): Promise<{ id: number; fingerprint: string }> {
    const root = createRoot(this.opts.trustDomain, this.opts.rootValidDays, this.now());
    const [row] = await tx.query<{ id: number }>("INSERT INTO ca_authorities (cert_pem, chain_pem, root_pem, key_sealed, source, state, not_after) VALUES ($1, '', $1, '', $2, 'active', $3) RETURNING id", [normalizePem(root.certPem), source, root.notAfter]);
    await tx.query("UPDATE ca_authorities SET key_sealed = $1 WHERE id = $2", [seal(this.opts.kek, root.privateKeyPem, aad(row!.id)), row!.id]);
    return { id: row!.id, fingerprint: fingerprint(root.certPem) };
  }

  /** Checks an operator's certificate and key; returns the chain to send with workload certificates and the root. */
  private checkOperator(op: NonNullable<CaOptions["operator"]>): { chainPem: string; rootPem: string; notAfter: Date } {
    let d: ReturnType<typeof describeCaCert>;
    try {
      d = describeCaCert(op.certPem, op.keyPem);
    } catch (err) {
      throw new CaError(`TRELLIS_CA_CERT_FILE / TRELLIS_CA_KEY_FILE: not a PEM certificate and RSA private key (${(err as Error).message})`);
    }
    if (!d.isCa) throw new CaError("TRELLIS_CA_CERT_FILE: the certificate is not a CA (basicConstraints CA:TRUE is required to sign workload certificates)");
    if (!d.keyMatches) throw new CaError("TRELLIS_CA_KEY_FILE: the private key does not belong to TRELLIS_CA_CERT_FILE's certificate");
    if (d.notAfter.getTime() <= this.now().getTime()) throw new CaError(`TRELLIS_CA_CERT_FILE: the certificate expired on ${d.notAfter.toISOString()}`);
    if (d.selfSigned) return { chainPem: "", rootPem: normalizePem(op.certPem), notAfter: d.notAfter };
    const chain = splitPem(op.chainPem ?? "");
    if (chain.length === 0) throw new CaError("TRELLIS_CA_CHAIN_FILE: an intermediate CA needs its chain up to the root (the intermediates, then the root)");
    const root = chain[chain.length - 1]!;
    if (!new X509Certificate(root).verify(new X509Certificate(root).publicKey)) throw new CaError("TRELLIS_CA_CHAIN_FILE: the last certificate must be the self-signed root");
    // Peers get the workload certificate, this intermediate and any above it: everything up to the root they trust.
    return { chainPem: normalizePem(op.certPem) + chain.slice(0, -1).join(""), rootPem: root, notAfter: d.notAfter };
  }

  /** The active authority with its key opened, reloaded when another replica changed it. */
  private async loadSigner(): Promise<Signer> {
    const [row] = await this.db.sql<AuthorityRow>("SELECT * FROM ca_authorities WHERE state = 'active' ORDER BY id DESC LIMIT 1");
    if (!row) throw new CaError("the mesh CA has no active authority");
    if (this.signer?.id === row.id) return this.signer;
    this.signer = { id: row.id, certPem: row.cert_pem, chainPem: row.chain_pem, keyPem: open(this.opts.kek, row.key_sealed, aad(row.id)) };
    return this.signer;
  }
}

/** PEM certificates in a bundle, each normalized (one trailing newline, \n line ends). */
export function splitPem(bundle: string): string[] {
  return [...bundle.replace(/\r\n/g, "\n").matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => m[0] + "\n");
}

function normalizePem(pem: string): string {
  return splitPem(pem).join("") || pem;
}

/** A short, stable digest of a bundle (to tell proxies' bundles apart in status and logs). */
export function bundleDigest(pem: string): string {
  return createHash("sha256").update(normalizePem(pem)).digest("hex").slice(0, 16);
}
