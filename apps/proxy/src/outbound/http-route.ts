import { compileHttpMatch, durationMs, effectiveWeight, pickWeighted } from "@trellis/config";
import type { HttpRouteRule, OutboundHost } from "@trellis/config";
import type { MatchedRoute, RouteTarget } from "../core/context";
import { NoRouteError } from "../core/errors";
import { compose } from "../core/types";
import type { Handler, Layer, ProxyRequest } from "../core/types";
import { faultLayer } from "../filters/fault";
import { headerOpsLayer, rewriteLayer } from "../filters/header-ops";
import { mirrorLayer } from "../filters/mirror";
import { retryLayer } from "../filters/retry";
import { timeoutLayer } from "../filters/timeout";
import type { RetryBudget } from "../filters/retry-budget";
import type { UpstreamCluster } from "./upstream-cluster";

/** What a compiled rule needs from its router. */
export interface RuleDeps {
  /** The cluster for a destination, or undefined if the snapshot has none (→ 503 UH at request time). */
  cluster(host: string, port: number | undefined, subset: string | undefined, requestPort: number): UpstreamCluster | undefined;
  /** The retry budget of a rule, kept across swaps by key. */
  budget(key: string, percent: number): RetryBudget;
  /** Fire-and-forget copy of a request to a cluster. */
  mirror(cluster: UpstreamCluster, req: ProxyRequest): void;
  random: () => number;
}

interface Alternative {
  test(req: ProxyRequest): boolean;
  /** The matched path prefix, for `rewrite.uri`. */
  prefix: string | undefined;
  name: string | undefined;
  /** What a request matched through this alternative is reported as (the rule's name, else the match's). */
  route: MatchedRoute;
  /** The rule's chain with `rewrite.uri` applied to this alternative's prefix. */
  handler: Handler;
}

/** One route rule compiled for one (host, port): its matchers and its handler chain. */
export class CompiledRule {
  readonly alternatives: Alternative[] | null;
  readonly handler: Handler;
  /** What a request the rule matched without alternatives is reported as. */
  readonly route: MatchedRoute;

  constructor(
    readonly rule: HttpRouteRule,
    readonly source: string,
    index: number,
    host: OutboundHost,
    requestPort: number,
    deps: RuleDeps,
  ) {
    const ruleKey = `${source}#${index}|${host.host}:${requestPort}`;
    const destinations = rule.route.map((wd, i) => ({
      weight: effectiveWeight(rule, i),
      subset: wd.destination.subset,
      cluster: deps.cluster(wd.destination.host, wd.destination.port, wd.destination.subset, requestPort),
    }));
    const layersFor = (cluster: UpstreamCluster): Layer[] => {
      const out: Layer[] = [];
      if (rule.timeout) out.push(timeoutLayer(durationMs(rule.timeout)));
      if (rule.retries && rule.retries.attempts > 0) {
        out.push(retryLayer(rule.retries, { budget: deps.budget(ruleKey, rule.retries.budgetPercent), random: deps.random, retryLimiter: cluster.state.breaker.retries }));
      }
      return out;
    };
    const chains = destinations.map((d) => ({
      ...d,
      handler: d.cluster ? compose(layersFor(d.cluster), d.cluster.handler) : undefined,
      target: d.cluster ? (Object.freeze({ host: d.cluster.host.host, port: d.cluster.cluster.port, subset: d.subset, cluster: d.cluster.cluster.name }) as RouteTarget) : undefined,
    }));
    const weights = chains.map((c) => c.weight);

    const split: Handler = (req, ctx, signal) => {
      const pick = chains[chains.length > 1 ? pickWeighted(weights, deps.random()) : 0]!;
      if (!pick.cluster || !pick.handler) return Promise.reject(new NoRouteError(`route ${this.source} names a destination the snapshot has no cluster for`));
      ctx.target = pick.target;
      return pick.handler(req, ctx, signal);
    };

    const layers: Layer[] = [];
    if (rule.headers) layers.push(headerOpsLayer(rule.headers));
    if (rule.fault) layers.push(faultLayer(rule.fault, { random: deps.random }));
    if (rule.mirror) {
      const m = rule.mirror;
      const mc = deps.cluster(m.destination.host, m.destination.port, m.destination.subset, requestPort);
      if (mc) layers.push(mirrorLayer(m.percentage, (copy) => deps.mirror(mc, copy), { random: deps.random }));
    }
    const chain = compose(layers, split);
    // The rewrite needs the prefix that matched, so each alternative gets its own outermost layer.
    const withRewrite = (prefix: string | undefined) => (rule.rewrite ? rewriteLayer(rule.rewrite, prefix)(chain) : chain);
    this.handler = withRewrite(undefined);
    this.route = Object.freeze({ name: rule.name ?? "default", source });
    this.alternatives = rule.match?.length ? rule.match.map((m) => compileMatch(m, withRewrite, rule.name, source)) : null;
  }

  /** The matching alternative (null: the rule matches everything), or undefined when it does not match. */
  match(req: ProxyRequest): Alternative | null | undefined {
    if (!this.alternatives) return null;
    for (const a of this.alternatives) if (a.test(req)) return a;
    return undefined;
  }
}

function compileMatch(m: NonNullable<HttpRouteRule["match"]>[number], handlerFor: (prefix: string | undefined) => Handler, ruleName: string | undefined, source: string): Alternative {
  const compiled = compileHttpMatch(m);
  const route: MatchedRoute = Object.freeze({ name: ruleName ?? compiled.name ?? "default", source });
  return { name: compiled.name, prefix: compiled.prefix, route, handler: handlerFor(compiled.prefix), test: (req) => compiled.test(req) };
}
