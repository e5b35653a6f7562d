import type { Resource } from "../resource";
import { duplicateDestinationPolicy } from "./duplicate-destination-policy";
import { routeWeights } from "./route-weights";
import type { Analyzer, Finding } from "./types";
import { unknownHost } from "./unknown-host";
import { unknownSubset } from "./unknown-subset";

/** Every analyzer analyze runs, one family of findings each. */
const analyzers: readonly Analyzer[] = [routeWeights, unknownHost, unknownSubset, duplicateDestinationPolicy];

/**
 * Cross-resource validation of a whole mesh configuration. Schema validation (parseResource)
 * must already have passed; analyze finds what no single resource shows on its own.
 * Findings are ordered by resource key, then path, so output is stable across runs.
 */
export function analyze(resources: readonly Resource[]): Finding[] {
  return analyzers
    .flatMap((a) => a(resources))
    .sort((a, b) => compare(a.resource, b.resource) || compare(a.path, b.path) || compare(a.code, b.code));
}

/** True when any finding is an error (the control plane refuses such a change). */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === "error");
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export { applyChange } from "./apply-change";
export type { Analyzer, Finding, Severity } from "./types";
