/**
 * The few control-plane calls the demo makes, over its public HTTP API (tRPC wire format,
 * plain fetch), signed in as an operator would be: a session cookie plus the CSRF header.
 */
export class TrpcCallError extends Error {}

/** Whether every field of `want` is in `have` with the same value (`have` may carry defaults `want` left out). */
function covers(have: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(have[i], w));
  if (want && typeof want === "object") return !!have && typeof have === "object" && Object.entries(want).every(([k, v]) => covers((have as Record<string, unknown>)[k], v));
  return have === want;
}

export interface ProxyStatus {
  proxyId: string;
  state: "SYNCED" | "STALE" | "NACKED";
}

export class DemoApi {
  private constructor(
    readonly base: string,
    private readonly headers: Record<string, string>,
  ) {}

  static async signIn(base: string, username: string, password: string): Promise<DemoApi> {
    const res = await fetch(`${base}/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
    const body = (await res.json()) as { result?: { data: { csrfToken: string } }; error?: { message: string } };
    if (!res.ok || !body.result) throw new TrpcCallError(`signing in to ${base} as ${username} failed: ${body.error?.message ?? res.status} (the password is kept in the demo's data directory, admin-password)`);
    const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]!).join("; ");
    return new DemoApi(base, { cookie, "x-trellis-csrf": body.result.data.csrfToken });
  }

  async query<T>(procedure: string, input?: unknown): Promise<T> {
    const q = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return this.call<T>(`${this.base}/trpc/${procedure}${q}`, procedure, { method: "GET", headers: this.headers });
  }

  async mutate<T>(procedure: string, input: unknown): Promise<T> {
    return this.call<T>(`${this.base}/trpc/${procedure}`, procedure, { method: "POST", headers: { ...this.headers, "content-type": "application/json" }, body: JSON.stringify(input) });
  }

  private async call<T>(url: string, procedure: string, init: RequestInit): Promise<T> {
    const res = await fetch(url, init);
    const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
    if (!res.ok || !body.result) throw new TrpcCallError(`${procedure}: ${body.error?.message ?? `HTTP ${res.status}`}`);
    return body.result.data;
  }

  /**
   * The demo's config: written whole as one revision into an empty mesh; on later runs only
   * what is missing (by kind/namespace/name) is added, so edits made since are kept, except
   * the resources in `reconcile` (those holding this run's ports), rewritten when they differ.
   */
  async seed(resources: unknown[], message: string, reconcile: ReadonlySet<string> = new Set()): Promise<{ created: boolean; added: number; revision: number }> {
    type R = { kind: string; metadata: { namespace: string; name: string }; spec: unknown };
    const head = await this.query<number>("revisions.head");
    const key = (r: R) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
    let upserts = resources;
    if (head > 0) {
      const existing = new Map((await this.query<{ items: R[] }>("resources.list", {})).items.map((r) => [key(r), r]));
      upserts = resources.filter((r) => {
        const have = existing.get(key(r as R));
        if (!have) return true;
        // Compare what the operator wrote with what the API parsed back (defaults filled): the stored spec covers ours.
        return reconcile.has(key(r as R)) && !covers(have.spec, (r as R).spec);
      });
      if (upserts.length === 0) return { created: false, added: 0, revision: head };
    }
    const w = await this.mutate<{ revision: number }>("resources.write", { baseRevision: head, upserts, message: head > 0 ? `demo: this run's ports and missing resources (${upserts.length})` : message });
    return { created: head === 0, added: upserts.length, revision: w.revision };
  }

  async caBundle(): Promise<string> {
    return (await this.query<{ pem: string }>("ca.bundle")).pem;
  }

  /** A one-hour token for one service's first certificate (a proxy with a stored certificate ignores it). */
  async joinToken(namespace: string, service: string): Promise<string> {
    return (await this.mutate<{ token: string }>("ca.joinTokens.create", { namespace, service, ttlHours: 1, description: "npm run demo" })).token;
  }

  async proxyStatus(): Promise<ProxyStatus[]> {
    return this.query<ProxyStatus[]>("proxies.status", {});
  }
}
