import type { FieldChange } from "./types";

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Structural equality of JSON-like values. Key order does not matter (JSONB reorders keys)
 * and a property set to undefined equals an absent one (JSON drops both).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!deepEqual(a[k], b[k])) return false;
  return true;
}

/** Appends a property to a path the way formatPath does: `spec.http`, `[0]`, `labels["app.io/x"]`. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

/**
 * The leaves that differ between two JSON values, with paths like `spec.http[0].route[1].weight`.
 * Arrays compare index by index; an added or removed property or element is one change whose
 * other side is null.
 */
export function fieldChanges(before: unknown, after: unknown, path = ""): FieldChange[] {
  if (deepEqual(before, after)) return [];
  if (isObject(before) && isObject(after)) {
    const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !(k in before))];
    return keys.flatMap((k) => fieldChanges(before[k], after[k], joinPath(path, k)));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    return Array.from({ length: n }, (_, i) => fieldChanges(before[i], after[i], joinPath(path, i))).flat();
  }
  return [{ path, before: before ?? null, after: after ?? null }];
}
