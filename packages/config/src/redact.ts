/**
 * Makes a value safe to show on the admin port: a JSON-ready deep copy with secrets replaced
 * by "[redacted]", as Envoy's config_dump does.
 *
 * Redacted: a field whose name ends in privateKey / private_key, secret, password, passphrase,
 * credential(s) or token (`clientSecret`, `accessToken`) unless its value is a number or a
 * boolean (`maxTokens`, `forwardOriginalToken` are configuration, not secrets); and any string
 * holding PEM private-key material, whatever its field is called (`key: "-----BEGIN ... PRIVATE
 * KEY-----"`). A field merely called `key` is kept: AuthorizationPolicy conditions use it.
 *
 * Also never throws on what JSON.stringify would: cycles become "[circular]", bigints strings,
 * functions and symbols are dropped, byte arrays become "[N bytes]", depth past 64 becomes
 * "[too deep]".
 */
export const REDACTED = "[redacted]";

const SENSITIVE_NAME = /(private_?key|secret|password|passphrase|credentials?|token)$/i;
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const MAX_DEPTH = 64;

export function redactSecrets(value: unknown): unknown {
  return copy(value, new WeakSet(), 0);
}

function copy(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  switch (typeof value) {
    case "string":
      return PEM_PRIVATE_KEY.test(value) ? REDACTED : value;
    case "number":
      return Number.isFinite(value) ? value : null;
    case "boolean":
      return value;
    case "bigint":
      return value.toString();
    case "object":
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  try {
    // Raw bytes (certificates, keys) are never printed.
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    if (Array.isArray(value)) return value.map((v) => copy(v, seen, depth + 1) ?? null);
    if (value instanceof Map) return copy(Object.fromEntries(value), seen, depth + 1);
    if (value instanceof Set) return copy([...value], seen, depth + 1);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SENSITIVE_NAME.test(k) && v !== null && v !== undefined && typeof v !== "number" && typeof v !== "boolean") {
        out[k] = REDACTED;
        continue;
      }
      const c = copy(v, seen, depth + 1);
      if (c !== undefined) out[k] = c;
    }
    return out;
  } finally {
    // Shared (non-cyclic) references print in full each time they appear.
    seen.delete(value);
  }
}
