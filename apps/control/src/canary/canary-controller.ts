import { randomBytes } from "node:crypto";
import type { DestinationPolicy, HttpRouteRule, Resource, Route } from "@trellis/config";
import type { Database } from "../db/open-database";
import type { Logger } from "../log";
import { ConflictError } from "../revisions/errors";
import type { ResourceStore } from "../revisions/store";
import type { RequestSignals } from "../telemetry/live/window-query";

/**
 * Canary automation (Flagger's idea, inside the control plane): a route rule's traffic moves
 * from a stable subset to a canary subset `stepPercent` at a time, every `intervalSec`, while
 * the canary's error rate and p99 over the interval stay within the gates relative to the
 * stable subset's; the first failing gate rolls it back to the stable subset at once. Every
 * weight change is a revision (author `canary/<id>`), so it shows in the history and can be
 * rolled back like any edit. Paused runs wait; aborted ones return all traffic to stable.
 *
 * Figures come from the live window, per version label (what telemetry carries), so both
 * subsets must select by `version`. Fewer canary requests than `minRequests` in an interval:
 * no verdict, the step waits.
 *
 * Replicas: any may tick. A step writes its revision based on the head it read the route at,
 * so two replicas deciding the same step conflict and one skips; the run's row is then
 * updated only if it did not change meanwhile (compare-and-set on updated_at), so a pause or
 * an abort is never overwritten by a step that raced with it.
 */

export type CanaryState = "running" | "paused" | "succeeded" | "rolled_back" | "aborted";

export interface CanaryGates {
  /** The canary's error rate may exceed the stable one's by at most this many percentage points. */
  maxErrorRateDelta: number;
  /** The canary's p99 may be at most this many times the stable one's. */
  maxP99Ratio: number;
  /** Fewer canary requests than this in an interval: no verdict yet. */
  minRequests: number;
}

export interface CanaryFigures {
  requests: number;
  /** Percent. */
  errorRate: number;
  p99: number | null;
}

export interface CanaryStep {
  at: string;
  decision: "start" | "advance" | "hold" | "rollback" | "succeed" | "pause" | "resume" | "abort";
  /** The canary's weight after the step. */
  weight: number;
  canary: CanaryFigures | null;
  stable: CanaryFigures | null;
  reason: string;
  /** The revision the step wrote, if it changed the weights. */
  revision: number | null;
}

