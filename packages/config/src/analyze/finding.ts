import { formatPath, resourceKey } from "../resource";
import type { Resource } from "../resource";
import type { Finding, Severity } from "./types";

/** Builds a finding on `resource` at `path` (segments as formatPath takes them). */
export function finding(code: string, severity: Severity, resource: Resource, path: readonly PropertyKey[], message: string): Finding {
  return { code, severity, resource: resourceKey(resource), path: formatPath(path), message };
}

/** Shorthand for formatPath, for naming other fields inside messages. */
export const p = (...path: PropertyKey[]): string => formatPath(path);
