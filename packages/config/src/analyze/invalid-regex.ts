import type { StringMatch } from "../common";
import type { Resource } from "../resource";
import { finding, p } from "./finding";
import type { Analyzer, Finding } from "./types";

export const INVALID_REGEX = "TRELLIS_INVALID_REGEX";
export const REGEX_NOT_RE2 = "TRELLIS_REGEX_NOT_RE2";

/**
 * Every `regex` of a StringMatch must compile, or the proxy would NACK the snapshot.
 * Backreferences and lookaround compile in JavaScript but are not RE2 (they can take
 * exponential time and other meshes refuse them), so they are a warning.
 */
export const invalidRegex: Analyzer = (resources) => resources.flatMap((r) => stringMatches(r).flatMap(({ match, path }) => check(r, match, path)));

function check(resource: Resource, match: StringMatch, path: (string | number)[]): Finding[] {
  if (match.regex === undefined) return [];
  const at = [...path, "regex"];
  try {
    new RegExp(match.regex);
  } catch (e) {
    const reason = (e as Error).message.replace(/^Invalid regular expression: /, "");
    return [finding(INVALID_REGEX, "error", resource, at, `regex at ${p(...at)} does not compile: ${reason}; fix the expression (RE2 syntax)`)];
  }
  const feature = nonRe2Feature(match.regex);
  if (!feature) return [];
  return [finding(REGEX_NOT_RE2, "warning", resource, at, `regex at ${p(...at)} uses ${feature}, which RE2 does not support; rewrite it without ${feature}`)];
}

/** The first RE2-incompatible construct in `src` outside character classes, if any. */
export function nonRe2Feature(src: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "\\") {
      const next = src[++i] ?? "";
      if (!inClass && /[1-9]/.test(next)) return "a backreference";
      if (!inClass && next === "k" && src[i + 1] === "<") return "a named backreference";
    } else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (!inClass && c === "(" && /^\?(=|!|<=|<!)/.test(src.slice(i + 1, i + 4))) return "lookaround";
  }
  return undefined;
}

/** Every StringMatch a resource holds, with its path: Route path/header matches, rate-limit path matches. */
function stringMatches(r: Resource): { match: StringMatch; path: (string | number)[] }[] {
  const out: { match: StringMatch; path: (string | number)[] }[] = [];
  if (r.kind === "Route") {
    (r.spec.http ?? []).forEach((rule, i) =>
      (rule.match ?? []).forEach((m, j) => {
        if (m.path) out.push({ match: m.path, path: ["spec", "http", i, "match", j, "path"] });
        for (const [name, hm] of Object.entries(m.headers ?? {})) out.push({ match: hm, path: ["spec", "http", i, "match", j, "headers", name] });
      }),
    );
  } else if (r.kind === "RateLimitPolicy") {
    r.spec.limits.forEach((l, i) => {
      if (l.match?.path) out.push({ match: l.match.path, path: ["spec", "limits", i, "match", "path"] });
    });
  }
  return out;
}
