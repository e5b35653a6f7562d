import type { Finding } from "@trellis/config";

/**
 * A write based on a stale view: a resource it touches changed after `baseRevision`, or
 * the base is ahead of the head. The client re-reads, re-applies its edit and retries.
 */
export class ConflictError extends Error {
  readonly code = "TRELLIS_CONFLICT";
  constructor(
    message: string,
    /** The contested resource key (`Kind/namespace/name`), absent when the base itself is wrong. */
    readonly key: string | undefined,
    /** The revision that changed it after the base. */
    readonly revision: number | undefined,
    readonly baseRevision: number,
    readonly head: number,
  ) {
    super(message);
    this.name = "ConflictError";
  }
}

/** A revision or resource that does not exist. */
export class NotFoundError extends Error {
  readonly code = "TRELLIS_NOT_FOUND";
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
}

/** analyze() found errors in the mesh as it would be after the write; nothing was written. */
export class AnalyzeError extends Error {
  readonly code = "TRELLIS_ANALYZE_FAILED";
  constructor(readonly findings: Finding[]) {
    const errors = findings.filter((f) => f.severity === "error");
    super(
      `the change was refused: analyze found ${errors.length} error(s): ` +
        errors.map((f) => `${f.resource} ${f.path}: ${f.message} [${f.code}]`).join("; "),
    );
    this.name = "AnalyzeError";
  }
}
