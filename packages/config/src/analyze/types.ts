import type { Resource } from "../resource";

/** How bad a finding is: errors block a write, warnings and infos are shown. */
export type Severity = "error" | "warning" | "info";

/** One problem analyze found. */
export interface Finding {
  /** Stable code, e.g. `TRELLIS_WEIGHTS_SUM`. */
  code: string;
  severity: Severity;
  /** Key of the offending resource, `Kind/namespace/name`. */
  resource: string;
  /** Path of the offending field within the resource, e.g. `spec.http[0].route[1].weight`. */
  path: string;
  /** What is wrong, where, and what would be right. */
  message: string;
}

/** Everything analyze looks at: the resources of the whole mesh (after the change). */
export interface AnalyzeInput {
  resources: readonly Resource[];
}

/** One analyzer looks at the whole mesh and reports one family of findings. */
export type Analyzer = (resources: readonly Resource[]) => Finding[];