export interface CanaryRun {
  id: string;
  namespace: string;
  route: string;
  ruleIndex: number;
  host: string;
  stableSubset: string;
  canarySubset: string;
  stepPercent: number;
  intervalSec: number;
  gates: CanaryGates;
  state: CanaryState;
  weight: number;
  reason: string;
  steps: CanaryStep[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  nextStepAt: Date;
}

export interface CanaryStartInput {
  namespace: string;
  route: string;
  /** The rule to shift; default: the first rule naming both subsets. */
  ruleIndex?: number | undefined;
  stableSubset: string;
  canarySubset: string;
  stepPercent: number;
  intervalSec: number;
  gates: CanaryGates;
  author: string;
}

export class CanaryError extends Error {}
/** The config changed between a step's decision and its write: decide again. */
class MovedOn extends Error {}

interface Row {
  id: string;
  namespace: string;
  route: string;
  rule_index: number;
  host: string;
  stable_subset: string;
  canary_subset: string;
  step_percent: number;
  interval_sec: number;
  max_error_rate_delta: number;
  max_p99_ratio: number;
  min_requests: number;
  state: CanaryState;
  weight: number;
  reason: string;
  steps: CanaryStep[] | string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  next_step_at: Date;
}

const fromRow = (r: Row): CanaryRun => ({
  id: r.id,
  namespace: r.namespace,
  route: r.route,
  ruleIndex: r.rule_index,
  host: r.host,
  stableSubset: r.stable_subset,
  canarySubset: r.canary_subset,
  stepPercent: r.step_percent,
  intervalSec: r.interval_sec,
  gates: { maxErrorRateDelta: r.max_error_rate_delta, maxP99Ratio: r.max_p99_ratio, minRequests: r.min_requests },
  state: r.state,
  weight: r.weight,
  reason: r.reason,
  steps: typeof r.steps === "string" ? (JSON.parse(r.steps) as CanaryStep[]) : r.steps,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  nextStepAt: r.next_step_at,
});

const figures = (s: RequestSignals | undefined): CanaryFigures | null => (s && s.requests > 0 ? { requests: s.requests, errorRate: Math.round((s.errorRate ?? 0) * 10_000) / 100, p99: s.p99 } : null);

export interface CanaryControllerDeps {
  db: Pick<Database, "sql">;
  store: ResourceStore;
  /** Inbound request signals per version label of a service over the last `seconds`. */
  signals(namespace: string, service: string, seconds: number): Map<string, RequestSignals>;
  log: Logger;
  /** How often due runs are checked, ms (default 1000). */
  tickMs?: number;
}

export class CanaryController {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(private readonly deps: CanaryControllerDeps) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = this.tick()
        .catch((err: Error) => this.deps.log.warn("canary check failed; retrying", { error: err.message }))
        .finally(() => (this.ticking = undefined));
    }, this.deps.tickMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
  }

  async list(): Promise<CanaryRun[]> {
    // The latest 50 steps of each (get has them all): the dashboard polls this every second.
    return (await this.deps.db.sql<Row>("SELECT * FROM canary_runs ORDER BY created_at DESC LIMIT 100")).map(fromRow).map((r) => ({ ...r, steps: r.steps.slice(-50) }));
  }

  async get(id: string): Promise<CanaryRun> {
    const [r] = await this.deps.db.sql<Row>("SELECT * FROM canary_runs WHERE id = $1", [id]);
    if (!r) throw new CanaryError(`no canary '${id}'`);
    return fromRow(r);
  }

  /** Validates the run against the route as it is, moves the first step's weight and starts the clock. */
  async begin(input: CanaryStartInput): Promise<CanaryRun> {
    if (input.stableSubset === input.canarySubset) throw new CanaryError("canarySubset must differ from stableSubset");
    const { revision, resources } = await this.deps.store.snapshot();
    const { route, ruleIndex, host } = this.locate(resources, input.namespace, input.route, input.stableSubset, input.canarySubset, input.ruleIndex);
    this.versionOf(resources, input.namespace, host, input.stableSubset);
    this.versionOf(resources, input.namespace, host, input.canarySubset);
    const active = await this.deps.db.sql<{ id: string }>("SELECT id FROM canary_runs WHERE namespace = $1 AND route = $2 AND state IN ('running', 'paused')", [input.namespace, input.route]);
    if (active.length) throw new CanaryError(`Route/${input.namespace}/${input.route} already has a canary in progress (${active[0]!.id}): pause, abort or wait for it`);
    const id = randomBytes(6).toString("hex");
    const weight = Math.min(100, input.stepPercent);
    const written = await this.writeWeights(route, ruleIndex, host, input.stableSubset, input.canarySubset, weight, revision, `canary/${id}`, `canary ${input.canarySubset} of ${host}: ${weight} % (started by ${input.author})`);
    const now = new Date();
    const step: CanaryStep = { at: now.toISOString(), decision: "start", weight, canary: null, stable: null, reason: `started by ${input.author}`, revision: written };
    const rows = await this.deps.db.sql<Row>(
      `INSERT INTO canary_runs (id, namespace, route, rule_index, host, stable_subset, canary_subset, step_percent, interval_sec, max_error_rate_delta, max_p99_ratio, min_requests, state, weight, reason, steps, created_by, created_at, updated_at, next_step_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'running', $13, '', $14, $15, $16, $16, $17) RETURNING *`,
      [id, input.namespace, input.route, ruleIndex, host, input.stableSubset, input.canarySubset, input.stepPercent, input.intervalSec, input.gates.maxErrorRateDelta, input.gates.maxP99Ratio, input.gates.minRequests, weight, JSON.stringify([step]), input.author, now, new Date(now.getTime() + input.intervalSec * 1000)],
    );
    this.deps.log.info("canary started", { id, route: `${input.namespace}/${input.route}`, canary: input.canarySubset, weight });
    return fromRow(rows[0]!);
  }

  async pause(id: string, author: string): Promise<CanaryRun> {
    return this.transition(id, ["running"], "paused", { decision: "pause", reason: `paused by ${author}` });
  }

  async resume(id: string, author: string): Promise<CanaryRun> {
    return this.transition(id, ["paused"], "running", { decision: "resume", reason: `resumed by ${author}` });
  }

  /** Returns every request to the stable subset and ends the run. */
  async abort(id: string, author: string): Promise<CanaryRun> {
    const run = await this.get(id);
    if (run.state !== "running" && run.state !== "paused") throw new CanaryError(`canary ${id} is ${run.state}: nothing to abort`);
    let revision: number | null = null;
    let note = "";
    try {
      revision = await this.setWeight(run, 0, `canary ${run.canarySubset} of ${run.host} aborted by ${author}: all to ${run.stableSubset}`);
    } catch (err) {
      if (!(err instanceof CanaryError)) throw err;
      note = ` (weights left as they are: ${err.message})`; // the route changed or is gone: nothing to move back
    }
    return this.transition(id, ["running", "paused"], "aborted", { decision: "abort", reason: `aborted by ${author}${note}`, weight: 0, revision });
  }

  /** One pass over the runs that are due. */
  async tick(now = new Date()): Promise<void> {
    const due = (await this.deps.db.sql<Row>("SELECT * FROM canary_runs WHERE state = 'running' AND next_step_at <= $1 ORDER BY next_step_at", [now])).map(fromRow);
    for (const run of due) await this.check(run, now);
  }

  private async check(run: CanaryRun, now: Date): Promise<void> {
    // The decision is made on this revision; the weights are written against it, so a change
    // since (an abort's weights, an operator's edit of the route) conflicts instead of being overwritten.
    const { revision: base, resources } = await this.deps.store.snapshot();
    let stableVersion: string;
    let canaryVersion: string;
    try {
      this.locate(resources, run.namespace, run.route, run.stableSubset, run.canarySubset, run.ruleIndex);
      stableVersion = this.versionOf(resources, run.namespace, run.host, run.stableSubset);
      canaryVersion = this.versionOf(resources, run.namespace, run.host, run.canarySubset);
    } catch (err) {
      await this.finish(run, "aborted", { at: now.toISOString(), decision: "abort", weight: run.weight, canary: null, stable: null, reason: `the route changed under the canary: ${(err as Error).message}`, revision: null });
      return;
    }
    const [hostService, hostNamespace] = run.host.split(".") as [string, string];
    const signals = this.deps.signals(hostNamespace, hostService, run.intervalSec);
    const canary = figures(signals.get(canaryVersion));
    const stable = figures(signals.get(stableVersion));
    const step = (decision: CanaryStep["decision"], weight: number, reason: string, revision: number | null = null): CanaryStep => ({ at: now.toISOString(), decision, weight, canary, stable, reason, revision });

    if (!canary || canary.requests < run.gates.minRequests) {
      await this.record(run, step("hold", run.weight, `${canary?.requests ?? 0} canary requests in ${run.intervalSec} s, fewer than ${run.gates.minRequests}: waiting for traffic`), "running", run.weight, now);
      return;
    }
    const failed = this.failedGate(run.gates, canary, stable);
    if (failed) {
      const revision = await this.setWeight(run, 0, `canary ${run.canarySubset} of ${run.host} rolled back: ${failed}`, base).catch((err) => this.skipOnConflict(err));
      if (revision === undefined) return;
      await this.finish(run, "rolled_back", step("rollback", 0, failed, revision));
      this.deps.log.warn("canary rolled back", { id: run.id, reason: failed });
      return;
    }
    const next = Math.min(100, run.weight + run.stepPercent);
    const revision = await this.setWeight(run, next, `canary ${run.canarySubset} of ${run.host}: ${next} % (gates held: errors ${canary.errorRate} % vs ${stable?.errorRate ?? 0} %, p99 ${canary.p99 ?? "–"} vs ${stable?.p99 ?? "–"} ms)`, base).catch((err) => this.skipOnConflict(err));
    if (revision === undefined) return;
    if (next >= 100) await this.finish(run, "succeeded", step("succeed", 100, `every request on ${run.canarySubset}`, revision));
    else await this.record(run, step("advance", next, "gates held", revision), "running", next, now);
  }

  /** The gate that failed, described, or undefined when all hold. */
  private failedGate(g: CanaryGates, canary: CanaryFigures, stable: CanaryFigures | null): string | undefined {
    const stableErr = stable?.errorRate ?? 0;
    if (canary.errorRate - stableErr > g.maxErrorRateDelta) return `error rate ${canary.errorRate} % on the canary against ${stableErr} % on stable: more than ${g.maxErrorRateDelta} points above`;
    if (stable?.p99 && canary.p99 !== null && canary.p99 > stable.p99 * g.maxP99Ratio) return `p99 ${canary.p99} ms on the canary against ${stable.p99} ms on stable: more than ${g.maxP99Ratio}×`;
    return undefined;
  }

  private skipOnConflict(err: unknown): undefined {
    if (err instanceof ConflictError || err instanceof MovedOn) return undefined; // another replica (or an operator) wrote first: decide again next tick
    throw err;
  }

  /** Writes the weights on the route as of `base` (default: the head now, for an operator's abort, which must win). */
  private async setWeight(run: CanaryRun, weight: number, message: string, base?: number): Promise<number | null> {
    const { revision, resources } = await this.deps.store.snapshot();
    // Something was written since the decision: decide again (simpler than telling whether it touched this route).
    if (base !== undefined && revision !== base) throw new MovedOn(`the config moved on from revision ${base} while canary ${run.id} decided`);
    const { route } = this.locate(resources, run.namespace, run.route, run.stableSubset, run.canarySubset, run.ruleIndex);
    return this.writeWeights(route, run.ruleIndex, run.host, run.stableSubset, run.canarySubset, weight, revision, `canary/${run.id}`, message);
  }

  private async writeWeights(route: Route, ruleIndex: number, host: string, stable: string, canary: string, weight: number, base: number, author: string, message: string): Promise<number | null> {
    const http = (route.spec.http ?? []).map((rule, i) => (i !== ruleIndex ? rule : { ...rule, route: rule.route.map((d) => ({ ...d, weight: hostIs(d.destination.host, host, route.metadata.namespace) && d.destination.subset === canary ? weight : hostIs(d.destination.host, host, route.metadata.namespace) && d.destination.subset === stable ? 100 - weight : 0 })) }));
    const r = await this.deps.store.apply({ upserts: [{ ...route, spec: { ...route.spec, http } }], baseRevision: base, author, message });
    return r.created ? r.revision : null;
  }

  /** The steps with `step` added; a hold after a hold replaces it, so a run waiting for traffic does not grow its log every interval. */
  private withStep(run: CanaryRun, step: CanaryStep): CanaryStep[] {
    const last = run.steps.at(-1);
    return step.decision === "hold" && last?.decision === "hold" ? [...run.steps.slice(0, -1), step] : [...run.steps, step];
  }

  /** Appends a step and moves the clock, unless the run changed meanwhile. */
  private async record(run: CanaryRun, step: CanaryStep, state: CanaryState, weight: number, now: Date): Promise<void> {
    const rows = await this.deps.db.sql("UPDATE canary_runs SET steps = $1, state = $2, weight = $3, reason = $4, updated_at = $5, next_step_at = $6 WHERE id = $7 AND updated_at = $8 RETURNING id", [
      JSON.stringify(this.withStep(run, step)),
      state,
      weight,
      step.decision === "hold" ? step.reason : "",
      now,
      new Date(now.getTime() + run.intervalSec * 1000),
      run.id,
      run.updatedAt,
    ]);
    if (rows.length === 0) await this.reconcile(run.id, step);
  }

  private async finish(run: CanaryRun, state: CanaryState, step: CanaryStep): Promise<void> {
    const rows = await this.deps.db.sql("UPDATE canary_runs SET steps = $1, state = $2, weight = $3, reason = $4, updated_at = $5 WHERE id = $6 AND updated_at = $7 RETURNING id", [JSON.stringify(this.withStep(run, step)), state, step.weight, step.reason, new Date(), run.id, run.updatedAt]);
    if (rows.length === 0) await this.reconcile(run.id, step);
  }

  /**
   * The run changed (paused by an operator) between this step's decision and its record, but
   * the step's weights were written: the row keeps its new state and takes the step and the
   * weight the route now has, so the two never disagree.
   */
  private async reconcile(id: string, step: CanaryStep): Promise<void> {
    if (step.revision === null) return; // nothing was written: the newer row is right as it is
    await this.deps.db.sql("UPDATE canary_runs SET steps = steps || $1::jsonb, weight = $2, updated_at = $3 WHERE id = $4", [JSON.stringify([step]), step.weight, new Date(), id]);
    this.deps.log.warn("a canary step landed while the run changed; recorded it on the changed run", { id, decision: step.decision, weight: step.weight });
  }

  private async transition(id: string, from: CanaryState[], to: CanaryState, s: { decision: CanaryStep["decision"]; reason: string; weight?: number; revision?: number | null }): Promise<CanaryRun> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const run = await this.get(id);
      if (!from.includes(run.state)) throw new CanaryError(`canary ${id} is ${run.state}, not ${from.join(" or ")}`);
      const now = new Date();
      const step: CanaryStep = { at: now.toISOString(), decision: s.decision, weight: s.weight ?? run.weight, canary: null, stable: null, reason: s.reason, revision: s.revision ?? null };
      const rows = await this.deps.db.sql<Row>("UPDATE canary_runs SET steps = $1, state = $2, weight = $3, reason = $4, updated_at = $5, next_step_at = $6 WHERE id = $7 AND updated_at = $8 RETURNING *", [
        JSON.stringify([...run.steps, step]),
        to,
        step.weight,
        s.reason,
        now,
        new Date(now.getTime() + run.intervalSec * 1000),
        id,
        run.updatedAt,
      ]);
      if (rows[0]) return fromRow(rows[0]);
    }
    throw new CanaryError(`canary ${id} kept changing; try again`);
  }

  /** The route, the rule index and the canonical host the two subsets are destinations of. */
  private locate(resources: readonly Resource[], namespace: string, name: string, stable: string, canary: string, ruleIndex: number | undefined): { route: Route; ruleIndex: number; host: string } {
    const route = resources.find((r): r is Route => r.kind === "Route" && r.metadata.namespace === namespace && r.metadata.name === name);
    if (!route) throw new CanaryError(`Route/${namespace}/${name} does not exist`);
    const names = (rule: HttpRouteRule) => new Set(rule.route.map((d) => d.destination.subset));
    const index = ruleIndex ?? (route.spec.http ?? []).findIndex((rule) => names(rule).has(stable) && names(rule).has(canary));
    const rule = route.spec.http?.[index];
    if (!rule) throw new CanaryError(ruleIndex === undefined ? `no rule of Route/${namespace}/${name} has both subsets '${stable}' and '${canary}' as destinations: add them (weight 0 for the canary) first` : `Route/${namespace}/${name} has no rule ${ruleIndex}`);
    const dest = (s: string) => rule.route.find((d) => d.destination.subset === s);
    const a = dest(stable);
    const b = dest(canary);
    if (!a || !b) throw new CanaryError(`rule ${index} of Route/${namespace}/${name} must have both subsets '${stable}' and '${canary}' as destinations`);
    const host = canonical(a.destination.host, namespace);
    if (canonical(b.destination.host, namespace) !== host) throw new CanaryError(`the stable and canary destinations must be subsets of one host, not ${a.destination.host} and ${b.destination.host}`);
    return { route, ruleIndex: index, host };
  }

  /** The version label value a subset selects; telemetry only knows versions. */
  private versionOf(resources: readonly Resource[], namespace: string, host: string, subset: string): string {
    const policy = resources.find((r): r is DestinationPolicy => r.kind === "DestinationPolicy" && canonical(r.spec.host, r.metadata.namespace) === host);
    const s = policy?.spec.subsets?.find((x) => x.name === subset);
    if (!s) throw new CanaryError(`subset '${subset}' of ${host} is not defined by a DestinationPolicy`);
    const v = s.labels.version;
    if (!v) throw new CanaryError(`subset '${subset}' must select by the 'version' label: telemetry compares versions`);
    void namespace;
    return v;
  }
}

/** `reviews` in namespace `bookinfo` → `reviews.bookinfo`; already qualified names keep their first two labels. */
function canonical(host: string, namespace: string): string {
  const parts = host.split(".");
  return parts.length === 1 ? `${host}.${namespace}` : `${parts[0]}.${parts[1]}`;
}

function hostIs(host: string, canonicalHost: string, namespace: string): boolean {
  return canonical(host, namespace) === canonicalHost;
}
