import type { Headers, Layer, ProxyRequest } from "../core/types";

/** Header changes as a Route writes them (`headers.request` / `headers.response`). */
export interface HeaderOps {
  /** Set, replacing any existing value. */
  set?: Record<string, string> | undefined;
  /** Appended to any existing value. */
  add?: Record<string, string> | undefined;
  /** Removed. */
  remove?: string[] | undefined;
}

/** HeaderOps with names lower-cased once, at build time. */
interface CompiledOps {
  set: [string, string][];
  add: [string, string][];
  remove: string[];
}

function compile(ops: HeaderOps | undefined): CompiledOps | undefined {
  if (!ops) return undefined;
  const lower = (r: Record<string, string> | undefined): [string, string][] => Object.entries(r ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
  const c = { set: lower(ops.set), add: lower(ops.add), remove: (ops.remove ?? []).map((n) => n.toLowerCase()) };
  return c.set.length + c.add.length + c.remove.length > 0 ? c : undefined;
}

/** A copy of `headers` with the changes applied: remove, then set, then add (Envoy's order). */
function apply(headers: Headers, ops: CompiledOps): Headers {
  const out: Headers = { ...headers };
  for (const name of ops.remove) delete out[name];
  for (const [name, value] of ops.set) out[name] = value;
  for (const [name, value] of ops.add) {
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/**
 * A Route's header rewrites. The request is passed on as a shallow copy with new headers, so
 * the downstream's request object is unchanged (a retry or mirror layer outside this one sees
 * the original); the response's `headers` field is replaced in place, since the response
 * belongs to whoever holds it. Names are matched lower-case, as Headers are.
 */
export function headerOpsLayer(ops: { request?: HeaderOps | undefined; response?: HeaderOps | undefined }): Layer {
  const request = compile(ops.request);
  const response = compile(ops.response);
  if (!request && !response) return (next) => next;
  return (next) => async (req, ctx, signal) => {
    const res = await next(request ? { ...req, headers: apply(req.headers, request) } : req, ctx, signal);
    if (response) res.headers = apply(res.headers, response);
    return res;
  };
}

/**
 * A Route's `rewrite`. `uri` replaces the prefix the rule matched (`matchedPrefix`), or the
 * whole path when the rule had no prefix match, keeping the query string; like Envoy's
 * prefix_rewrite it is a plain string replacement (prefix `/api` with uri `/` turns `/api/x`
 * into `//x`: write prefix `/api/` to get `/x`). `authority` replaces the authority.
 */
export function rewriteLayer(rewrite: { uri?: string | undefined; authority?: string | undefined }, matchedPrefix?: string): Layer {
  const { uri, authority } = rewrite;
  if (uri === undefined && authority === undefined) return (next) => next;
  return (next) => (req, ctx, signal) => {
    const out: ProxyRequest = { ...req };
    if (uri !== undefined) out.path = rewritePath(req.path, uri, matchedPrefix);
    if (authority !== undefined) out.authority = authority;
    return next(out, ctx, signal);
  };
}

/** `path` (with its query) after replacing `prefix` — or the whole path without one — by `uri`. */
export function rewritePath(path: string, uri: string, prefix?: string): string {
  const q = path.indexOf("?");
  const pathOnly = q === -1 ? path : path.slice(0, q);
  const query = q === -1 ? "" : path.slice(q);
  if (prefix === undefined) return uri + query;
  if (!pathOnly.startsWith(prefix)) return path;
  return uri + pathOnly.slice(prefix.length) + query;
}
