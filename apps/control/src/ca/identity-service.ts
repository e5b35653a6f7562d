import * as grpc from "@grpc/grpc-js";
import { isControlPlaneIdentity, SpiffeIdError, spiffeIdsOfSan } from "@trellis/config";
import { IdentityService as IdentityDefinition } from "@trellis/proto";
import type { CertifyRequest, CertifyResponse, IdentityServer } from "@trellis/proto";
import type { Logger } from "../log";
import type { CertificateAuthority } from "./certificate-authority";
import { JoinTokenError } from "./join-tokens";
import type { JoinTokens } from "./join-tokens";
import { CertificateRequestError, csrCommonName } from "./x509";
import type { WorkloadCertificates } from "./workload-certificates";

/** A refusal with its gRPC status; the message says why without echoing secrets. */
class Refused extends Error {
  constructor(
    readonly status: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The Identity gRPC service (identity.proto): signs proxies' CSRs. A first certificate is
 * authorized by a join token; a renewal by the client certificate of the TLS connection, which
 * must carry the identity asked for (TLS has already checked it chains to a trusted root and
 * is within its validity, or the connection would not count as authenticated).
 *
 * Register it only on the TLS server: on plaintext the token would travel in the clear.
 */
export class IdentityService {
  constructor(
    private readonly ca: CertificateAuthority,
    private readonly tokens: JoinTokens,
    private readonly log: Logger,
    /** Where each proxy's latest certificate is recorded (its expiry, for the proxy list). */
    private readonly certificates?: WorkloadCertificates,
  ) {}

  readonly implementation: IdentityServer = {
    certify: (call: grpc.ServerUnaryCall<CertifyRequest, CertifyResponse>, callback: grpc.sendUnaryData<CertifyResponse>) => {
      this.certify(call).then(
        (r) => callback(null, r),
        (err: unknown) => {
          if (err instanceof Refused) return callback({ code: err.status, details: err.message });
          this.log.error("certify failed", { cause: (err as Error)?.message });
          callback({ code: grpc.status.INTERNAL, details: "the CA could not sign the certificate" });
        },
      );
    },
  };

  addTo(server: grpc.Server): void {
    server.addService(IdentityDefinition, this.implementation);
  }

  private async certify(call: grpc.ServerUnaryCall<CertifyRequest, CertifyResponse>): Promise<CertifyResponse> {
    const req = call.request;
    const identity = { namespace: req.namespace, service: req.service };
    if (!req.csrPem) throw new Refused(grpc.status.INVALID_ARGUMENT, "csr_pem is empty");
    // The control plane's own identity is what proxies trust the control plane by: only this process issues it (ServingIdentity).
    if (isControlPlaneIdentity(req.namespace, req.service)) {
      throw new Refused(grpc.status.PERMISSION_DENIED, `${req.namespace}/${req.service} is the control plane's identity and is never issued to a proxy`);
    }
    let via: string;
    if (req.joinToken) {
      try {
        const t = await this.tokens.redeem(req.joinToken, identity);
        via = `join token ${t.id}`;
      } catch (err) {
        if (!(err instanceof JoinTokenError)) throw err;
        this.log.warn("refused a join token", { reason: err.reason, namespace: req.namespace, service: req.service, peer: call.getPeer() });
        throw new Refused(err.reason === "out-of-scope" ? grpc.status.PERMISSION_DENIED : grpc.status.UNAUTHENTICATED, err.message);
      }
    } else {
      const san = call.getAuthContext()?.sslPeerCertificate?.subjectaltname;
      if (!san) throw new Refused(grpc.status.UNAUTHENTICATED, "a first certificate needs a join token; a renewal needs the current, valid certificate of the mesh on the connection");
      const held = spiffeIdsOfSan(san)[0];
      if (!held || held.trustDomain !== this.ca.trustDomain || held.namespace !== req.namespace || held.serviceAccount !== req.service) {
        throw new Refused(grpc.status.PERMISSION_DENIED, `the connection's certificate is for ${held ? `${held.namespace}/${held.serviceAccount} in ${held.trustDomain}` : "no SPIFFE ID"}, not ${req.namespace}/${req.service}`);
      }
      via = "renewal";
    }
    try {
      const issued = await this.ca.issue(req.csrPem, identity);
      this.log.info("issued a workload certificate", { spiffeId: issued.spiffeId, via, serial: issued.serial, notAfter: issued.notAfter.toISOString() });
      // The CSR's common name names the workload (a label; the identity is the SPIFFE ID above).
      const workload = csrCommonName(req.csrPem);
      if (this.certificates && workload && /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(workload)) {
        await this.certificates.record({ proxyId: `${req.namespace}/${workload}`, spiffeId: issued.spiffeId, serial: issued.serial, notAfter: issued.notAfter, issuedAt: new Date(), via }).catch((err: Error) => this.log.warn("could not record the issued certificate", { cause: err.message }));
      }
      return { spiffeId: issued.spiffeId, certChainPem: issued.certChainPem, trustBundlePem: issued.trustBundlePem, notAfterUnixMs: issued.notAfter.getTime() };
    } catch (err) {
      if (err instanceof CertificateRequestError || err instanceof SpiffeIdError) throw new Refused(grpc.status.INVALID_ARGUMENT, err.message);
      throw err;
    }
  }
}
