/**
 * The path an inbound request is authorized (and forwarded) with, normalised as Envoy's
 * `normalize_path` + `merge_slashes` do for Istio, so that a policy on `/admin/*` cannot be
 * walked around with `/public/../admin/x`, `//admin/x`, `/%61dmin/x` or `/./admin/x`:
 *
 * 1. percent-encoded unreserved characters (RFC 3986 §2.3: letters, digits, `-._~`) are
 *    decoded, other escapes upper-cased (`%2f` → `%2F`, which stays encoded: a slash inside a
 *    segment is not a separator);
 * 2. runs of slashes become one;
 * 3. `.` and `..` segments are resolved (RFC 3986 §5.2.4), never above the root.
 *
 * The query string is kept as it is. Returns undefined for something that is not an
 * origin-form path (the caller answers 400).
 */
export function normalizePath(pathAndQuery: string): string | undefined {
  if (!pathAndQuery.startsWith("/")) return undefined;
  const q = pathAndQuery.indexOf("?");
  const raw = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
  // The common case costs one scan: no escape, no dot segment, no empty segment.
  if (!/%|\/\.|\/\//.test(raw) && !raw.endsWith("/.")) return pathAndQuery;
  const query = q === -1 ? "" : pathAndQuery.slice(q);
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return undefined; // a stray '%'
  const decoded = raw.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
  const out: string[] = [];
  const segments = decoded.split("/").slice(1);
  for (const [i, seg] of segments.entries()) {
    const last = i === segments.length - 1;
    if (seg === "..") {
      out.pop();
      if (last) out.push("");
    } else if (seg === ".") {
      if (last) out.push("");
    } else if (seg === "") {
      if (last) out.push(""); // keep one trailing slash
    } else out.push(seg);
  }
  return `/${out.join("/")}${query}`;
}
