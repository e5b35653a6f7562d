import type { Route } from "../resource";
import { finding, p } from "./finding";
import { ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const WEIGHTS_SUM = "TRELLIS_WEIGHTS_SUM";
export const WEIGHT_MISSING = "TRELLIS_WEIGHT_MISSING";

type WeightedList = Route["spec"]["http" | "tcp"] & {};

/**
 * The destinations of one rule share its traffic: their weights sum to 100. A lone
 * destination may omit its weight (it gets 100); among several, every one needs a weight.
 */
export const routeWeights: Analyzer = (resources) =>
  ofKind(resources, "Route").flatMap((route) => [
    ...rules(route, "http", route.spec.http ?? []),
    ...rules(route, "tcp", route.spec.tcp ?? []),
  ]);

function rules(route: Route, section: "http" | "tcp", list: WeightedList): Finding[] {
  return list.flatMap((rule, i): Finding[] => {
    const dests = rule.route;
    if (dests.length === 1 && dests[0]!.weight === undefined) return [];
    const missing = dests.flatMap((d, j) => (d.weight === undefined ? [j] : []));
    if (missing.length > 0) {
      const names = missing.map((j) => p("spec", section, i, "route", j, "weight"));
      return [
        finding(WEIGHT_MISSING, "error", route, ["spec", section, i, "route", missing[0]!, "weight"],
          `${names.join(", ")} ${missing.length === 1 ? "is" : "are"} missing; when a rule has ${dests.length} destinations each needs a weight, and the weights must sum to 100`),
      ];
    }
    const sum = dests.reduce((s, d) => s + (d.weight ?? 0), 0);
    if (sum === 100) return [];
    return [finding(WEIGHTS_SUM, "error", route, ["spec", section, i, "route"], `weights of ${p("spec", section, i, "route")} sum to ${sum}; they must sum to 100`)];
  });
}
