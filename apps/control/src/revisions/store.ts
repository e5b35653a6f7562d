import { analyze, hasErrors, resourceKey, type Resource, type ResourceRef } from "@trellis/config";
import type { Database } from "../db/open-database";
import { Prisma } from "../generated/prisma/client";
import type { Logger } from "../log";
import { AnalyzeError, NotFoundError } from "./errors";
import { readCurrent, readHead, resourcesAtIn, toRecord, toSummary, type Tx } from "./history";
import { parseWrite } from "./parse-write";
import { toRow } from "./resource-rows";
import { diffMaps, diffWithFields, sorted, type ResourceMap } from "./resource-state";
import type { ApplyInput, DiffEntry, ResourceDiff, RevisionRecord, RevisionSummary, RollbackInput, Snapshot, WriteResult } from "./types";
import { checkConflicts, planApply, planRollback, type WritePlan } from "./write-plan";

/** Serialises writers (on every replica) so revision numbers are head + 1, without gaps. */
export const REVISION_LOCK_KEY = 7_326_101;
const WRITE_TX = { maxWait: 10_000, timeout: 30_000 };
const READ_TX = { maxWait: 10_000, timeout: 30_000, isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead };

export type CommitListener = (revision: number) => void | Promise<void>;

export interface ResourceStoreOptions {
  log?: Logger;
  /** Called after each committed revision (the distribution layer publishes the change). */
  onCommitted?: CommitListener;
}

/**
 * The mesh configuration and its change log. Every write is one transaction under an
 * advisory lock: check the writer's base revision, apply the change in memory, run analyze
 * on the whole result, and only then store the resources and a revision with its diff.
 * Safe to share between concurrent callers and across replicas on one PostgreSQL.
 */
export class ResourceStore {
  private readonly listeners = new Set<CommitListener>();
  /**
   * The content of one revision, kept so that writes and snapshots need not re-read every
   * resource. Safe across replicas: a revision's content never changes once committed, so the
   * cache is used only when the database's head equals its revision.
   */
  private cache: { revision: number; map: ResourceMap; sorted: Resource[] } | undefined;

  constructor(
    private readonly db: Pick<Database, "prisma" | "mapError">,
    private readonly opts: ResourceStoreOptions = {},
  ) {
    if (opts.onCommitted) this.listeners.add(opts.onCommitted);
  }

