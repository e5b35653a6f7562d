import { parseResource, parseResourceKey, resourceKey, ResourceRefSchema, ResourceValidationError, type Resource } from "@trellis/config";
import { canonical } from "./resource-rows";

type Issue = { path: string; message: string };

function prefixed(prefix: string, err: unknown): Issue[] {
  if (err instanceof ResourceValidationError) return err.issues.map((i) => ({ path: i.path ? `${prefix}.${i.path}` : prefix, message: i.message }));
  return [{ path: prefix, message: err instanceof Error ? err.message : String(err) }];
}

/**
 * Validates a write's raw input. Every problem is reported at once, its path prefixed with
 * the item's place in the request (`upserts[2].spec.http[0].route`), in one
 * ResourceValidationError. A key named twice (two upserts, or an upsert and a delete) is an
 * error too: the write would be ambiguous.
 */
export function parseWrite(upserts: readonly unknown[] = [], deletes: readonly unknown[] = []): { upserts: Resource[]; deletes: string[] } {
  const issues: Issue[] = [];
  const seen = new Map<string, string>();
  const claim = (key: string, where: string) => {
    const first = seen.get(key);
    if (first) issues.push({ path: where, message: `${key} is already changed by ${first} in this write; name each resource once` });
    else seen.set(key, where);
  };
  const parsed: Resource[] = [];
  upserts.forEach((raw, i) => {
    try {
      const r = canonical(parseResource(raw));
      claim(resourceKey(r), `upserts[${i}]`);
      parsed.push(r);
    } catch (err) {
      issues.push(...prefixed(`upserts[${i}]`, err));
    }
  });
  const keys: string[] = [];
  deletes.forEach((raw, i) => {
    try {
      const key = typeof raw === "string" ? resourceKey(parseResourceKey(raw)) : resourceKey(ResourceRefSchema.parse(raw));
      claim(key, `deletes[${i}]`);
      keys.push(key);
    } catch {
      issues.push({ path: `deletes[${i}]`, message: "must be a resource key 'Kind/namespace/name' or { kind, namespace, name } with a known kind" });
    }
  });
  if (issues.length) throw new ResourceValidationError(issues);
  return { upserts: parsed, deletes: keys };
}
