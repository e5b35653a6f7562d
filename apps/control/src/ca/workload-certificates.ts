import type { Database } from "../db/open-database";

/** The certificate a proxy holds now, as the CA last issued it: what the dashboard's proxy list shows (expiry). */
export interface WorkloadCertificateInfo {
  /** `namespace/workload`. */
  proxyId: string;
  spiffeId: string;
  serial: string;
  notAfter: Date;
  issuedAt: Date;
  /** `join token <id>` or `renewal`. */
  via: string;
}

interface Row {
  proxy_id: string;
  spiffe_id: string;
  serial: string;
  not_after: Date;
  issued_at: Date;
  via: string;
}

/**
 * The latest certificate issued to each proxy, keyed by the workload name the proxy put in its
 * CSR's common name (a label only: the identity in the certificate is the SPIFFE ID the
 * request was authorized for). The config stream's TLS session keeps the certificate it began
 * with across renewals, so the CA's record is where a proxy's current expiry is known.
 */
export class WorkloadCertificates {
  constructor(private readonly db: Pick<Database, "sql">) {}

  async record(c: WorkloadCertificateInfo): Promise<void> {
    await this.db.sql(
      "INSERT INTO workload_certificates (proxy_id, spiffe_id, serial, not_after, issued_at, via) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (proxy_id) DO UPDATE SET spiffe_id = $2, serial = $3, not_after = $4, issued_at = $5, via = $6",
      [c.proxyId, c.spiffeId, c.serial, c.notAfter, c.issuedAt, c.via],
    );
  }

  async byProxy(): Promise<Map<string, WorkloadCertificateInfo>> {
    const rows = await this.db.sql<Row>("SELECT * FROM workload_certificates");
    return new Map(rows.map((r) => [r.proxy_id, { proxyId: r.proxy_id, spiffeId: r.spiffe_id, serial: r.serial, notAfter: r.not_after, issuedAt: r.issued_at, via: r.via }]));
  }
}
