import type { ResponseFlag } from "../core/errors";

/**
 * Envoy's order of response flags (its ResponseFlagUtils table), so the same set of flags
 * always prints the same way whatever order the layers set them in: one metric series per
 * set, not one per permutation. RBAC is Trellis's own and goes last.
 */
const ORDER: readonly ResponseFlag[] = ["UH", "UT", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "DC", "URX", "RBAC"];
const RANK = new Map<ResponseFlag, number>(ORDER.map((f, i) => [f, i]));

/** `-` when there are none, else the flags in Envoy's order joined by `,` (`UH,URX`), as in the access log and the `response_flags` label. */
export function formatResponseFlags(flags: ReadonlySet<ResponseFlag>): string {
  if (flags.size === 0) return "-";
  if (flags.size === 1) for (const f of flags) return f;
  return [...flags].sort((a, b) => (RANK.get(a) ?? ORDER.length) - (RANK.get(b) ?? ORDER.length)).join(",");
}