  /** Subscribes to committed revisions; returns the unsubscribe function. */
  onCommitted(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Creates, updates and deletes resources in one revision; a write that changes nothing creates none. */
  async apply(input: ApplyInput): Promise<WriteResult> {
    const { upserts, deletes } = parseWrite(input.upserts, input.deletes);
    return this.write(input, undefined, async (_tx, current) => planApply(current, upserts, deletes));
  }

  /** A new revision whose content equals revision `to` (rollbackOf = to). */
  async rollback(input: RollbackInput): Promise<WriteResult> {
    return this.write(input, input.to, async (tx, current, head) => planRollback(current, await resourcesAtIn(tx, input.to, head)));
  }

  head(): Promise<number> {
    return this.guard(() => readHead(this.db.prisma));
  }

  /** Current resources, optionally of one kind and/or namespace, sorted by key. */
  list(filter: { kind?: string; namespace?: string } = {}): Promise<Resource[]> {
    return this.guard(async () => sorted(await readCurrent(this.db.prisma, filter)));
  }

  /** One current resource, or undefined. */
  get(ref: ResourceRef | string): Promise<Resource | undefined> {
    const key = typeof ref === "string" ? ref : resourceKey(ref);
    const [kind = "", namespace = "", name = ""] = key.split("/");
    return this.guard(async () => (await readCurrent(this.db.prisma, { kind, namespace, name })).get(key));
  }

  /** The head revision and all its resources, read consistently (from the cache when the head has not moved). */
  snapshot(): Promise<Snapshot> {
    return this.guard(async () => {
      const cached = this.cache;
      if (cached && (await readHead(this.db.prisma)) === cached.revision) return { revision: cached.revision, resources: cached.sorted };
      const read = await this.db.prisma.$transaction(async (tx) => {
        const revision = await readHead(tx);
        return { revision, map: await readCurrent(tx) };
      }, READ_TX);
      return { revision: read.revision, resources: this.remember(read.revision, read.map).sorted };
    });
  }

  /** Caches revision `revision`'s content unless a newer one is cached already. */
  private remember(revision: number, map: ResourceMap): { sorted: Resource[] } {
    if (this.cache && this.cache.revision > revision) return { sorted: sorted(map) };
    this.cache = { revision, map, sorted: sorted(map) };
    return this.cache;
  }

  /** Newest first; `before` pages back (revisions numbered below it). */
  listRevisions(opts: { limit?: number; before?: number } = {}): Promise<RevisionSummary[]> {
    const take = Math.min(Math.max(opts.limit ?? 50, 1), 1000);
    return this.guard(async () => {
      const rows = await this.db.prisma.revision.findMany({
        where: opts.before === undefined ? {} : { number: { lt: opts.before } },
        orderBy: { number: "desc" },
        take,
      });
      return rows.map(toSummary);
    });
  }

  /** One revision with its diff; NotFoundError when it does not exist. */
  getRevision(n: number): Promise<RevisionRecord> {
    return this.guard(async () => {
      const row = Number.isInteger(n) ? await this.db.prisma.revision.findUnique({ where: { number: n } }) : null;
      if (!row) throw new NotFoundError(`revision ${n} does not exist`);
      return toRecord(row);
    });
  }

  /** The full mesh as of revision `n` (0 = empty). */
  resourcesAt(n: number): Promise<Resource[]> {
    return this.guard(() => this.db.prisma.$transaction(async (tx) => sorted(await resourcesAtIn(tx, n, await readHead(tx))), READ_TX));
  }

  /** What changed from revision `a` to revision `b` (either order), with field paths for updates. */
  diff(a: number, b: number): Promise<ResourceDiff[]> {
    return this.guard(() =>
      this.db.prisma.$transaction(async (tx) => {
        const head = await readHead(tx);
        return diffWithFields(await resourcesAtIn(tx, a, head), await resourcesAtIn(tx, b, head));
      }, READ_TX),
    );
  }

  private async write(
    meta: { baseRevision: number; author: string; message: string },
    rollbackOf: number | undefined,
    plan: (tx: Tx, current: Map<string, Resource>, head: number) => Promise<WritePlan>,
  ): Promise<WriteResult> {
    let committed: ResourceMap | undefined;
    const result = await this.guard(() =>
      this.db.prisma.$transaction(async (tx): Promise<WriteResult> => {
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${REVISION_LOCK_KEY})`);
        const head = await readHead(tx);
        const cached = this.cache;
        const current = cached && cached.revision === head ? cached.map : await readCurrent(tx);
        const { next, touched, missing } = await plan(tx, current, head);
        await checkConflicts(tx, touched, meta.baseRevision, head);
        if (missing.length) throw new NotFoundError(`cannot delete ${missing.join(", ")}: no such resource at revision ${head}`);
        const entries = diffMaps(current, next);
        const findings = analyze(sorted(next));
        if (entries.length === 0) return { revision: head, created: false, findings };
        if (hasErrors(findings)) throw new AnalyzeError(findings);
        const number = head + 1;
        await tx.revision.create({
          data: { number, author: meta.author, message: meta.message, diff: entries as unknown as Prisma.InputJsonValue, rollbackOf: rollbackOf ?? null, baseRevision: meta.baseRevision },
        });
        await writeResources(tx, entries, number);
        committed = next;
        return { revision: number, created: true, findings };
      }, WRITE_TX),
    );
    if (result.created && committed) this.remember(result.revision, committed);
    if (result.created) this.notify(result.revision);
    return result;
  }

  private notify(revision: number): void {
    for (const listener of this.listeners) {
      Promise.resolve()
        .then(() => listener(revision))
        .catch((err: unknown) => this.opts.log?.error("onCommitted listener failed", { revision, cause: err instanceof Error ? err.message : String(err) }));
    }
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.db.mapError(err);
    }
  }
}

/**
 * Rows per bulk statement. Prisma compiles and caches a plan per query shape, and a createMany
 * of n rows is a shape of its own with parameters for every row: one write of 1500 resources
 * left a plan of 24 000 parameters (~10 MB) in the cache. Chunks keep every plan small and
 * the shapes few (at most BULK_CHUNK of them).
 */
const BULK_CHUNK = 32;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BULK_CHUNK) out.push(items.slice(i, i + BULK_CHUNK));
  return out;
}

async function writeResources(tx: Tx, entries: readonly DiffEntry[], revision: number): Promise<void> {
  const creates = entries.filter((e) => e.op === "create").map((e) => ({ ...toRow(e.after!), createdRevision: revision, updatedRevision: revision }));
  for (const data of chunks(creates)) await tx.resource.createMany({ data });
  for (const e of entries.filter((x) => x.op === "update")) {
    const { kind, namespace, name, spec, labels } = toRow(e.after!);
    await tx.resource.update({ where: { kind_namespace_name: { kind, namespace, name } }, data: { spec, labels, updatedRevision: revision } });
  }
  const deletes = entries.filter((e) => e.op === "delete").map((e) => e.before!);
  for (const some of chunks(deletes)) {
    await tx.resource.deleteMany({ where: { OR: some.map((r) => ({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name })) } });
  }
}
