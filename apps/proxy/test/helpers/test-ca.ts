import { createCsr, newRsaKeyPair } from "@trellis/config/csr";
import { spiffeId } from "@trellis/config";
import { createRoot, signWorkloadCert } from "../../../control/src/ca/x509";
import type { MeshTlsMaterial } from "../../src/identity/mesh-tls";

/**
 * A mesh CA for data-plane tests, signing with the control plane's own x509 code: the
 * certificates are the ones the real CA issues (SPIFFE URI SAN, client+server auth), without
 * a database. End-to-end tests get theirs through the real join flow instead.
 */
export class TestCa {
  readonly root: { certPem: string; privateKeyPem: string };

  constructor(readonly trustDomain = "cluster.local") {
    this.root = createRoot(trustDomain, 30);
  }

  /**
   * TLS material for `serviceAccount` in `namespace`. `ttlMs` and `now` shape its validity
   * (a `now` in the past with a short ttl gives an expired certificate); `bundle` is the trust
   * bundle it is handed (default: this CA's root).
   */
  issue(namespace: string, serviceAccount: string, opts: { ttlMs?: number; now?: Date; bundle?: string } = {}): MeshTlsMaterial {
    const key = newRsaKeyPair();
    const id = spiffeId({ trustDomain: this.trustDomain, namespace, serviceAccount });
    const cert = signWorkloadCert({ csrPem: createCsr(key.privateKeyPem, key.publicKeyPem), spiffeId: id, ttlMs: opts.ttlMs ?? 3_600_000, issuerCertPem: this.root.certPem, issuerKeyPem: this.root.privateKeyPem, ...(opts.now ? { now: opts.now } : {}) });
    return { keyPem: key.privateKeyPem, certChainPem: cert.certPem, bundlePem: opts.bundle ?? this.root.certPem, spiffeId: id };
  }
}
