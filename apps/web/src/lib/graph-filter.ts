/**
 * The graph's find and hide expressions, as Kiali has them: space-separated terms that must all
 * hold. `rps>10`, `rps<=1`, `errors>5%`, `p95>200ms` (also p50/p99, units ms or s), `mtls`,
 * `!mtls`, `unhealthy`, `healthy`, `idle`, `name=reviews*` (`*` anywhere). A node is measured
 * by its inbound traffic, an edge by its own.
 */
export interface Measured {
  name: string;
  rps: number | null;
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mtlsShare: number | null;
  health: string;
}

export type Test = (m: Measured) => boolean;

const HELP = "use rps>10, errors>5%, p95>200ms, mtls, !mtls, unhealthy, healthy, idle or name=reviews*";

function compare(op: string, a: number, b: number): boolean {
  switch (op) {
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    default:
      return a === b;
  }
}

function term(t: string): Test | string {
  const lower = t.toLowerCase();
  if (lower === "mtls") return (m) => (m.mtlsShare ?? 0) > 0;
  if (lower === "!mtls" || lower === "nomtls") return (m) => (m.mtlsShare ?? 0) === 0;
  if (lower === "unhealthy") return (m) => m.health === "degraded" || m.health === "failure";
  if (lower === "healthy" || lower === "idle") return (m) => m.health === lower;
  const name = /^name=(.+)$/i.exec(t);
  if (name) {
    const re = new RegExp(`^${name[1]!.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i");
    return (m) => re.test(m.name);
  }
  const num = /^(rps|errors|p50|p95|p99)(>=|<=|>|<|=)(\d+(?:\.\d+)?)(%|ms|s)?$/i.exec(t);
  if (num) {
    const [, field, op, raw, unit] = num as unknown as [string, string, string, string, string | undefined];
    let value = Number(raw);
    const f = field.toLowerCase();
    if (f === "errors") {
      if (unit && unit !== "%") return `'${t}': errors are a percentage (errors>5%)`;
      value = value / 100;
    } else if (f === "rps") {
      if (unit) return `'${t}': rps takes no unit`;
    } else {
      if (unit === "%") return `'${t}': latency is in ms or s (p95>200ms)`;
      if (unit === "s") value *= 1000;
    }
    const get = (m: Measured) => (f === "errors" ? m.errorRate : f === "rps" ? m.rps : m[f as "p50" | "p95" | "p99"]);
    return (m) => {
      const v = get(m);
      return v !== null && compare(op, v, value);
    };
  }
  return `unknown term '${t}'; ${HELP}`;
}

/** The test an expression stands for, or the problem with it (naming the term). Empty: undefined (nothing to find). */
export function parseExpression(text: string): { test: Test | undefined; error?: undefined } | { test?: undefined; error: string } {
  const terms = text.trim().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return { test: undefined };
  const tests: Test[] = [];
  for (const t of terms) {
    const r = term(t);
    if (typeof r === "string") return { error: r };
    tests.push(r);
  }
  return { test: (m) => tests.every((x) => x(m)) };
}
