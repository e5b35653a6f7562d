import type { SecureClientSessionOptions } from "node:http2";
import type { PeerCertificate } from "node:tls";
import tls from "node:tls";
import { parseSpiffeId, spiffeId, spiffeIdsOfSan } from "@trellis/config";

/** The workload's TLS material: what WorkloadIdentity holds now. */
export interface MeshTlsMaterial {
  keyPem: string;
  certChainPem: string;
  bundlePem: string;
  spiffeId: string;
}

/** What an mTLS connection told the edge about its peer; set on the server-side TLS socket. */
export interface PeerTls {
  /** The SPIFFE ID in the peer certificate's SAN (the first, if it carries several). */
  principal: string | undefined;
}

/** The property a mesh listener sets on a TLS socket it authenticated (read through http2's socket proxy too). */
export const PEER_TLS: unique symbol = Symbol("trellis.peerTls");

export function peerTlsOf(socket: unknown): PeerTls | undefined {
  return (socket as { [PEER_TLS]?: PeerTls } | null | undefined)?.[PEER_TLS];
}

/** The SPIFFE ID a peer certificate carries, as a string. */
export function principalOf(cert: Pick<PeerCertificate, "subjectaltname"> | undefined): string | undefined {
  const id = spiffeIdsOfSan(cert?.subjectaltname)[0];
  return id ? spiffeId(id) : undefined;
}

export class PeerIdentityError extends Error {
  readonly code = "TRELLIS_PEER_IDENTITY";
}

/**
 * Mutual TLS between sidecars, from the workload identity: one secure context (key, chain and
 * the mesh's trust bundle) rebuilt on every renewal or bundle change. Listeners and the peer
 * connector read it per handshake, so a rotated certificate is used by the next connection and
 * connections already open go on with theirs (nothing is dropped).
 *
 * Until an identity is set (a proxy started without --ca-bundle) there is no context: peers
 * are dialled in plaintext and TLS handshakes towards this proxy are refused.
 */
export class MeshTls {
  private material: MeshTlsMaterial | undefined;
  private context: tls.SecureContext | undefined;
  private readonly listeners = new Set<(m: MeshTlsMaterial) => void>();

  update(m: MeshTlsMaterial): void {
    if (this.material && m.keyPem === this.material.keyPem && m.certChainPem === this.material.certChainPem && m.bundlePem === this.material.bundlePem) return;
    // Built before it is published: a bad PEM throws here and the previous context stays.
    const context = tls.createSecureContext({ key: m.keyPem, cert: m.certChainPem, ca: m.bundlePem });
    this.material = m;
    this.context = context;
    for (const l of this.listeners) l(m);
  }

  /** Whether this proxy can do mTLS (it has an identity). */
  get ready(): boolean {
    return this.context !== undefined;
  }

  get identity(): string | undefined {
    return this.material?.spiffeId;
  }

  get trustDomain(): string | undefined {
    return this.material ? parseSpiffeId(this.material.spiffeId)?.trustDomain : undefined;
  }

  /** The current material, for a TLS server's setSecureContext. */
  current(): MeshTlsMaterial | undefined {
    return this.material;
  }

  /** Calls `fn` on every change (not with the current value). */
  onChange(fn: (m: MeshTlsMaterial) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The SPIFFE ID of service `name` in `namespace` in this proxy's trust domain. */
  serviceIdentity(namespace: string, name: string): string | undefined {
    const trustDomain = this.trustDomain;
    return trustDomain ? spiffeId({ trustDomain, namespace, serviceAccount: name }) : undefined;
  }

  /**
   * Options for dialling a peer sidecar: this identity as client certificate, the trust bundle
   * as the only roots, ALPN h2, and the peer accepted only if its certificate names `expected`
   * (the destination service's SPIFFE ID; a host name check makes no sense for pod addresses).
   */
  clientOptions(expected: string): SecureClientSessionOptions {
    if (!this.context) throw new PeerIdentityError("no workload identity: mTLS is unavailable");
    return {
      secureContext: this.context,
      ALPNProtocols: ["h2"],
      rejectUnauthorized: true,
      checkServerIdentity: (_host, cert) => {
        const got = principalOf(cert);
        return got === expected ? undefined : new PeerIdentityError(`peer identity mismatch: expected ${expected}, the peer presented ${got ?? "no SPIFFE ID"}`);
      },
    };
  }
}
