import { applyChange, type Resource } from "@trellis/config";
import { ConflictError } from "./errors";
import { readDiffs, type Tx } from "./history";
import { diffMaps, sorted, toMap, type ResourceMap } from "./resource-state";

/** What a write wants: the mesh after it, and the keys it touches (for conflict detection). */
export interface WritePlan {
  next: ResourceMap;
  touched: string[];
  /** Deletes of resources that do not exist (and never changed since the base): not found. */
  missing: string[];
}

/** An apply: upserts replace or add, deletes remove (see applyChange in @trellis/config). */
export function planApply(current: ResourceMap, upserts: readonly Resource[], deletes: readonly string[]): WritePlan {
  const next = toMap(applyChange(sorted(current), upserts, deletes));
  const touched = [...toMap(upserts).keys(), ...deletes];
  return { next, touched, missing: deletes.filter((k) => !current.has(k)) };
}

/** A rollback: the mesh becomes `target`; it touches every resource that differs. */
export function planRollback(current: ResourceMap, target: ResourceMap): WritePlan {
  return { next: target, touched: diffMaps(current, target).map((e) => e.key), missing: [] };
}

/**
 * Refuses a write whose view is stale: the base is ahead of the head, or a touched resource
 * was created, updated or deleted by a revision after the base. (A create of a resource
 * that appeared after the base is such a case: its creating revision is after the base.)
 */
export async function checkConflicts(tx: Tx, touched: readonly string[], baseRevision: number, head: number): Promise<void> {
  if (!Number.isInteger(baseRevision) || baseRevision < 0 || baseRevision > head) {
    throw new ConflictError(
      `base revision ${baseRevision} is not a revision of this mesh (the head is ${head}); re-read and retry`,
      undefined,
      undefined,
      baseRevision,
      head,
    );
  }
  if (baseRevision === head || touched.length === 0) return;
  const wanted = new Set(touched);
  const since = await readDiffs(tx, baseRevision, head);
  for (const { number, diff } of since.reverse()) {
    const hit = diff.find((e) => wanted.has(e.key));
    if (hit) {
      throw new ConflictError(
        `${hit.key} was ${hit.op}d by revision ${number}, after your base revision ${baseRevision} (head ${head}); re-read it and apply your change again`,
        hit.key,
        number,
        baseRevision,
        head,
      );
    }
  }
}
