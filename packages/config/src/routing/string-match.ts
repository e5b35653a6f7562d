import type { StringMatch } from "../common";

/**
 * A StringMatch as a predicate, compiled once when a router is built. A regex must match the
 * whole value (anchored, as Envoy's safe_regex and Istio do), compiled with the same flags
 * analyze's invalid-regex check uses, so an expression that passed analyze compiles here.
 * Throws (at build time, so the snapshot is refused) on a regex that does not compile or on a
 * match that sets none of exact/prefix/regex.
 */
export function compileStringMatch(m: StringMatch): (value: string) => boolean {
  if (m.exact !== undefined) {
    const exact = m.exact;
    return (v) => v === exact;
  }
  if (m.prefix !== undefined) {
    const prefix = m.prefix;
    return (v) => v.startsWith(prefix);
  }
  if (m.regex !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${m.regex})$`);
    } catch (e) {
      throw new Error(`regex '${m.regex}' does not compile: ${(e as Error).message}; fix it in the resource (RE2 syntax)`);
    }
    return (v) => re.test(v);
  }
  throw new Error("a string match needs exactly one of exact, prefix or regex");
}
