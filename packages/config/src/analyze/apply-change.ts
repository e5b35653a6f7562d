import { resourceKey } from "../resource";
import type { Resource } from "../resource";

/**
 * The mesh after a change: `deletes` (resource keys) removed, `upserts` replacing the resource
 * with the same key in place or appended. Run analyze on the result to validate the change.
 */
export function applyChange(current: readonly Resource[], upserts: readonly Resource[], deletes: readonly string[]): Resource[] {
  const gone = new Set(deletes);
  const incoming = new Map(upserts.map((r) => [resourceKey(r), r]));
  const out: Resource[] = [];
  for (const r of current) {
    const key = resourceKey(r);
    if (gone.has(key)) continue;
    const replacement = incoming.get(key);
    out.push(replacement ?? r);
    incoming.delete(key);
  }
  for (const [key, r] of incoming) if (!gone.has(key)) out.push(r);
  return out;
}
