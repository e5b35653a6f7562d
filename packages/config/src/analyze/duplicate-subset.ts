import { finding } from "./finding";
import { ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const DUPLICATE_SUBSET = "TRELLIS_DUPLICATE_SUBSET";

/** Subset names are what Routes refer to; two subsets of one name make the reference ambiguous. */
export const duplicateSubset: Analyzer = (resources) =>
  ofKind(resources, "DestinationPolicy").flatMap((dp) =>
    dp.spec.subsets.flatMap((subset, j): Finding[] => {
      const first = dp.spec.subsets.findIndex((s) => s.name === subset.name);
      if (first === j) return [];
      return [finding(DUPLICATE_SUBSET, "error", dp, ["spec", "subsets", j, "name"], `subset name '${subset.name}' at spec.subsets[${j}].name is already used by spec.subsets[${first}]; give each subset a distinct name`)];
    }),
  );
