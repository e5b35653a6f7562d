import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Database } from "../db/open-database";
import type { Logger } from "../log";
import { LoginLimiter } from "./login-limiter";
import { DUMMY_HASH, hashPassword, passwordProblem, verifyPassword } from "./passwords";

/** What an operator may do: viewers read, operators also change the mesh, admins also manage users, tokens and the CA. */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleAtLeast(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/** Who is calling, once authenticated. */
export interface Principal {
  userId: number;
  username: string;
  /** The role in force: the user's, or the API token's (never above its user's). */
  role: Role;
  /** `session` (a browser: mutations need the CSRF header) or `token:<id>` (automation). */
  via: string;
  /** SHA-256 of the session's CSRF token (sessions only). */
  csrfHash?: string;
}

export interface UserInfo {
  username: string;
  role: Role;
  createdAt: Date;
  createdBy: string;
  disabledAt: Date | null;
}

export interface ApiTokenInfo {
  id: string;
  name: string;
  username: string;
  role: Role;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface AuditEntry {
  id: string;
  at: Date;
  actor: string;
  via: string;
  action: string;
  outcome: string;
  revision: number | null;
  detail: string;
  remote: string;
}

export type AuthErrorCode = "TRELLIS_UNAUTHENTICATED" | "TRELLIS_RATE_LIMITED" | "TRELLIS_INVALID_USER" | "TRELLIS_NOT_FOUND" | "TRELLIS_FORBIDDEN";

export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    /** For TRELLIS_RATE_LIMITED: seconds until the next attempt is allowed. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const secret = () => randomBytes(32).toString("base64url");

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  role: Role;
  created_at: Date;
  created_by: string;
  disabled_at: Date | null;
}

const userInfo = (r: UserRow): UserInfo => ({ username: r.username, role: r.role, createdAt: r.created_at, createdBy: r.created_by, disabledAt: r.disabled_at });

export interface AuthOptions {
  /** How long a sign-in lasts (absolute), ms. */
  sessionTtlMs: number;
  limiter?: LoginLimiter;
  now?: () => Date;
  log: Logger;
}

/**
 * Operators and how they prove who they are: users with scrypt-hashed passwords, browser
 * sessions (an httpOnly cookie holding a random token, plus a CSRF token for mutations), API
 * tokens for automation, and the audit trail. Only SHA-256 hashes of session, CSRF and API
 * token secrets are stored; a secret is returned once, to whoever created it.
 */
export class AuthService {
  readonly limiter: LoginLimiter;
  private readonly now: () => Date;

  constructor(
    private readonly db: Pick<Database, "sql">,
    private readonly opts: AuthOptions,
  ) {
    this.limiter = opts.limiter ?? new LoginLimiter();
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * With no user at all, creates `admin` with `password` (TRELLIS_ADMIN_PASSWORD), or a
   * generated one that the caller prints once. Concurrent replicas: the unique name makes one win.
   */
  async ensureFirstAdmin(password: string | undefined): Promise<{ created: boolean; username: string; generatedPassword?: string }> {
    const [{ n }] = (await this.db.sql<{ n: number }>("SELECT count(*)::int AS n FROM users")) as [{ n: number }];
    if (n > 0) return { created: false, username: "admin" };
    const generated = password === undefined ? randomBytes(18).toString("base64url") : undefined;
    const chosen = password ?? generated!;
    const problem = passwordProblem(chosen);
    if (problem) throw new AuthError("TRELLIS_INVALID_USER", `TRELLIS_ADMIN_PASSWORD ${problem}`);
    const rows = await this.db.sql("INSERT INTO users (username, password_hash, role, created_by, created_at) VALUES ('admin', $1, 'admin', 'first start', $2) ON CONFLICT (username) DO NOTHING RETURNING id", [await hashPassword(chosen), this.now()]);
    if (rows.length === 0) return { created: false, username: "admin" };
    await this.audit({ actor: "admin", via: "-", action: "auth.firstAdmin", outcome: "ok", detail: password === undefined ? "generated password" : "password from TRELLIS_ADMIN_PASSWORD" });
    return { created: true, username: "admin", ...(generated ? { generatedPassword: generated } : {}) };
  }

  /** Checks the password (throttled) and opens a session; the tokens are for the cookies, returned this once. */
  async login(username: string, password: string, remote: string): Promise<{ sessionToken: string; csrfToken: string; expiresAt: Date; user: UserInfo }> {
    const name = username.trim().toLowerCase();
    const wait = this.limiter.retryAfterMs(name, remote);
    if (wait > 0) {
      await this.audit({ actor: "anonymous", via: "-", action: "auth.login", outcome: "RATE_LIMITED", detail: `as ${name.slice(0, 64)}`, remote });
      throw new AuthError("TRELLIS_RATE_LIMITED", `too many failed sign-ins; try again in ${Math.ceil(wait / 1000)} s`, Math.ceil(wait / 1000));
    }
    const [row] = await this.db.sql<UserRow>("SELECT * FROM users WHERE username = $1", [name]);
    // Verify even for an unknown user, so the time taken does not say which names exist.
    const ok = await verifyPassword(row?.password_hash ?? DUMMY_HASH, password);
    if (!row || !ok || row.disabled_at) {
      this.limiter.failed(name, remote);
      await this.audit({ actor: "anonymous", via: "-", action: "auth.login", outcome: "UNAUTHORIZED", detail: `as ${name.slice(0, 64)}${row?.disabled_at && ok ? " (disabled)" : ""}`, remote });
      throw new AuthError("TRELLIS_UNAUTHENTICATED", "wrong username or password");
    }
    this.limiter.succeeded(name);
    const sessionToken = secret();
    const csrfToken = secret();
    const expiresAt = new Date(this.now().getTime() + this.opts.sessionTtlMs);
    await this.db.sql("INSERT INTO sessions (id, user_id, csrf_hash, created_at, expires_at, last_seen_at, remote) VALUES ($1, $2, $3, $4, $5, $4, $6)", [sha256(sessionToken), row.id, sha256(csrfToken), this.now(), expiresAt, remote.slice(0, 100)]);
    await this.audit({ actor: row.username, via: "session", action: "auth.login", outcome: "ok", remote });
    return { sessionToken, csrfToken, expiresAt, user: userInfo(row) };
  }

  async logout(sessionToken: string): Promise<void> {
    await this.db.sql("DELETE FROM sessions WHERE id = $1", [sha256(sessionToken)]);
  }

  /** The principal behind a session cookie or a bearer token; undefined when neither is valid now. */
  async authenticate(creds: { sessionToken?: string | undefined; bearer?: string | undefined }): Promise<Principal | undefined> {
    const now = this.now();
    if (creds.bearer !== undefined) {
      const m = /^trellis_([0-9a-f]{16})\.([A-Za-z0-9_-]{20,})$/.exec(creds.bearer);
      if (!m) return undefined;
      const [row] = await this.db.sql<UserRow & { token_id: string; secret_hash: string; token_role: Role; expires_at: Date | null; revoked_at: Date | null }>(
        "SELECT u.*, t.id AS token_id, t.secret_hash, t.role AS token_role, t.expires_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1",
        [m[1]],
      );
      const given = Buffer.from(sha256(m[2]!), "hex");
      const stored = Buffer.from(row?.secret_hash ?? "0".repeat(64), "hex");
      if (!row || !timingSafeEqual(given, stored) || row.revoked_at || row.disabled_at || (row.expires_at && row.expires_at <= now)) return undefined;
      await this.db.sql("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamp - interval '1 minute')", [row.token_id, now]);
      // A token acts with its own role, capped by its user's current one (a demoted user's tokens are demoted too).
      const role = roleAtLeast(row.role, row.token_role) ? row.token_role : row.role;
      return { userId: row.id, username: row.username, role, via: `token:${row.token_id}` };
    }
    if (creds.sessionToken !== undefined && creds.sessionToken.length >= 20 && creds.sessionToken.length <= 100) {
      const [row] = await this.db.sql<UserRow & { csrf_hash: string; expires_at: Date; last_seen_at: Date }>(
        "SELECT u.*, s.csrf_hash, s.expires_at, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
        [sha256(creds.sessionToken)],
      );
      if (!row || row.disabled_at || row.expires_at <= now) return undefined;
      if (now.getTime() - row.last_seen_at.getTime() > 60_000) await this.db.sql("UPDATE sessions SET last_seen_at = $2 WHERE id = $1", [sha256(creds.sessionToken), now]);
      return { userId: row.id, username: row.username, role: row.role, via: "session", csrfHash: row.csrf_hash };
    }
    return undefined;
  }

  /** Whether `header` is the session's CSRF token (constant-time). */
  static csrfMatches(principal: Principal, header: string | undefined): boolean {
    if (!principal.csrfHash || !header) return false;
    return timingSafeEqual(Buffer.from(sha256(header), "hex"), Buffer.from(principal.csrfHash, "hex"));
  }

  async listUsers(): Promise<UserInfo[]> {
    return (await this.db.sql<UserRow>("SELECT * FROM users ORDER BY username")).map(userInfo);
  }

  async createUser(input: { username: string; password: string; role: Role; createdBy: string }): Promise<UserInfo> {
    if (!USERNAME.test(input.username)) throw new AuthError("TRELLIS_INVALID_USER", "username must be 1–63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
    const problem = passwordProblem(input.password);
    if (problem) throw new AuthError("TRELLIS_INVALID_USER", `password ${problem}`);
    const rows = await this.db.sql<UserRow>("INSERT INTO users (username, password_hash, role, created_by, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING RETURNING *", [input.username, await hashPassword(input.password), input.role, input.createdBy, this.now()]);
    if (rows.length === 0) throw new AuthError("TRELLIS_INVALID_USER", `user ${input.username} already exists`);
    return userInfo(rows[0]!);
  }

  /** Changes a user's role or disables/enables them; disabling ends their sessions. The last enabled admin cannot lose admin. */
  async updateUser(username: string, change: { role?: Role | undefined; disabled?: boolean | undefined }): Promise<UserInfo> {
    const [row] = await this.db.sql<UserRow>("SELECT * FROM users WHERE username = $1", [username]);
    if (!row) throw new AuthError("TRELLIS_NOT_FOUND", `user ${username} does not exist`);
    const losesAdmin = row.role === "admin" && !row.disabled_at && ((change.role !== undefined && change.role !== "admin") || change.disabled === true);
    if (losesAdmin) {
      const [{ n }] = (await this.db.sql<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL")) as [{ n: number }];
      if (n <= 1) throw new AuthError("TRELLIS_INVALID_USER", `${username} is the last enabled admin; make another admin first`);
    }
    const disabledAt = change.disabled === undefined ? row.disabled_at : change.disabled ? (row.disabled_at ?? this.now()) : null;
    const [updated] = await this.db.sql<UserRow>("UPDATE users SET role = $2, disabled_at = $3 WHERE id = $1 RETURNING *", [row.id, change.role ?? row.role, disabledAt]);
    if (disabledAt) await this.db.sql("DELETE FROM sessions WHERE user_id = $1", [row.id]);
    return userInfo(updated!);
  }

  /** Sets a new password and ends every session of the user (except none: they sign in again). */
  async setPassword(username: string, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new AuthError("TRELLIS_INVALID_USER", `password ${problem}`);
    const rows = await this.db.sql<{ id: number }>("UPDATE users SET password_hash = $2 WHERE username = $1 RETURNING id", [username, await hashPassword(password)]);
    if (rows.length === 0) throw new AuthError("TRELLIS_NOT_FOUND", `user ${username} does not exist`);
    await this.db.sql("DELETE FROM sessions WHERE user_id = $1", [rows[0]!.id]);
  }

  async verifyOwnPassword(userId: number, password: string): Promise<boolean> {
    const [row] = await this.db.sql<UserRow>("SELECT * FROM users WHERE id = $1", [userId]);
    return verifyPassword(row?.password_hash ?? DUMMY_HASH, password);
  }

  /** A token acting for `owner` with `role` (at most the owner's); `token` is shown this once. */
  async createToken(owner: Principal, input: { name: string; role: Role; ttlHours?: number | undefined }): Promise<{ token: string; info: ApiTokenInfo }> {
    if (!roleAtLeast(owner.role, input.role)) throw new AuthError("TRELLIS_FORBIDDEN", `a ${owner.role} cannot make a token with role ${input.role}`);
    const id = randomBytes(8).toString("hex");
    const s = secret();
    const expiresAt = input.ttlHours ? new Date(this.now().getTime() + input.ttlHours * 3_600_000) : null;
    await this.db.sql("INSERT INTO api_tokens (id, secret_hash, user_id, name, role, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", [id, sha256(s), owner.userId, input.name, input.role, this.now(), expiresAt]);
    return { token: `trellis_${id}.${s}`, info: { id, name: input.name, username: owner.username, role: input.role, createdAt: this.now(), expiresAt, revokedAt: null, lastUsedAt: null } };
  }

  /** Tokens of one user, or of everyone (admins). */
  async listTokens(userId?: number): Promise<ApiTokenInfo[]> {
    const rows = await this.db.sql<{ id: string; name: string; username: string; role: Role; created_at: Date; expires_at: Date | null; revoked_at: Date | null; last_used_at: Date | null }>(
      `SELECT t.id, t.name, u.username, t.role, t.created_at, t.expires_at, t.revoked_at, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id ${userId === undefined ? "" : "WHERE t.user_id = $1"} ORDER BY t.created_at DESC`,
      userId === undefined ? [] : [userId],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, username: r.username, role: r.role, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at }));
  }

  /** Revokes a token of `by` (any token, for an admin); false when there is none such. */
  async revokeToken(by: Principal, id: string): Promise<boolean> {
    const rows = await this.db.sql("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND ($2::boolean OR user_id = $4) RETURNING id", [id, by.role === "admin", this.now(), by.userId]);
    return rows.length > 0;
  }

  async audit(e: { actor: string; via: string; action: string; outcome: string; revision?: number | undefined; detail?: string | undefined; remote?: string | undefined }): Promise<void> {
    try {
      await this.db.sql("INSERT INTO audit_events (at, actor, via, action, outcome, revision, detail, remote) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", [this.now(), e.actor, e.via, e.action, e.outcome, e.revision ?? null, (e.detail ?? "").slice(0, 500), (e.remote ?? "").slice(0, 100)]);
    } catch (err) {
      this.opts.log.error("writing the audit trail failed", { action: e.action, actor: e.actor, cause: (err as Error).message });
    }
  }

  async auditLog(filter: { limit: number; actor?: string | undefined; beforeId?: string | undefined }): Promise<AuditEntry[]> {
    const rows = await this.db.sql<{ id: string; at: Date; actor: string; via: string; action: string; outcome: string; revision: number | null; detail: string; remote: string }>(
      "SELECT id::text AS id, at, actor, via, action, outcome, revision, detail, remote FROM audit_events WHERE ($1::text IS NULL OR actor = $1) AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3",
      [filter.actor ?? null, filter.beforeId ?? null, filter.limit],
    );
    return rows;
  }

  /** Deletes expired sessions (housekeeping). */
  async pruneSessions(): Promise<number> {
    return (await this.db.sql("DELETE FROM sessions WHERE expires_at < $1 RETURNING id", [this.now()])).length;
  }
}
