import type { ClusterEndpoint } from "@trellis/config";

/**
 * The live state of one cluster member: its identity and config from the snapshot plus what
 * the data plane learns while serving (in-flight requests, outlier history).
 *
 * Safe use: exactly one object per (cluster, `address:port`), kept by the caller across
 * snapshots (ClusterStates) and refreshed with `update`, never recreated, so that load
 * balancers (which may key state by object identity), outlier ejections and in-flight counts
 * survive config swaps. Whoever increments `active` decrements it once the response ended.
 */
export class EndpointState {
  /** `address:port`, the identity within a cluster and the upstream address in logs. */
  readonly key: string;
  /** Requests in flight to this endpoint (least-request balancing, admin). */
  active = 0;
  /** Attempts whose outcome was recorded (OutlierDetector.record), for the admin page. */
  requests = 0;
  /** Of those, the failures (5xx or no answer). */
  failures = 0;
  /** Consecutive failed requests (5xx or no answer); reset by any success. */
  consecutiveFailures = 0;
  /** Whether outlier detection has taken it out of rotation. */
  ejected = false;
  /** Clock time (ms) at which the current ejection ends; 0 when not ejected. */
  ejectedUntil = 0;
  /** How many times it was ejected, decayed while it stays healthy; multiplies the ejection time. */
  ejections = 0;
  /** Clock time (ms) of the last return from ejection (decay of `ejections`); 0: never. */
  returnedAt = 0;
  /** Its PeerAuthentication DISABLEs mTLS on this port: dial the sidecar without TLS (snapshot `plaintext`). */
  plaintext = false;

  constructor(
    readonly address: string,
    readonly port: number,
    /** Relative load-balancing weight (1–1000). */
    public weight: number,
    public labels: Readonly<Record<string, string>>,
    /** Whether a Trellis sidecar fronts it (mesh mTLS, peer metadata). */
    public sidecar: boolean,
  ) {
    this.key = endpointKey(address, port);
  }

  /** A state for a snapshot's endpoint. */
  static from(e: ClusterEndpoint): EndpointState {
    return new EndpointState(e.address, e.port, e.weight, e.labels, e.sidecar);
  }

  /** Takes a new snapshot's view of the same member. */
  update(weight: number, labels: Readonly<Record<string, string>>, sidecar: boolean): void {
    this.weight = weight;
    this.labels = labels;
    this.sidecar = sidecar;
  }
}

/** `address:port`, the key of an endpoint (as written, IPv6 addresses included). */
export function endpointKey(address: string, port: number): string {
  return `${address}:${port}`;
}
