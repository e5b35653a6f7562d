import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { isControlPlaneIdentity, parseSpiffeId, spiffeId, spiffeIdsOfSan } from "@trellis/config";
import { createCsr, newRsaKeyPair } from "@trellis/config/csr";
import { IdentityClient, MemoryCertificateProvider } from "@trellis/proto";
import type { CertifyResponse } from "@trellis/proto";
import type { Logger } from "../core/log";
import type { MeshTlsMaterial } from "./mesh-tls";


export class IdentityError extends Error {
  readonly code = "TRELLIS_IDENTITY";
}

export interface WorkloadIdentityOptions {
  /** The control plane's TLS gRPC address, `host:port`. */
  target: string;
  /** The mesh's trust anchors (PEM), from --ca-bundle: how the proxy knows it reached the real control plane the first time. */
  trustAnchorsPem: string;
  namespace: string;
  service: string;
  /** The workload name, put in the CSR's common name so the CA can show this proxy's expiry (a label, not the identity). */
  workload?: string | undefined;
  /** For the first certificate; unused once the data directory holds a valid one. */
  joinToken?: string | undefined;
  dataDir: string;
  log: Logger;
  /** Longest wait for one Certify call, ms (default 15000). */
  timeoutMs?: number;
}

interface Held {
  keyPem: string;
  certChainPem: string;
  bundlePem: string;
  notBefore: number;
  notAfter: number;
  spiffeId: string;
}

/**
 * The proxy's workload identity: its private key (made here, written 0600 to the data
 * directory, never sent anywhere), its certificate from the mesh CA and the trust bundle.
 * The first certificate comes with a join token; afterwards the proxy renews at half-life,
 * authenticated by the certificate it holds. A restart reuses the stored certificate while it
 * is valid, so a token is needed once. Every update goes to `provider`, whose users (the
 * config stream, the mesh listeners) use it for new handshakes; open connections go on.
 *
 * Safe use: `await WorkloadIdentity.start(opts)`, `stop()` on shutdown.
 */
export class WorkloadIdentity {
  readonly provider = new MemoryCertificateProvider();
  private held!: Held;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Renewals done, and failed attempts since the last success (status). */
  readonly counters = { renewals: 0, failures: 0 };
  private readonly changeListeners = new Set<(m: MeshTlsMaterial) => void>();

  private constructor(private readonly opts: WorkloadIdentityOptions) {}

  static async start(opts: WorkloadIdentityOptions): Promise<WorkloadIdentity> {
    const id = new WorkloadIdentity(opts);
    const stored = id.load();
    const now = Date.now();
    if (stored && stored.notAfter > now + 60_000) {
      id.use(stored, "stored");
      // Past half-life: renew now, but a control plane that is down must not keep a proxy with a valid certificate from starting.
      if (now >= halfLife(stored)) await id.renew().catch((err: Error) => (opts.log.warn("renewing the stored certificate failed; serving with it and retrying", { cause: err.message }), id.schedule(5000)));
      else id.schedule(halfLife(stored) - now);
    } else {
      if (!opts.joinToken) throw new IdentityError(`no valid certificate in ${id.dir} and no join token: pass --join-token (create one with ca.joinTokens.create)`);
      await id.renew(opts.joinToken);
    }
    return id;
  }

  get spiffeId(): string {
    return this.held.spiffeId;
  }

  get notAfter(): Date {
    return new Date(this.held.notAfter);
  }

  /** The key, chain and trust bundle now, for mesh mTLS between sidecars. */
  material(): MeshTlsMaterial {
    const h = this.held;
    return { keyPem: h.keyPem, certChainPem: h.certChainPem, bundlePem: h.bundlePem, spiffeId: h.spiffeId };
  }

  /** Calls `fn` with the new material after every renewal and trust-bundle change. */
  onChange(fn: (m: MeshTlsMaterial) => void): void {
    this.changeListeners.add(fn);
  }

  private changed(): void {
    const m = this.material();
    for (const fn of this.changeListeners) {
      try {
        fn(m);
      } catch (err) {
        this.opts.log.error("applying the new workload certificate failed; the previous one stays in use", { cause: (err as Error).message });
      }
    }
  }

  /** gRPC credentials for the control plane: this identity as client certificate, the control plane checked by its SPIFFE ID. */
  channelCredentials(): grpc.ChannelCredentials {
    return grpc.experimental.createCertificateProviderChannelCredentials(this.provider, this.provider, { checkServerIdentity: checkControlPlane(this.trustDomain) });
  }

  /**
   * The trust bundle of the latest snapshot: after a root rotation the new root arrives here
   * long before the next renewal, so peers with certificates from it are trusted at once.
   */
  setTrustBundle(pem: string): void {
    if (pem === this.held.bundlePem) return;
    this.held = { ...this.held, bundlePem: pem };
    this.provider.setTrustBundle(pem);
    this.save(this.held);
    this.changed();
    this.opts.log.info("trust bundle updated from the control plane", { roots: pem.split("BEGIN CERTIFICATE").length - 1 });
  }

