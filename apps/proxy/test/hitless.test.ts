import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { HttpRouteRule, Snapshot } from "@trellis/config";
import { echo, startHttpApp } from "./helpers/apps";
import { HttpClient, servedBy, sleep } from "./helpers/client";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";
import type { TestEndpoint } from "./helpers/snapshot";

/** Snapshots applied, one every APPLY_EVERY_MS (about 3 s in all). */
const STEPS = 28;
const APPLY_EVERY_MS = 100;
const IN_FLIGHT = 20;

interface Sample {
  status: number;
  app: string | undefined;
  /** The snapshot step whose rule routed the request (-1: failed). */
  step: number;
  detail: string;
}

describe("config changes under steady load are hitless", () => {
  const t = new Teardown();
  /** Each app's endpoint through its own server sidecar, and straight to the app (HTTP/1.1 pools). */
  const eps = { sidecar: new Map<string, TestEndpoint>(), direct: new Map<string, TestEndpoint>() };
  let client: TestProxy;
  let http: HttpClient;

  before(async () => {
    for (const [name, version] of [["v1a", "v1"], ["v1b", "v1"], ["v1c", "v1"], ["v2a", "v2"]] as const) {
      // A few ms of work each, so requests overlap every swap.
      const app = t.track(await startHttpApp(name, (req, res, body) => setTimeout(() => echo(name, req, res, body), 1 + Math.random() * 8)));
      const sidecar = t.track(await startSidecar("reviews", app.port, { version, workload: `reviews-${name}` }));
      eps.sidecar.set(name, { port: sidecar.inboundPort, sidecar: true, labels: { version } });
      eps.direct.set(name, { port: app.port, labels: { version } });
    }
    client = t.track(await startProxy({ app: "productpage" }, build(0, "sidecar")));
    http = t.track(new HttpClient(client.dp.ports.outbound, { maxSockets: IN_FLIGHT }));
  });
  after(() => t.stop());

  /** Members over time: v1c joins at step 5, v1a leaves at step 12, v1b is replaced by v1c alone between steps 20 and 24. */
  const members = (step: number): string[] => {
    const out = ["v2a"];
    if (step < 12) out.push("v1a");
    if (step < 20 || step >= 24) out.push("v1b");
    if (step >= 5) out.push("v1c");
    return out;
  };

  /** Snapshot number `step`: the weights flip from 90/10 to 10/90 halfway, and the rules, header ops, retries and pool limits change on every step. */
  function build(step: number, via: keyof typeof eps): Snapshot {
    const v2 = step < 15 ? 10 : 90;
    const odd = step % 2 === 1;
    const rules: HttpRouteRule[] = [];
    if (step % 3 === 0) rules.push({ name: "pinned", match: [{ headers: { "x-pin": { exact: "v2" } } }], route: [{ destination: { host: "reviews.default", subset: "v2" } }] });
    rules.push({
      name: `split-${step}`,
      route: [
        { destination: { host: "reviews.default", subset: "v1" }, weight: 100 - v2 },
        { destination: { host: "reviews.default", subset: "v2" }, weight: v2 },
      ],
      ...(odd ? { timeout: "5s", retries: { attempts: 1, retryOn: ["connect-failure" as const], budgetPercent: 20 } } : {}),
      headers: { request: { set: { "x-step": String(step) } }, ...(odd ? { response: { set: { "x-odd": "1" } } } : {}) },
    });
    return snapshot({
      service: "productpage",
      revision: step + 1,
      hosts: [
        host({
          name: "reviews",
          ports: [{ port: 9080, protocol: "http" }],
          endpoints: members(step).map((n) => eps[via].get(n)!),
          policy: {
            host: "reviews.default",
            subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }],
            loadBalancer: { kind: odd ? "LEAST_REQUEST" : "ROUND_ROBIN" },
            connectionPool: { tcp: { maxConnections: odd ? 100 : 200 }, http: { maxRequests: odd ? 1000 : 2000, maxPendingRequests: 100 } },
          },
          routes: [{ source: "Route/default/reviews", http: rules }],
        }),
      ],
    });
  }

  for (const via of ["sidecar", "direct"] as const) {
    it(`weights, routes and endpoints change every 100 ms while 20 requests are in flight: no request fails (${via} endpoints)`, async () => {
      client.dp.apply(build(0, via));
      const samples: Sample[] = [];
      let stop = false;
      let inFlightAtRemoval = 0;
      const activeOn = (name: string) => {
        const v1 = [...client.dp.states.all()].find((c) => c.name === "outbound|9080|v1|reviews.default");
        return v1?.endpoints.get(`127.0.0.1:${eps[via].get(name)!.port}`)?.active ?? 0;
      };

      const worker = async () => {
        while (!stop) {
          try {
            const r = await http.request("reviews:9080", "/steady");
            const step = r.status === 200 ? Number((JSON.parse(r.body) as { headers: Record<string, string> }).headers["x-step"]) : -1;
            samples.push({ status: r.status, app: servedBy(r), step, detail: r.status === 200 ? "" : `${r.headers["x-trellis-response-flags"] ?? "-"} ${r.body.slice(0, 120)}` });
          } catch (err) {
            samples.push({ status: 0, app: undefined, step: -1, detail: String(err) });
          }
        }
      };
      const swapper = async () => {
        for (let step = 1; step <= STEPS; step++) {
          await sleep(APPLY_EVERY_MS);
          if (step === 12 || step === 20) {
            // Remove the endpoint while it is busy, so the graceful removal is really exercised
            // (on a loaded CI machine a single instant can catch it idle).
            const leaving = step === 12 ? "v1a" : "v1b";
            for (let i = 0; i < 200 && activeOn(leaving) === 0; i++) await sleep(2);
            inFlightAtRemoval += activeOn(leaving);
          }
          client.dp.apply(build(step, via));
        }
        stop = true;
      };
      await Promise.all([swapper(), ...Array.from({ length: IN_FLIGHT }, worker)]);

      const failures = samples.filter((s) => s.status !== 200);
      assert.equal(failures.length, 0, `${failures.length} of ${samples.length} failed: ${JSON.stringify(failures.slice(0, 5))}`);
      assert.ok(samples.length > 500, `only ${samples.length} requests`);
      assert.ok(inFlightAtRemoval > 0, "the removed endpoints had requests in flight when they left (a graceful removal was exercised)");

      // Each answer names the snapshot whose rule routed it (the x-step header that rule set),
      // so what a snapshot said can be checked exactly against the requests it routed.
      const routedBy = (from: number, to = Infinity) => samples.filter((s) => s.step >= from && s.step < to);
      const share = (list: Sample[]) => list.filter((s) => s.app === "v2a").length / list.length;
      const beforeFlip = routedBy(0, 15);
      const afterFlip = routedBy(15);
      assert.ok(share(beforeFlip) < 0.2, `v2 share at weight 10: ${share(beforeFlip).toFixed(3)}`);
      assert.ok(share(afterFlip) > 0.8, `v2 share at weight 90: ${share(afterFlip).toFixed(3)}`);

      // Endpoint changes took effect: v1c joined, v1a left for good, v1b left and came back.
      assert.equal(routedBy(0, 5).filter((s) => s.app === "v1c").length, 0, "v1c not used before it joined");
      assert.ok(routedBy(5).some((s) => s.app === "v1c"), "v1c served after joining");
      assert.equal(routedBy(12).filter((s) => s.app === "v1a").length, 0, "nothing went to v1a after it left");
      assert.equal(routedBy(20, 24).filter((s) => s.app === "v1b").length, 0, "v1b was out between steps 20 and 24");
      assert.ok(routedBy(24).some((s) => s.app === "v1b"), "v1b served again once back");

      // Route edits took effect as they came: most snapshots routed some requests.
      const steps = new Set(samples.map((s) => s.step));
      assert.ok(steps.size > 20, `requests saw ${steps.size} different rule versions`);
      if (process.env.TRELLIS_TEST_VERBOSE) console.log(via, { requests: samples.length, v2Before: share(beforeFlip), v2After: share(afterFlip), inFlightAtRemoval });
    });
  }
});
