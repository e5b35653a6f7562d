import { createHash } from "node:crypto";

/**
 * JSON with object keys in a canonical order at every level, so equal values always
 * serialize to equal strings (the basis of snapshot versions). Hot — it encodes every
 * outbound host of the mesh — so it copies objects with their keys inserted in sorted order
 * and lets the native JSON.stringify do the encoding. (JavaScript orders integer-like keys,
 * such as the port numbers of `portLevel`, numerically before the others; that order is just
 * as deterministic.) `undefined` members are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? "null";
}

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(sortKeys);
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > 1) keys.sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const v = obj[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

/** Hex SHA-256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
