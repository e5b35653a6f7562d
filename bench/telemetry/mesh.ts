/**
 * The benchmark's mesh and who calls whom: S services `svc-0 … svc-(S-1)` in `default`, and P
 * fake proxies, proxy j a workload of svc-(j % S) (replica ⌊j / S⌋, version v1 for even
 * replicas, v2 for odd). Everything is a pure function of (S, P) and a hash, so the load
 * worker processes and the orchestrator agree on it without talking.
 *
 * Service s calls 3–8 other services (a third of the picks go to the first S/50 services, the
 * shared dependencies every real mesh has), each edge with its own request rate, latency,
 * error rate and protocol; one service in ten also holds a TCP connection to a shared service.
 * A caller's proxy sticks to one replica of each service it calls, so the callee's inbound rows
 * mirror the caller's outbound rows.
 */
import type { ResourceInput } from "@trellis/config";

export const NAMESPACE = "default";
export const HTTP_PORT = { name: "http", port: 8080, protocol: "http" } as const;

export const serviceName = (s: number): string => `svc-${s}`;

/** 32-bit hash of a few integers (murmur3's finaliser over a running mix); uniform enough for traffic. */
export function hash(a: number, b = 0, c = 0, d = 0): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ d, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1) from the same inputs as hash(). */
export const unit = (a: number, b = 0, c = 0, d = 0): number => hash(a, b, c, d) / 4294967296;

/** What one service-to-service edge looks like, fixed for the run. */
export interface EdgeProfile {
  /** Mean requests per second from one caller proxy (log-uniform 0.5–50). */
  rps: number;
  /** Median latency, ms (log-uniform 2–80); samples are log-normal around it. */
  medianMs: number;
  /** Share of 5xx (most edges 0.1 %, some 2 %, a few 15 %) and of 4xx (1 %). */
  err5xx: number;
  err4xx: number;
  grpc: boolean;
  /** The caller's cluster has a circuit breaker (pool limit 100). */
  poolLimit: number;
}

export class Mesh {
  /** Services each service calls over HTTP/gRPC. */
  readonly targets: number[][];
  /** Services that call each service over HTTP/gRPC. */
  readonly callers: number[][];
  /** The one service a service holds TCP connections to, or -1. */
  readonly tcpTarget: number[];
  readonly tcpCallers: number[][];

  constructor(
    readonly services: number,
    readonly proxies: number,
  ) {
    const hubs = Math.max(1, Math.round(services / 50));
    this.targets = Array.from({ length: services }, (_, s) => {
      const want = Math.min(services - 1, 3 + (hash(s, 1) % 6));
      const out = new Set<number>();
      for (let k = 0; out.size < want; k++) {
        const t = unit(s, 2, k) < 1 / 3 ? hash(s, 3, k) % hubs : hash(s, 4, k) % services;
        if (t !== s) out.add(t);
      }
      return [...out].sort((a, b) => a - b);
    });
    this.callers = Array.from({ length: services }, () => []);
    this.targets.forEach((ts, s) => ts.forEach((t) => this.callers[t]!.push(s)));
    this.tcpTarget = Array.from({ length: services }, (_, s) => {
      if (services < 2 || s % 10 !== 3) return -1;
      const t = hash(s, 5) % hubs;
      return t === s ? (t + 1) % services : t;
    });
    this.tcpCallers = Array.from({ length: services }, () => []);
    this.tcpTarget.forEach((t, s) => t >= 0 && this.tcpCallers[t]!.push(s));
  }

  serviceOf(j: number): number {
    return j % this.services;
  }

  replicaOf(j: number): number {
    return Math.floor(j / this.services);
  }

  workloadOf(j: number): string {
    return `${serviceName(this.serviceOf(j))}-w${this.replicaOf(j)}`;
  }

  versionOf(j: number): string {
    return this.replicaOf(j) % 2 === 0 ? "v1" : "v2";
  }

  /** Proxies (replicas) of service t. */
  replicasOf(t: number): number {
    return t < this.proxies ? Math.floor((this.proxies - 1 - t) / this.services) + 1 : 0;
  }

  /** The proxy of service t that caller proxy c sends to, or -1 when t has no proxy (an unmeshed destination). */
  stickyReplica(c: number, t: number): number {
    const n = this.replicasOf(t);
    return n === 0 ? -1 : t + (c % n) * this.services;
  }

  /** Caller proxies whose requests to service(p) land on proxy p (HTTP/gRPC, or TCP). */
  inboundCallers(p: number, tcp = false): number[] {
    const t = this.serviceOf(p);
    const out: number[] = [];
    for (const s of tcp ? this.tcpCallers[t]! : this.callers[t]!) {
      for (let c = s; c < this.proxies; c += this.services) if (this.stickyReplica(c, t) === p) out.push(c);
    }
    return out;
  }

  edge(s: number, t: number): EdgeProfile {
    const e = unit(s, t, 13);
    return {
      rps: 0.5 * 100 ** unit(s, t, 10),
      medianMs: 2 * 40 ** unit(s, t, 11),
      err5xx: e < 0.9 ? 0.001 : e < 0.98 ? 0.02 : 0.15,
      err4xx: 0.01,
      grpc: unit(s, t, 12) < 0.2,
      poolLimit: unit(s, t, 14) < 0.1 ? 100 : 0,
    };
  }

  /** The hosts service s calls. */
  egressOf(s: number): string[] {
    return [...new Set([...this.targets[s]!, ...(this.tcpTarget[s]! >= 0 ? [this.tcpTarget[s]!] : [])].map(serviceName))];
  }

  /** Service s's Service resource: one http port, egress restricted to what it calls (so snapshots stay small). */
  serviceResource(s: number): ResourceInput {
    return { kind: "Service", metadata: { name: serviceName(s), namespace: NAMESPACE }, spec: { ports: [{ ...HTTP_PORT }], egress: this.egressOf(s) } };
  }

  /** Distinct service-to-service HTTP/gRPC edges (what the service graph should show). */
  get edgeCount(): number {
    let n = 0;
    for (let s = 0; s < Math.min(this.services, this.proxies); s++) n += this.targets[s]!.length;
    return n;
  }
}
