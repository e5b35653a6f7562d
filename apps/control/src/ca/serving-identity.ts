import { CONTROL_PLANE_IDENTITY } from "@trellis/config";
import type { Logger } from "../log";
import type { CertificateAuthority } from "./certificate-authority";
import { MemoryCertificateProvider } from "@trellis/proto";
import { createCsr, newRsaKeyPair } from "./x509";

/** How often the trust bundle is re-read (a rotation made through another replica). */
const BUNDLE_REFRESH_MS = 30_000;

/**
 * The control plane's own workload identity on its TLS port:
 * spiffe://<trust domain>/ns/trellis-system/sa/trellis-control, from its own CA, with a key made
 * in this process and never stored. Renewed at half its lifetime; the trust bundle is re-read
 * every 30 s and at once after a rotation here. Both go to a certificate provider, so the gRPC
 * server's new handshakes use them while open streams go on.
 *
 * Safe use: `start()` once (awaits the first certificate), `stop()` on shutdown.
 */
export class ServingIdentity {
  readonly provider = new MemoryCertificateProvider();
  private renewTimer: NodeJS.Timeout | undefined;
  private bundleTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The current certificate's end, for status. */
  notAfter: Date | undefined;
  /** Called when the trust bundle read differs from the last one (a rotation here or on another replica). */
  onBundleChanged: (() => void) | undefined;
  private lastBundle = "";

  constructor(
    private readonly ca: CertificateAuthority,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.renew();
    this.bundleTimer = setInterval(() => void this.refreshBundle(), BUNDLE_REFRESH_MS);
    this.bundleTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearInterval(this.bundleTimer);
  }

  /**
   * The roots trusted now, as last read (empty before start()): what snapshots carry, so a
   * recompilation costs no database read; kept current by the 30 s refresh and after rotations.
   */
  get trustBundlePem(): string {
    return this.lastBundle;
  }

  /** Re-reads the trust bundle now (after a rotation). */
  async refreshBundle(): Promise<void> {
    try {
      this.useBundle(await this.ca.trustBundlePem());
    } catch (err) {
      this.log.warn("could not refresh the trust bundle of the TLS port", { cause: (err as Error).message });
    }
  }

  private async renew(): Promise<void> {
    const key = newRsaKeyPair();
    const issued = await this.ca.issue(createCsr(key.privateKeyPem, key.publicKeyPem, CONTROL_PLANE_IDENTITY.service), CONTROL_PLANE_IDENTITY);
    this.useBundle(issued.trustBundlePem);
    this.provider.setIdentity(issued.certChainPem, key.privateKeyPem);
    this.notAfter = issued.notAfter;
    this.log.info("control plane certificate issued", { spiffeId: issued.spiffeId, notAfter: issued.notAfter.toISOString() });
    this.schedule(Math.max(1000, (issued.notAfter.getTime() - Date.now()) / 2));
  }

  /** Takes a bundle read; a change after the first goes to onBundleChanged. */
  private useBundle(pem: string): void {
    if (pem === this.lastBundle) return;
    const first = this.lastBundle === "";
    this.lastBundle = pem;
    this.provider.setTrustBundle(pem);
    if (!first) this.onBundleChanged?.();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.renewTimer = setTimeout(() => {
      this.renew().catch((err: Error) => {
        this.log.error("renewing the control plane certificate failed; retrying in 10 s", { cause: err.message });
        this.schedule(10_000);
      });
    }, Math.min(ms, 2 ** 31 - 1));
    this.renewTimer.unref();
  }
}
