import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isControlPlaneIdentity } from "@trellis/config";
import type { Database } from "../db/open-database";

/**
 * Join tokens: what an operator hands a new proxy so that it can get its first workload
 * certificate. A token is scoped to a namespace (and optionally one service), expires, and can
 * be revoked. It is `<id>.<secret>`: the id is public (lists, audit), the secret is 32 random
 * bytes shown once at creation; the table keeps only its SHA-256.
 */

export type JoinRefusal = "malformed" | "unknown" | "expired" | "revoked" | "out-of-scope";

export class JoinTokenError extends Error {
  readonly code = "TRELLIS_JOIN_TOKEN";
  constructor(
    readonly reason: JoinRefusal,
    message: string,
  ) {
    super(message);
  }
}

export interface JoinTokenInfo {
  id: string;
  namespace: string;
  service: string | null;
  description: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  uses: number;
  lastUsedAt: Date | null;
}

interface TokenRow {
  id: string;
  secret_hash: string;
  namespace: string;
  service: string | null;
  description: string;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  uses: number;
  last_used_at: Date | null;
}

const hash = (secret: string) => createHash("sha256").update(secret).digest("hex");

function info(r: TokenRow): JoinTokenInfo {
  return { id: r.id, namespace: r.namespace, service: r.service, description: r.description, createdBy: r.created_by, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, uses: r.uses, lastUsedAt: r.last_used_at };
}

export class JoinTokens {
  constructor(
    private readonly db: Pick<Database, "sql">,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A new token; `token` is shown to the operator once and never stored. */
  async create(opts: { namespace: string; service?: string | undefined; ttlMs: number; description?: string; createdBy: string }): Promise<{ token: string; info: JoinTokenInfo }> {
    if (opts.service !== undefined && isControlPlaneIdentity(opts.namespace, opts.service)) throw new JoinTokenError("out-of-scope", `${opts.namespace}/${opts.service} is the control plane's own identity; no join token is made for it`);
    const id = randomBytes(8).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const expiresAt = new Date(this.now().getTime() + opts.ttlMs);
    const [row] = await this.db.sql<TokenRow>(
      "INSERT INTO join_tokens (id, secret_hash, namespace, service, description, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
      [id, hash(secret), opts.namespace, opts.service ?? null, opts.description ?? "", opts.createdBy, this.now(), expiresAt],
    );
    return { token: `${id}.${secret}`, info: info(row!) };
  }

  async list(): Promise<JoinTokenInfo[]> {
    return (await this.db.sql<TokenRow>("SELECT * FROM join_tokens ORDER BY created_at DESC")).map(info);
  }

  /** Revokes a token; false when there is no such token. */
  async revoke(id: string): Promise<boolean> {
    const rows = await this.db.sql("UPDATE join_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING id", [id, this.now()]);
    return rows.length > 0;
  }

  /**
   * Checks `token` for joining as `namespace/service` and counts the use; throws
   * JoinTokenError with the reason (the message never repeats the secret).
   */
  async redeem(token: string, identity: { namespace: string; service: string }): Promise<JoinTokenInfo> {
    const dot = token.indexOf(".");
    const id = token.slice(0, dot);
    const secret = token.slice(dot + 1);
    if (dot <= 0 || !/^[0-9a-f]{16}$/.test(id) || secret.length === 0) throw new JoinTokenError("malformed", "the join token is malformed (expected <id>.<secret>)");
    const [row] = await this.db.sql<TokenRow>("SELECT * FROM join_tokens WHERE id = $1", [id]);
    const given = Buffer.from(hash(secret), "hex");
    // Compare in constant time even for an unknown id, so timing does not tell ids apart.
    const stored = Buffer.from(row?.secret_hash ?? "0".repeat(64), "hex");
    if (!row || !timingSafeEqual(given, stored)) throw new JoinTokenError("unknown", `join token ${id} is not known (or its secret is wrong)`);
    if (row.revoked_at) throw new JoinTokenError("revoked", `join token ${id} was revoked at ${row.revoked_at.toISOString()}`);
    if (row.expires_at.getTime() <= this.now().getTime()) throw new JoinTokenError("expired", `join token ${id} expired at ${row.expires_at.toISOString()}`);
    if (row.namespace !== identity.namespace || (row.service !== null && row.service !== identity.service)) {
      throw new JoinTokenError("out-of-scope", `join token ${id} is for ${row.namespace}/${row.service ?? "*"}, not ${identity.namespace}/${identity.service}`);
    }
    const [used] = await this.db.sql<TokenRow>("UPDATE join_tokens SET uses = uses + 1, last_used_at = $2 WHERE id = $1 RETURNING *", [id, this.now()]);
    return info(used!);
  }
}
