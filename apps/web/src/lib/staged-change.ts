import { useEffect, useState } from "react";

/** A resource as the editors handle it (the API's resources, spec left open). */
export interface Res {
  kind: string;
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}

/** `Kind/namespace/name`: how a change names a resource. */
export const resourceKey = (r: { kind: string; metadata: { name: string; namespace: string } }) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;

/**
 * A change being built over the `stored` resources of one namespace: upserts and deletes by
 * resource key, cleared when `scope` (the namespace) changes. `current(k)` is a resource as the
 * change would leave it; `ofKind` lists a kind's resources that way, stored ones first.
 */
export function useStagedChange(stored: readonly Res[], scope: string) {
  const [upserts, setUpserts] = useState<Map<string, Res>>(new Map());
  const [deletes, setDeletes] = useState<Set<string>>(new Set());
  useEffect(() => {
    setUpserts(new Map());
    setDeletes(new Set());
  }, [scope]);

  const current = (k: string) => (deletes.has(k) ? undefined : (upserts.get(k) ?? stored.find((r) => resourceKey(r) === k)));
  const stage = (r: Res) => {
    setUpserts(new Map(upserts).set(resourceKey(r), r));
    setDeletes(new Set([...deletes].filter((d) => d !== resourceKey(r))));
  };
  /** Stages several at once (suggestions), without touching the deletes. */
  const stageAll = (rs: readonly Res[]) => {
    const u = new Map(upserts);
    for (const r of rs) u.set(resourceKey(r), r);
    setUpserts(u);
  };
  const unstage = (k: string) => {
    const u = new Map(upserts);
    u.delete(k);
    setUpserts(u);
    setDeletes(new Set([...deletes].filter((d) => d !== k)));
  };
  const remove = (k: string) => {
    const u = new Map(upserts);
    u.delete(k);
    setUpserts(u);
    if (stored.some((r) => resourceKey(r) === k)) setDeletes(new Set(deletes).add(k));
  };
  const clear = () => {
    setUpserts(new Map());
    setDeletes(new Set());
  };
  const ofKind = (kind: string): [string, Res][] =>
    [...new Map([...stored, ...upserts.values()].filter((r) => r.kind === kind).map((r) => [resourceKey(r), current(resourceKey(r))])).entries()].filter(([, r]) => r !== undefined) as [string, Res][];
  /** A name no resource of that kind in the namespace has yet (stored or in the change), so "create" never overwrites. */
  const freeName = (kind: string, prefix: string) => {
    const taken = new Set([...stored, ...upserts.values()].filter((r) => r.kind === kind).map((r) => r.metadata.name));
    let i = 1;
    while (taken.has(`${prefix}-${i}`)) i++;
    return `${prefix}-${i}`;
  };
  return { upserts, deletes, current, stage, stageAll, unstage, remove, clear, ofKind, freeName, staged: [...upserts.keys(), ...deletes] };
}
