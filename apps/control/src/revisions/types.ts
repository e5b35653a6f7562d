import type { Finding, Resource, ResourceRef } from "@trellis/config";

export type DiffOp = "create" | "update" | "delete";

/** One resource's change within a revision, as stored in `revisions.diff`. */
export interface DiffEntry {
  op: DiffOp;
  /** `Kind/namespace/name`. */
  key: string;
  /** The full resource before the change; null for a create. */
  before: Resource | null;
  /** The full resource after the change; null for a delete. */
  after: Resource | null;
}

/** One changed leaf (or added/removed subtree) between two versions of a resource. */
export interface FieldChange {
  /** e.g. `spec.http[0].route[1].weight`. */
  path: string;
  /** Absent values are null. */
  before: unknown;
  after: unknown;
}

/** A resource's change between two revisions, with the fields that changed (updates only). */
export interface ResourceDiff extends DiffEntry {
  fields: FieldChange[];
}

/** A revision without its full diff: what the history list shows. */
export interface RevisionSummary {
  number: number;
  author: string;
  message: string;
  createdAt: Date;
  /** The revision whose content this one restored, for rollbacks. */
  rollbackOf: number | null;
  baseRevision: number | null;
  /** What changed, one entry per resource. */
  changes: { op: DiffOp; key: string }[];
}

export interface RevisionRecord extends RevisionSummary {
  diff: DiffEntry[];
}

/** A resource named by reference or by its key `Kind/namespace/name`. */
export type ResourceRefOrKey = ResourceRef | string;

export interface ApplyInput {
  /** Raw resources, validated here (parseResource); errors name `upserts[i].<field>`. */
  upserts?: readonly unknown[];
  deletes?: readonly (ResourceRefOrKey | unknown)[];
  /** The head revision the writer's view was based on. */
  baseRevision: number;
  author: string;
  message: string;
}

export interface RollbackInput {
  /** The revision whose content to restore (0 = the empty mesh). */
  to: number;
  baseRevision: number;
  author: string;
  message: string;
}

export interface WriteResult {
  /** The new revision, or the unchanged head when the write changed nothing. */
  revision: number;
  /** False when nothing changed and no revision was created. */
  created: boolean;
  /** analyze() findings on the resulting mesh (warnings and infos; errors throw). */
  findings: Finding[];
}

/** The whole mesh at one revision. */
export interface Snapshot {
  revision: number;
  resources: Resource[];
}
