import type { LoadBalancerSchema } from "@trellis/config";
import type { z } from "zod";
import type { ProxyRequest } from "../core/types";
import { ConsistentHashBalancer } from "./consistent-hash";
import type { EndpointState } from "./endpoint-state";
import { LeastRequestBalancer } from "./least-request";
import { RandomBalancer } from "./random";
import { RoundRobinBalancer } from "./round-robin";

/** A DestinationPolicy's (or subset's) `loadBalancer` (@trellis/config exports the schema only). */
export type LoadBalancerConfig = z.infer<typeof LoadBalancerSchema>;

/**
 * Picks the endpoint for one attempt. Callers pass only endpoints in rotation (not ejected by
 * outlier detection); undefined means there is none to pick (the caller answers 503 UH).
 * One instance per cluster: implementations may keep state between picks.
 */
export interface LoadBalancer {
  pick(endpoints: readonly EndpointState[], req: ProxyRequest): EndpointState | undefined;
}

/** Options every factory receives. */
export interface LoadBalancerOptions {
  /** Uniform draws in [0, 1) (tests inject a seeded one). */
  random?: () => number;
}

export type LoadBalancerFactory = (config: LoadBalancerConfig, opts: LoadBalancerOptions) => LoadBalancer;

const registry = new Map<string, LoadBalancerFactory>([
  ["ROUND_ROBIN", () => new RoundRobinBalancer()],
  ["LEAST_REQUEST", (_c, o) => new LeastRequestBalancer(o.random)],
  ["RANDOM", (_c, o) => new RandomBalancer(o.random)],
  ["CONSISTENT_HASH", (c, o) => new ConsistentHashBalancer(requireHashHeader(c), o.random)],
]);

/** Adds (or replaces) the algorithm behind a `kind`, as grpc-js's registerLoadBalancerType does. */
export function registerLoadBalancer(kind: string, factory: LoadBalancerFactory): void {
  registry.set(kind, factory);
}

/** A new balancer for a cluster. Throws, naming the registered kinds, for an unknown `kind`. */
export function createLoadBalancer(config: LoadBalancerConfig, opts: LoadBalancerOptions = {}): LoadBalancer {
  const factory = registry.get(config.kind);
  if (!factory) throw new Error(`unknown load balancer kind '${config.kind}'; registered kinds are ${[...registry.keys()].join(", ")}`);
  return factory(config, opts);
}

function requireHashHeader(c: LoadBalancerConfig): string {
  if (!c.hashHeader) throw new Error("loadBalancer CONSISTENT_HASH needs hashHeader (the request header to hash)");
  return c.hashHeader;
}
