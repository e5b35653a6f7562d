import type { StringMatch } from "../common";
import type { Route } from "../resource";
import type { HttpMatch } from "../resources/route";
import { finding, p } from "./finding";
import { ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const SHADOWED_RULE = "TRELLIS_SHADOWED_RULE";

/**
 * Rules are tried in order and the first match wins, so a rule whose every match alternative
 * is covered by an earlier rule never applies: an exact duplicate, a narrower path under an
 * earlier prefix, or anything after a catch-all (no match, `{}`, or path prefix `/`).
 * Coverage is decided conservatively: regexes only cover themselves and literal paths they match.
 */
export const shadowedRule: Analyzer = (resources) => ofKind(resources, "Route").flatMap((r) => [...httpShadows(r), ...tcpShadows(r)]);

function httpShadows(route: Route): Finding[] {
  const rules = route.spec.http ?? [];
  return rules.flatMap((rule, j): Finding[] => {
    const coveredBy = new Set<number>();
    for (const alt of alternatives(rule.match)) {
      const i = rules.slice(0, j).findIndex((earlier) => alternatives(earlier.match).some((a) => matchCovers(a, alt)));
      if (i < 0) return [];
      coveredBy.add(i);
    }
    const by = [...coveredBy];
    const catchAll = by.length === 1 && alternatives(rules[by[0]!]!.match).some((a) => matchCovers(a, {}));
    const reason = catchAll
      ? `${p("spec", "http", by[0]!)} before it matches every request`
      : `every request it matches is matched first by ${by.map((i) => p("spec", "http", i)).join(" or ")}`;
    const path = rule.match?.length ? ["spec", "http", j, "match"] : ["spec", "http", j];
    return [finding(SHADOWED_RULE, "error", route, path, `${p("spec", "http", j)}${rule.name ? ` ('${rule.name}')` : ""} can never match: ${reason}; move it above, narrow the earlier match, or remove it`)];
  });
}

function tcpShadows(route: Route): Finding[] {
  const rules = route.spec.tcp ?? [];
  return rules.flatMap((rule, j): Finding[] => {
    const i = rules.slice(0, j).findIndex((e) => e.port === undefined || e.port === rule.port);
    if (i < 0) return [];
    return [finding(SHADOWED_RULE, "error", route, ["spec", "tcp", j], `${p("spec", "tcp", j)} can never match: ${p("spec", "tcp", i)} before it takes ${rules[i]!.port === undefined ? "every connection" : `every connection to port ${rule.port}`}; move it above or remove it`)];
  });
}

/** A rule's match alternatives; none (or an empty list) matches everything. */
function alternatives(match: readonly HttpMatch[] | undefined): readonly HttpMatch[] {
  return match && match.length > 0 ? match : [{}];
}

/** Whether every request matching `b` also matches `a`. */
export function matchCovers(a: HttpMatch, b: HttpMatch): boolean {
  const isAll = (m: StringMatch | undefined) => m === undefined || m.prefix === "/" || m.prefix === "";
  const pathCovers = isAll(a.path) || (b.path !== undefined && stringCovers(a.path!, b.path));
  const methodCovers = a.method === undefined || a.method === b.method;
  const headersCover = Object.entries(a.headers ?? {}).every(([name, m]) => {
    const other = b.headers?.[name];
    return other !== undefined && stringCovers(m, other);
  });
  return pathCovers && methodCovers && headersCover;
}

/** Whether every value matching `b` also matches `a`. */
function stringCovers(a: StringMatch, b: StringMatch): boolean {
  const literal = b.exact ?? b.prefix;
  if (a.prefix !== undefined) return literal !== undefined && literal.startsWith(a.prefix);
  if (a.exact !== undefined) return b.exact === a.exact;
  if (a.regex === b.regex) return true;
  return b.exact !== undefined && fullMatch(a.regex!, b.exact);
}

function fullMatch(regex: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${regex})$`).test(value);
  } catch {
    return false;
  }
}
