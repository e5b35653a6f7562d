import { resourceKey, type Resource } from "@trellis/config";
import { deepEqual, fieldChanges } from "./field-diff";
import type { DiffEntry, ResourceDiff } from "./types";

/** The mesh at one point in history: resource key → resource. */
export type ResourceMap = Map<string, Resource>;

export function toMap(resources: Iterable<Resource>): ResourceMap {
  return new Map([...resources].map((r) => [resourceKey(r), r]));
}

/** Resources sorted by key, so every listing is stable. */
export function sorted(map: ResourceMap): Resource[] {
  return [...map.keys()].sort().map((k) => map.get(k)!);
}

/** The changes that turn `from` into `to`, by key; unchanged resources are left out. */
export function diffMaps(from: ResourceMap, to: ResourceMap): DiffEntry[] {
  const keys = [...new Set([...from.keys(), ...to.keys()])].sort();
  return keys.flatMap((key): DiffEntry[] => {
    const before = from.get(key) ?? null;
    const after = to.get(key) ?? null;
    if (before && after) return deepEqual(before, after) ? [] : [{ op: "update", key, before, after }];
    return before ? [{ op: "delete", key, before, after: null }] : [{ op: "create", key, before: null, after }];
  });
}

/** diffMaps with field-level changes for updates. */
export function diffWithFields(from: ResourceMap, to: ResourceMap): ResourceDiff[] {
  return diffMaps(from, to).map((e) => ({ ...e, fields: e.op === "update" ? fieldChanges(e.before, e.after) : [] }));
}

/** Plays revisions' diffs forward (oldest first) onto `state`, in place. */
export function replay(state: ResourceMap, diffs: readonly DiffEntry[][]): ResourceMap {
  for (const diff of diffs) for (const e of diff) e.after ? state.set(e.key, e.after) : state.delete(e.key);
  return state;
}

/** Undoes revisions' diffs (newest first) on `state`, in place. */
export function revert(state: ResourceMap, diffsNewestFirst: readonly DiffEntry[][]): ResourceMap {
  for (const diff of diffsNewestFirst) for (const e of diff) e.before ? state.set(e.key, e.before) : state.delete(e.key);
  return state;
}
