import type { Resource } from "../resource";
import type { Finding } from "./types";

/** One analyzer looks at the whole mesh and reports one family of findings. */
export type Analyzer = (resources: readonly Resource[]) => Finding[];

const analyzers: Analyzer[] = [];

/**
 * Cross-resource validation of a whole mesh configuration. Schema validation (parseResource)
 * must already have passed; analyze finds what no single resource shows on its own.
 */
export function analyze(resources: readonly Resource[]): Finding[] {
  return analyzers.flatMap((a) => a(resources));
}

/** True when any finding is an error (the control plane refuses such a change). */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === "error");
}

export type { Finding, Severity } from "./types";
