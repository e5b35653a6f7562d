import assert from "node:assert/strict";
import { test } from "node:test";
import { fakeRequest } from "../filters/test-fakes";
import { ConsistentHashBalancer } from "./consistent-hash";
import { LeastRequestBalancer } from "./least-request";
import { createLoadBalancer, registerLoadBalancer } from "./load-balancer";
import type { LoadBalancerConfig } from "./load-balancer";
import { RandomBalancer } from "./random";
import { RoundRobinBalancer } from "./round-robin";
import { endpoints } from "./test-endpoints";

test("each built-in kind creates its balancer", () => {
  assert.ok(createLoadBalancer({ kind: "ROUND_ROBIN" }) instanceof RoundRobinBalancer);
  assert.ok(createLoadBalancer({ kind: "LEAST_REQUEST" }) instanceof LeastRequestBalancer);
  assert.ok(createLoadBalancer({ kind: "RANDOM" }) instanceof RandomBalancer);
  assert.ok(createLoadBalancer({ kind: "CONSISTENT_HASH", hashHeader: "x-user" }) instanceof ConsistentHashBalancer);
});

test("the injected random source reaches the balancer", () => {
  const eps = endpoints(4);
  assert.equal(createLoadBalancer({ kind: "RANDOM" }, { random: () => 0.99 }).pick(eps, fakeRequest()), eps[3]);
});

test("CONSISTENT_HASH without a header, or an unknown kind, is refused with a precise message", () => {
  assert.throws(() => createLoadBalancer({ kind: "CONSISTENT_HASH" }), /CONSISTENT_HASH needs hashHeader/);
  assert.throws(() => createLoadBalancer({ kind: "MAGLEV" } as unknown as LoadBalancerConfig), /unknown load balancer kind 'MAGLEV'; registered kinds are ROUND_ROBIN, LEAST_REQUEST, RANDOM, CONSISTENT_HASH/);
});

test("a registered kind plugs in without touching the callers", () => {
  registerLoadBalancer("FIRST", () => ({ pick: (eps) => eps[0] }));
  const eps = endpoints(3);
  assert.equal(createLoadBalancer({ kind: "FIRST" } as unknown as LoadBalancerConfig).pick(eps, fakeRequest()), eps[0]);
});
