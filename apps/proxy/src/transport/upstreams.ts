import { H1Upstream } from "./h1-upstream";
import type { H1PoolOptions } from "./h1-upstream";
import { H2Upstream, plaintextConnector } from "./h2-upstream";
import type { H2Connector } from "./h2-upstream";

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
    /** How proxy-to-proxy sessions are dialled (plaintext until mTLS arrives). */
    readonly peerConnector: H2Connector = plaintextConnector,
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

  /** Multiplexed HTTP/2 session to a peer proxy (mesh connector) or an h2c application (plaintext). */
  http2(address: string, port: number, peer: boolean): H2Upstream {
    const key = `${peer ? "peer" : "h2c"}|${address}:${port}`;
    let u = this.h2.get(key);
    if (!u) {
      u = new H2Upstream(address, port, peer ? this.peerConnector : plaintextConnector);
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
      if (!live.has(key.slice(key.indexOf("|") + 1))) {
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
