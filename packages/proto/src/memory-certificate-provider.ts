import type { experimental } from "@grpc/grpc-js";

type Provider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/**
 * A grpc-js certificate provider fed from memory: the CA sets the trust bundle and the
 * serving identity, and every later TLS handshake on the server (or channel) using it gets the
 * new ones; connections already open keep theirs. This is how the control plane rotates its
 * own certificate and follows root rotations without restarting its gRPC server.
 *
 * A listener added gets the current value on the next microtask, not during the add: grpc-js
 * adds its listeners before the watcher that applies them, and an update delivered inside the
 * add would be lost (the server would then refuse every connection).
 */
export class MemoryCertificateProvider implements Provider {
  private ca: { caCertificate: Buffer } | null = null;
  private identity: { certificate: Buffer; privateKey: Buffer } | null = null;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();

  setTrustBundle(pem: string): void {
    this.ca = { caCertificate: Buffer.from(pem) };
    for (const l of this.caListeners) l(this.ca);
  }

  setIdentity(certChainPem: string, privateKeyPem: string): void {
    this.identity = { certificate: Buffer.from(certChainPem), privateKey: Buffer.from(privateKeyPem) };
    for (const l of this.identityListeners) l(this.identity);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => this.ca && this.caListeners.has(listener) && listener(this.ca));
  }
  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }
  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => this.identity && this.identityListeners.has(listener) && listener(this.identity));
  }
  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}