  /** What /config_dump shows: the identity, never the key. */
  status(): { spiffeId: string; notBefore: string; notAfter: string; trustedRoots: number; renewals: number; failures: number } {
    return { spiffeId: this.held.spiffeId, notBefore: new Date(this.held.notBefore).toISOString(), notAfter: new Date(this.held.notAfter).toISOString(), trustedRoots: this.held.bundlePem.split("BEGIN CERTIFICATE").length - 1, ...this.counters };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private get dir(): string {
    return path.join(this.opts.dataDir, "identity");
  }

  private get trustDomain(): string {
    return parseSpiffeId(this.held?.spiffeId ?? "")?.trustDomain ?? "";
  }

  /** A new key and certificate: with the join token (first time), else authenticated by the current certificate. */
  private async renew(joinToken?: string): Promise<void> {
    const key = newRsaKeyPair();
    const creds = joinToken
      ? grpc.credentials.createSsl(Buffer.from(this.opts.trustAnchorsPem), null, null, { checkServerIdentity: checkControlPlane() })
      : this.channelCredentials();
    const client = new IdentityClient(this.opts.target, creds, { "grpc.use_local_subchannel_pool": 1 });
    try {
      const res = await new Promise<CertifyResponse>((resolve, reject) =>
        client.certify(
          { namespace: this.opts.namespace, service: this.opts.service, csrPem: createCsr(key.privateKeyPem, key.publicKeyPem, this.opts.workload ?? "trellis-proxy"), joinToken: joinToken ?? "" },
          new grpc.Metadata(),
          { deadline: Date.now() + (this.opts.timeoutMs ?? 15_000) },
          (err, r) => (err ? reject(err) : resolve(r!)),
        ),
      );
      const want = spiffeId({ trustDomain: parseSpiffeId(res.spiffeId)?.trustDomain ?? "?", namespace: this.opts.namespace, serviceAccount: this.opts.service });
      if (res.spiffeId !== want) throw new IdentityError(`the control plane issued ${res.spiffeId}, expected ${want}`);
      const cert = new X509Certificate(res.certChainPem);
      const held: Held = { keyPem: key.privateKeyPem, certChainPem: res.certChainPem, bundlePem: res.trustBundlePem, notBefore: Date.parse(cert.validFrom), notAfter: res.notAfterUnixMs, spiffeId: res.spiffeId };
      this.save(held);
      if (joinToken) this.use(held, "joined");
      else {
        this.counters.renewals++;
        this.use(held, "renewed");
      }
      this.counters.failures = 0;
      this.schedule(halfLife(held) - Date.now());
    } catch (err) {
      const e = err as grpc.ServiceError;
      throw new IdentityError(`getting a certificate from ${this.opts.target} failed: ${e.details ?? e.message}`);
    } finally {
      client.close();
    }
  }

  private use(h: Held, how: "stored" | "joined" | "renewed"): void {
    this.held = h;
    this.provider.setTrustBundle(h.bundlePem);
    this.provider.setIdentity(h.certChainPem, h.keyPem);
    this.changed();
    this.opts.log.info(`workload certificate ${how}`, { spiffeId: h.spiffeId, notAfter: new Date(h.notAfter).toISOString() });
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.renew().catch((err: Error) => {
        this.counters.failures++;
        // Retry sooner as the end nears, never later than a tenth of what is left.
        const left = this.held.notAfter - Date.now();
        const retry = Math.max(1000, Math.min(30_000, left / 10));
        this.opts.log.warn("renewing the workload certificate failed; retrying", { cause: err.message, retryInMs: Math.round(retry), expiresInMs: left });
        this.schedule(retry);
      });
    }, Math.max(1000, Math.min(ms, 2 ** 31 - 1))); // at least a second apart, whatever the clocks say
    this.timer.unref();
  }

  private load(): Held | undefined {
    const f = (n: string) => path.join(this.dir, n);
    if (![f("key.pem"), f("cert.pem"), f("bundle.pem")].every(existsSync)) return undefined;
    try {
      const certChainPem = readFileSync(f("cert.pem"), "utf8");
      const cert = new X509Certificate(certChainPem);
      const parsed = spiffeIdsOfSan(cert.subjectAltName)[0];
      if (!parsed || parsed.namespace !== this.opts.namespace || parsed.serviceAccount !== this.opts.service) {
        this.opts.log.warn("the stored certificate is for another identity; getting a new one", { stored: cert.subjectAltName ?? null });
        return undefined;
      }
      return { keyPem: readFileSync(f("key.pem"), "utf8"), certChainPem, bundlePem: readFileSync(f("bundle.pem"), "utf8"), notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo), spiffeId: spiffeId(parsed) };
    } catch (err) {
      this.opts.log.warn("the stored certificate is unreadable; getting a new one", { cause: (err as Error).message });
      return undefined;
    }
  }

  /** Writes each file whole (temp + rename); the key readable by the owner only. */
  private save(h: Held): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const write = (name: string, data: string, mode: number) => {
      const tmp = path.join(this.dir, `.${name}.tmp`);
      writeFileSync(tmp, data, { mode });
      chmodSync(tmp, mode);
      renameSync(tmp, path.join(this.dir, name));
    };
    write("key.pem", h.keyPem, 0o600);
    write("cert.pem", h.certChainPem, 0o644);
    write("bundle.pem", h.bundlePem, 0o644);
  }
}

function halfLife(h: { notBefore: number; notAfter: number }): number {
  return h.notBefore + (h.notAfter - h.notBefore) / 2;
}

/** Accepts the server when its certificate carries the control plane's SPIFFE ID (in `trustDomain`, or any before the first certificate). */
function checkControlPlane(trustDomain?: string): (host: string, cert: { subjectaltname?: string }) => Error | undefined {
  return (_host, cert) => {
    const ok = spiffeIdsOfSan(cert.subjectaltname).some((id) => isControlPlaneIdentity(id.namespace, id.serviceAccount) && (!trustDomain || id.trustDomain === trustDomain));
    return ok ? undefined : new IdentityError(`the server at the control-plane address is ${cert.subjectaltname ?? "no SPIFFE identity"}, not the Trellis control plane`);
  };
}
