import type { ClusterEndpoint, DestinationPolicySpec } from "@trellis/config";
import { EndpointState } from "../balancer/endpoint-state";
import { CircuitBreaker } from "../cluster/circuit-breaker";
import { OutlierDetector } from "../cluster/outlier-detector";

/** The state of one cluster that outlives config swaps. */
export interface ClusterState {
  readonly name: string;
  breaker: CircuitBreaker;
  /** Requests refused by connection-pool limits (maxRequests, maxPendingRequests) since the cluster appeared, across breaker replacements. */
  overflows(): number;
  outlier: OutlierDetector;
  /** The state object for a member, the same one across snapshots while the member stays. */
  endpoint(e: ClusterEndpoint): EndpointState;
  /** Every member state, for /clusters. */
  readonly endpoints: ReadonlyMap<string, EndpointState>;
}

const NO_OUTLIER_DETECTION = { consecutive5xxErrors: Number.MAX_SAFE_INTEGER, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 0 };

/**
 * Per-cluster state shared by every router built from successive snapshots: in-flight counts
 * and outlier history per endpoint, circuit-breaker counters. Routers are rebuilt and swapped
 * on each snapshot; this is the one place that keeps what a swap must not reset. `retain`
 * after a swap drops clusters and endpoints no snapshot mentions any more.
 *
 * Safe use: one instance per proxy; call `retain()` right after swapping a new router in.
 */
export class ClusterStates {
  private readonly clusters = new Map<string, ClusterState & { members: Map<string, EndpointState>; policyKey: string; overflowsBefore: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  cluster(name: string, policy: DestinationPolicySpec | undefined): ClusterState {
    const policyKey = JSON.stringify([policy?.connectionPool ?? null, policy?.outlierDetection ?? null]);
    let c = this.clusters.get(name);
    if (!c) {
      const members = new Map<string, EndpointState>();
      c = {
        name,
        members,
        endpoints: members,
        policyKey,
        overflowsBefore: 0,
        overflows() {
          const o = this.breaker.stats().overflows;
          return this.overflowsBefore + o.requests + o.pending;
        },
        breaker: new CircuitBreaker(policy?.connectionPool ?? {}),
        outlier: new OutlierDetector(policy?.outlierDetection ?? NO_OUTLIER_DETECTION, this.now),
        endpoint: (e) => {
          const key = `${e.address}:${e.port}`;
          let s = members.get(key);
          if (!s) {
            s = new EndpointState(e.address, e.port, e.weight, e.labels, e.sidecar);
            members.set(key, s);
          } else s.update(e.weight, e.labels, e.sidecar);
          s.plaintext = e.plaintext === true;
          return s;
        },
      };
      this.clusters.set(name, c);
    } else if (c.policyKey !== policyKey) {
      // New limits take effect for new requests; in-flight ones release on the old breaker.
      c.overflowsBefore = c.overflows();
      c.breaker = new CircuitBreaker(policy?.connectionPool ?? {});
      c.outlier = new OutlierDetector(policy?.outlierDetection ?? NO_OUTLIER_DETECTION, this.now);
      c.policyKey = policyKey;
    }
    return c;
  }

  /** Every cluster state (admin /clusters, metrics). */
  all(): IterableIterator<ClusterState> {
    return this.clusters.values();
  }

  /** After a swap: forget clusters the new snapshot lacks (cluster name → live `address:port` keys). */
  retain(live: ReadonlyMap<string, ReadonlySet<string>>): void {
    for (const [name, c] of this.clusters) {
      const keys = live.get(name);
      if (!keys) {
        this.clusters.delete(name);
        continue;
      }
      for (const key of c.members.keys()) if (!keys.has(key)) c.members.delete(key);
    }
  }
}
