import { H1Upstream } from "./h1-upstream";
import type { H1PoolOptions } from "./h1-upstream";
import { H2Upstream, plaintextConnector } from "./h2-upstream";
import type { H2Connector } from "./h2-upstream";
import { MeshTls } from "../identity/mesh-tls";

/**
 * Every upstream connection pool of the proxy, keyed by protocol and address. It lives for the
 * proxy's whole life, outside the routers that snapshots rebuild, so a config swap reuses
 * warm connections (hitless) and requests still running on the old router finish on them.
 * `retain` after each swap closes pools no longer referenced, once idle ones are unused.
 */
export class Upstreams {
  private readonly h1 = new Map<string, H1Upstream>();
  private readonly h2 = new Map<string, H2Upstream>();

  constructor(
    /** The workload identity peer sessions are dialled with (mTLS); without one, peers are dialled in plaintext. */
    readonly meshTls: MeshTls = new MeshTls(),
  ) {}

  /** HTTP/1.1 pool to an application or external host. Limits apply when the pool is created. */
  http1(address: string, port: number, opts?: H1PoolOptions): H1Upstream {
    const key = `${address}:${port}`;
    let u = this.h1.get(key);
    if (!u) {
      u = new H1Upstream(`http://${address.includes(":") ? `[${address}]` : address}:${port}`, opts);
      this.h1.set(key, u);
    }
    return u;
  }

  /**
   * Multiplexed HTTP/2 session to an h2c application or a peer proxy: over mTLS when
   * `peerIdentity` is given (the SPIFFE ID the peer must present), else plaintext. Sessions to
   * one address with different expected identities are separate.
   */
  http2(address: string, port: number, peer: boolean, peerIdentity?: string): H2Upstream {
    const key = `${peer ? "peer" : "h2c"}|${peerIdentity ?? ""}|${address}:${port}`;
    let u = this.h2.get(key);
    if (!u) {
      u = new H2Upstream(address, port, peer && peerIdentity ? mtlsConnector(this.meshTls, peerIdentity) : plaintextConnector);
      this.h2.set(key, u);
    }
    return u;
  }

  /** Closes pools whose `address:port` is not in `live` (endpoints gone from every cluster). */
  retain(live: ReadonlySet<string>): void {
    for (const [key, u] of this.h1) {
      if (!live.has(key)) {
        this.h1.delete(key);
        void u.close();
      }
    }
    for (const [key, u] of this.h2) {
      if (!live.has(key.slice(key.lastIndexOf("|") + 1))) {
        this.h2.delete(key);
        u.close();
      }
    }
  }

  async close(): Promise<void> {
    for (const u of this.h2.values()) u.close();
    await Promise.all([...this.h1.values()].map((u) => u.close()));
    this.h1.clear();
    this.h2.clear();
  }
}

/** Dials a peer sidecar over mTLS with the current workload identity (read per connect: renewals apply to new sessions). */
function mtlsConnector(meshTls: MeshTls, expected: string): H2Connector {
  return {
    url: (address, port) => `https://${address.includes(":") ? `[${address}]` : address}:${port}`,
    options: () => meshTls.clientOptions(expected),
    security: "mutual_tls",
  };
}
