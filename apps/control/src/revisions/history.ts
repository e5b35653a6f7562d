import type { Prisma } from "../generated/prisma/client";
import { NotFoundError } from "./errors";
import { fromRow } from "./resource-rows";
import { replay, revert, toMap, type ResourceMap } from "./resource-state";
import type { DiffEntry, RevisionRecord, RevisionSummary } from "./types";

/** A Prisma client or an interactive transaction: every read here works inside or outside one. */
export type Tx = Prisma.TransactionClient;

/** The latest revision number; 0 before the first write. */
export async function readHead(tx: Tx): Promise<number> {
  const { _max } = await tx.revision.aggregate({ _max: { number: true } });
  return _max.number ?? 0;
}

/** The current resources (the head's content). */
export async function readCurrent(tx: Tx, where: Prisma.ResourceWhereInput = {}): Promise<ResourceMap> {
  const rows = await tx.resource.findMany({ where, orderBy: [{ kind: "asc" }, { namespace: "asc" }, { name: "asc" }] });
  return toMap(rows.map(fromRow));
}

/** The diffs of revisions in (after, upTo], oldest first. */
export async function readDiffs(tx: Tx, after: number, upTo?: number): Promise<{ number: number; diff: DiffEntry[] }[]> {
  const rows = await tx.revision.findMany({
    where: { number: { gt: after, ...(upTo === undefined ? {} : { lte: upTo }) } },
    select: { number: true, diff: true },
    orderBy: { number: "asc" },
  });
  return rows.map((r) => ({ number: r.number, diff: r.diff as unknown as DiffEntry[] }));
}

/**
 * The mesh as of revision `n`: replays diffs forward from the empty mesh, or reverts them
 * backward from the head, whichever reads fewer revisions. Call inside a transaction so head,
 * current resources and diffs come from one snapshot.
 */
export async function resourcesAtIn(tx: Tx, n: number, head: number): Promise<ResourceMap> {
  if (!Number.isInteger(n) || n < 0 || n > head) throw new NotFoundError(`revision ${n} does not exist; the head is ${head}`);
  if (n === head) return readCurrent(tx);
  if (n <= head - n) return replay(new Map(), (await readDiffs(tx, 0, n)).map((d) => d.diff));
  const later = await readDiffs(tx, n, head);
  return revert(await readCurrent(tx), later.reverse().map((d) => d.diff));
}

type RevisionRow = { number: number; author: string; message: string; createdAt: Date; rollbackOf: number | null; baseRevision: number | null; diff: unknown };

export function toSummary(row: RevisionRow): RevisionSummary {
  const diff = row.diff as DiffEntry[];
  return {
    number: row.number,
    author: row.author,
    message: row.message,
    createdAt: row.createdAt,
    rollbackOf: row.rollbackOf,
    baseRevision: row.baseRevision,
    changes: diff.map((e) => ({ op: e.op, key: e.key })),
  };
}

export function toRecord(row: RevisionRow): RevisionRecord {
  return { ...toSummary(row), diff: row.diff as DiffEntry[] };
}
