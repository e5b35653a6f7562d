import type { Resource } from "@trellis/config";
import { Prisma } from "../generated/prisma/client";

/** The columns of a `resources` row that carry the resource itself. */
export interface ResourceRowContent {
  kind: string;
  namespace: string;
  name: string;
  spec: unknown;
  labels: unknown;
}

/** Rebuilds a resource from its row, in the shape parseResource returns. */
export function fromRow(row: ResourceRowContent): Resource {
  const metadata: Record<string, unknown> = { name: row.name, namespace: row.namespace };
  if (row.labels !== null && row.labels !== undefined) metadata.labels = row.labels;
  return { kind: row.kind, metadata, spec: row.spec } as Resource;
}

/** The row columns for a resource (labels → SQL NULL when it has none). */
export function toRow(r: Resource) {
  return {
    kind: r.kind,
    namespace: r.metadata.namespace,
    name: r.metadata.name,
    spec: r.spec as Prisma.InputJsonValue,
    labels: r.metadata.labels === undefined ? Prisma.DbNull : (r.metadata.labels as Prisma.InputJsonValue),
  };
}

/** A JSON round trip: drops undefined properties so stored and in-memory resources compare equal. */
export function canonical<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
