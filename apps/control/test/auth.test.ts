import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ControlPlane } from "../src/app";
import { appRouter } from "../src/trpc/root";
import { apiClient, errorOf, rawApiClient, startTestControlPlane } from "./helpers/control-plane";
import type { LogCapture } from "./helpers/control-plane";
import { createTestDatabase, tempDataDir } from "./helpers/pg";
import type { TestDatabase } from "./helpers/pg";
import { login, TEST_ADMIN_PASSWORD } from "./helpers/test-auth";
import type { SessionHeaders } from "./helpers/test-auth";

// Operators and the API's doors, over real HTTP against a control plane on PostgreSQL: every
// procedure refuses anonymous callers, roles are checked per procedure, browser sessions need
// their CSRF token for mutations, sign-ins are throttled, API tokens work for automation, and
// the audit trail links each change to its user. Nothing secret comes back or reaches a log.

const PASSWORD = "a-long-operator-password";
const svc = (name: string) => ({ kind: "Service" as const, metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" as const }] } });

async function call(api: string, procedure: string, type: "query" | "mutation" | "subscription", headers: Record<string, string> | SessionHeaders = {}, input?: unknown): Promise<{ status: number; body: string }> {
  const url = `${api}/trpc/${procedure}${type !== "mutation" && input !== undefined ? `?input=${encodeURIComponent(JSON.stringify(input))}` : ""}`;
  const ac = new AbortController();
  const res = await fetch(url, type === "mutation" ? { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(input ?? {}), signal: ac.signal } : { headers: { ...headers, ...(type === "subscription" ? { accept: "text/event-stream" } : {}) }, signal: ac.signal });
  // A subscription that was let in would stream forever: read what came, then hang up.
  const body = type === "subscription" && res.ok ? "" : await res.text();
  ac.abort();
  return { status: res.status, body };
}

describe("operators: sign-in, roles, CSRF, API tokens, audit [postgres]", () => {
  let db: TestDatabase;
  let cp: ControlPlane;
  let log: LogCapture;
  let admin: ReturnType<typeof apiClient>;

  before(async () => {
    db = await createTestDatabase();
    ({ cp, log } = await startTestControlPlane({ databaseUrl: db.url }));
    admin = apiClient(cp.apiUrl, "admin");
    await admin.auth.users.create.mutate({ username: "vera", password: PASSWORD, role: "viewer" });
    await admin.auth.users.create.mutate({ username: "olive", password: PASSWORD, role: "operator" });
  });
  after(async () => {
    await cp?.close();
    await db?.drop();
  });

  test("every procedure but sign-in refuses anonymous callers with 401, and a forged or unknown credential is anonymous", async () => {
    const procedures = Object.entries((appRouter as unknown as { _def: { procedures: Record<string, { _def: { type: "query" | "mutation" | "subscription" } }> } })._def.procedures);
    assert.ok(procedures.length > 30, `found ${procedures.length} procedures`);
    for (const [path, p] of procedures) {
      if (path === "auth.login") continue;
      const attempts: Record<string, string>[] = [{}, { cookie: "trellis_session=forged-session-token-0123456789" }, { authorization: "Bearer trellis_0123456789abcdef.not-a-real-secret-at-all" }];
      for (const headers of attempts) {
        const r = await call(cp.apiUrl, path, p._def.type, headers);
        assert.equal(r.status, 401, `${path} (${p._def.type}) with ${JSON.stringify(headers)}: ${r.status} ${r.body.slice(0, 200)}`);
      }
    }
  });

  test("sign-in sets an httpOnly SameSite session cookie; a wrong password is 401 and says nothing about which part was wrong", async () => {
    const res = await fetch(`${cp.apiUrl}/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "vera", password: PASSWORD }) });
    assert.equal(res.status, 200);
    const cookies = res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith("trellis_session="))!;
    const csrf = cookies.find((c) => c.startsWith("trellis_csrf="))!;
    assert.match(session, /; HttpOnly/);
    assert.match(session, /; SameSite=Strict/);
    assert.doesNotMatch(csrf, /HttpOnly/, "the dashboard's script reads the CSRF cookie");
    const body = (await res.json()) as { result: { data: { role: string; csrfToken: string } } };
    assert.equal(body.result.data.role, "viewer");
    assert.ok(csrf.startsWith(`trellis_csrf=${body.result.data.csrfToken};`));
    for (const [username, password] of [["vera", "wrong-password-123"], ["nobody", PASSWORD]] as const) {
      const e = await errorOf(rawApiClient(cp.apiUrl).auth.login.mutate({ username, password }));
      assert.equal(e.code, "UNAUTHORIZED");
      assert.equal(e.message, "wrong username or password");
    }
  });

  test("roles are checked on every call: a viewer reads but never mutates; an operator changes the mesh but not users or the CA root", async () => {
    const viewer = rawApiClient(cp.apiUrl, { ...(await login(cp.apiUrl, "vera", PASSWORD)) });
    const operator = rawApiClient(cp.apiUrl, { ...(await login(cp.apiUrl, "olive", PASSWORD)) });
    const head = await viewer.revisions.head.query();
    assert.equal(typeof head, "number");
    const refused = await errorOf(viewer.resources.write.mutate({ baseRevision: head, upserts: [svc("viewer-made")] }));
    assert.equal(refused.code, "FORBIDDEN");
    assert.match(refused.message, /needs the operator role; vera acts as viewer/);
    assert.equal((await errorOf(viewer.revisions.rollback.mutate({ to: 0, baseRevision: head }))).code, "FORBIDDEN");
    assert.equal((await errorOf(viewer.ca.joinTokens.create.mutate({ namespace: "default" }))).code, "FORBIDDEN");
    assert.equal((await viewer.resources.list.query({})).items.some((r) => r.metadata.name === "viewer-made"), false, "nothing was written");

    const written = await operator.resources.write.mutate({ baseRevision: head, upserts: [svc("reviews")], message: "olive adds reviews" });
    assert.equal((await operator.revisions.get.query({ number: written.revision }))?.author, "olive");
    assert.equal((await errorOf(operator.auth.users.create.mutate({ username: "mallory", password: PASSWORD, role: "admin" }))).code, "FORBIDDEN");
    assert.equal((await errorOf(operator.ca.rotateRoot.mutate())).code, "FORBIDDEN");
    assert.equal((await errorOf(operator.auth.audit.query({ limit: 10 }))).code, "FORBIDDEN");
  });

  test("a session's mutations need its CSRF token: the cookie alone (what a forged cross-site request carries) is refused", async () => {
    const s = await login(cp.apiUrl, "olive", PASSWORD);
    const head = await rawApiClient(cp.apiUrl, { ...s }).revisions.head.query();
    const forged: Record<string, string>[] = [{ cookie: s.cookie }, { cookie: s.cookie, "x-trellis-csrf": "not-the-token" }];
    for (const headers of forged) {
      const r = await call(cp.apiUrl, "resources.write", "mutation", headers, { baseRevision: head, upserts: [svc("csrf-victim")] });
      assert.equal(r.status, 403, r.body);
      assert.match(r.body, /x-trellis-csrf/);
    }
    assert.equal((await call(cp.apiUrl, "resources.write", "mutation", { ...s }, { baseRevision: head, upserts: [svc("csrf-ok")] })).status, 200);
  });

  test("sign-in is throttled: after 5 failures for a name, even the right password waits (429 with the wait)", async () => {
    await admin.auth.users.create.mutate({ username: "target", password: PASSWORD, role: "viewer" });
    const anon = rawApiClient(cp.apiUrl);
    for (let i = 0; i < 5; i++) assert.equal((await errorOf(anon.auth.login.mutate({ username: "target", password: `guess-number-${i}` }))).code, "UNAUTHORIZED");
    const e = await errorOf(anon.auth.login.mutate({ username: "target", password: PASSWORD }));
    assert.equal(e.code, "TOO_MANY_REQUESTS");
    assert.ok(((e as { retryAfterS?: number }).retryAfterS ?? 0) > 0, JSON.stringify(e));
  });

  test("API tokens: bearer auth without CSRF, acting with at most their user's role; revoked or disabled means 401", async () => {
    const olive = rawApiClient(cp.apiUrl, { ...(await login(cp.apiUrl, "olive", PASSWORD)) });
    assert.equal((await errorOf(olive.auth.tokens.create.mutate({ name: "too-strong", role: "admin" }))).code, "FORBIDDEN");
    const { token, info } = await olive.auth.tokens.create.mutate({ name: "ci", role: "operator" });
    assert.match(token, /^trellis_[0-9a-f]{16}\./);
    const ci = rawApiClient(cp.apiUrl, { authorization: `Bearer ${token}` });
    const head = await ci.revisions.head.query();
    const w = await ci.resources.write.mutate({ baseRevision: head, upserts: [svc("from-ci")], message: "pipeline" });
    assert.equal((await ci.revisions.get.query({ number: w.revision }))?.author, "olive");
    const { token: readOnly } = await olive.auth.tokens.create.mutate({ name: "dashboards", role: "viewer" });
    assert.equal((await errorOf(rawApiClient(cp.apiUrl, { authorization: `Bearer ${readOnly}` }).resources.write.mutate({ baseRevision: w.revision, upserts: [svc("x")] }))).code, "FORBIDDEN");
    const listed = await olive.auth.tokens.list.query({});
    assert.ok(listed.some((t) => t.id === info.id && t.lastUsedAt !== null));
    assert.ok(!JSON.stringify(listed).includes(token.split(".")[1]!), "the secret is never listed");
    await olive.auth.tokens.revoke.mutate({ id: info.id });
    assert.equal((await call(cp.apiUrl, "revisions.head", "query", { authorization: `Bearer ${token}` })).status, 401);
    // Disabling a user ends their sessions and their tokens.
    const { token: veraToken } = await rawApiClient(cp.apiUrl, { ...(await login(cp.apiUrl, "vera", PASSWORD)) }).auth.tokens.create.mutate({ name: "v", role: "viewer" });
    const veraSession = await login(cp.apiUrl, "vera", PASSWORD);
    await admin.auth.users.update.mutate({ username: "vera", disabled: true });
    assert.equal((await call(cp.apiUrl, "revisions.head", "query", { authorization: `Bearer ${veraToken}` })).status, 401);
    assert.equal((await call(cp.apiUrl, "revisions.head", "query", { cookie: veraSession.cookie })).status, 401);
    assert.equal((await errorOf(rawApiClient(cp.apiUrl).auth.login.mutate({ username: "vera", password: PASSWORD }))).code, "UNAUTHORIZED");
    await admin.auth.users.update.mutate({ username: "vera", disabled: false });
  });

  test("the audit trail names who changed what and the revision it made, and records refusals and failed sign-ins", async () => {
    const events = await admin.auth.audit.query({ limit: 500 });
    const write = events.find((e) => e.action === "resources.write" && e.actor === "olive" && e.outcome === "ok" && e.via === "session");
    assert.ok(write && typeof write.revision === "number", JSON.stringify(events.slice(0, 5)));
    const revision = await admin.revisions.get.query({ number: write.revision! });
    assert.equal(revision?.author, "olive");
    assert.ok(events.some((e) => e.action === "resources.write" && e.actor === "vera" && e.outcome === "FORBIDDEN"));
    assert.ok(events.some((e) => e.action === "resources.write" && e.actor === "olive" && e.outcome === "CSRF"));
    assert.ok(events.some((e) => e.action === "auth.login" && e.outcome === "UNAUTHORIZED" && e.detail.includes("target")));
    assert.ok(events.some((e) => e.action === "resources.write" && e.via.startsWith("token:") && e.actor === "olive"));
  });

  test("no secret in any answer or log line: CA key, password hashes, session/CSRF/API-token secrets, the admin password", async () => {
    const s = await login(cp.apiUrl, "admin", TEST_ADMIN_PASSWORD);
    const bodies = [
      (await call(cp.apiUrl, "ca.authorities", "query", s)).body,
      (await call(cp.apiUrl, "ca.bundle", "query", s)).body,
      (await call(cp.apiUrl, "auth.users.list", "query", s)).body,
      (await call(cp.apiUrl, "auth.tokens.list", "query", s, { all: true })).body,
      (await call(cp.apiUrl, "auth.audit", "query", s, { limit: 1000 })).body,
      (await call(cp.apiUrl, "auth.me", "query", s)).body,
    ];
    const text = bodies.join("\n");
    for (const secret of ["PRIVATE KEY", "scrypt$", "password_hash", "passwordHash", "secret_hash", "csrf_hash", TEST_ADMIN_PASSWORD, PASSWORD, s["x-trellis-csrf"], s.cookie.split("=")[1]!.split(";")[0]!]) {
      assert.ok(!text.includes(secret), `an API answer contains ${secret.slice(0, 12)}…`);
      assert.ok(!log.text().includes(secret), `a log line contains ${secret.slice(0, 12)}…`);
    }
  });
});

describe("the first admin [pglite]", () => {
  test("without TRELLIS_ADMIN_PASSWORD a password is generated, returned once for stdout, and works; a second start makes none", async () => {
    const dir = await tempDataDir();
    try {
      const first = await startTestControlPlane({ dataDir: dir.path, adminPassword: null });
      const generated = first.cp.firstAdmin?.generatedPassword;
      assert.ok(generated && generated.length >= 20);
      const s = await login(first.cp.apiUrl, "admin", generated);
      assert.equal((await rawApiClient(first.cp.apiUrl, { ...s }).auth.me.query()).role, "admin");
      assert.ok(!first.log.text().includes(generated), "the generated password is not logged");
      await first.cp.close();
      const second = await startTestControlPlane({ dataDir: dir.path, adminPassword: null });
      assert.equal(second.cp.firstAdmin, undefined);
      await login(second.cp.apiUrl, "admin", generated);
      await second.cp.close();
    } finally {
      await dir.remove();
    }
  });
});
