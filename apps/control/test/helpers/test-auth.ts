/**
 * Signing tests in, as the dashboard does: every control plane a test starts gets
 * TRELLIS_ADMIN_PASSWORD = TEST_ADMIN_PASSWORD (its first admin), and callers sign in through
 * `auth.login` over real HTTP, then send the session cookie and the CSRF header. A name other
 * than `admin` is created first (as an admin, so it may do anything) so that revisions carry
 * that author. Sessions are cached per API URL and user for the test process.
 */
export const TEST_ADMIN_PASSWORD = "test-admin-password-0123456789";

/** The headers of a signed-in session: cookie and CSRF token. */
export interface SessionHeaders {
  cookie: string;
  "x-trellis-csrf": string;
}

const sessions = new Map<string, Promise<SessionHeaders>>();

async function post(api: string, procedure: string, input: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${api}/trpc/${procedure}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(input) });
}

/** Signs in as `username` with `password`; throws with the API's answer when refused. */
export async function login(api: string, username: string, password: string): Promise<SessionHeaders> {
  const res = await post(api, "auth.login", { username, password });
  const body = (await res.json()) as { result?: { data: { csrfToken: string } }; error?: unknown };
  if (!res.ok || !body.result) throw new Error(`signing in as ${username} at ${api} failed (${res.status}): ${JSON.stringify(body.error ?? body)}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]!).join("; ");
  return { cookie, "x-trellis-csrf": body.result.data.csrfToken };
}

/** A session for `user` (created as an admin if it is not `admin`), signed in once per API and user. */
export function sessionFor(api: string, user = "admin"): Promise<SessionHeaders> {
  const key = `${api}|${user}`;
  let s = sessions.get(key);
  if (!s) {
    s = (async () => {
      const admin = user === "admin" ? undefined : await sessionFor(api, "admin");
      if (admin) {
        const res = await post(api, "auth.users.create", { username: user, password: TEST_ADMIN_PASSWORD, role: "admin" }, { ...admin });
        // Another replica (or an earlier test) may have made it already.
        if (!res.ok && !(await res.text()).includes("already exists")) throw new Error(`creating test user ${user} failed (${res.status})`);
      }
      return login(api, user, TEST_ADMIN_PASSWORD);
    })();
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  return s;
}
