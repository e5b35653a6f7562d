import type { Endpoint, Resource, ResourceRef, Snapshot } from "@trellis/config";
import type { AuthService } from "./auth/auth-service";
import type { CanaryController } from "./canary/canary-controller";
import type { CertificateAuthority } from "./ca/certificate-authority";
import type { JoinTokens } from "./ca/join-tokens";
import type { WorkloadCertificates } from "./ca/workload-certificates";
import type { ProxySyncStatus } from "./distribution/ports";
import type { ChangePreview } from "./distribution/preview";
import type { WhatIfAnswer, WhatIfRequest } from "./whatif/what-if";
import type { FlowImpact } from "./whatif/impact";
import type { ResourceStore } from "./revisions/store";
import type { GraphService } from "./telemetry/graph-service";
import type { TapService } from "./telemetry/tap/tap-hub";
import type { TraceApi } from "./telemetry/traces/trace-service";

/** The control plane's modules as the API sees them (wired in app.ts). */
export interface ControlServices {
  store: ResourceStore;
  /** Live endpoints of every replica (static Workload resources are in the store). */
  endpoints: { list(filter?: { namespace?: string; service?: string }): Promise<Endpoint[]> };
  /** Sync status of every proxy, whichever replica holds its stream. */
  proxies: {
    status(filter?: { namespace?: string; service?: string }): Promise<ProxySyncStatus[]>;
    /** The snapshot the control plane would send that proxy now (undefined: no such live proxy). */
    configDump(proxyId: string): Promise<Snapshot | undefined>;
    /** A change's findings and the proxies whose snapshot it would change, with their diffs. */
    preview(upserts: readonly Resource[], deletes: readonly ResourceRef[]): Promise<ChangePreview>;
    /** Where a described request would go and whether it would be let in, now or after a change. */
    whatIf(req: WhatIfRequest, change?: { upserts: readonly Resource[]; deletes: readonly ResourceRef[] }): Promise<WhatIfAnswer>;
    /** What a change would do to the calls of the last `windowSec` (telemetry flows, trace samples). */
    impact(change: { upserts: readonly Resource[]; deletes: readonly ResourceRef[] }, windowSec: number): Promise<FlowImpact[]>;
  };
  replicaId: string;
  /** The live window: graph, golden signals, ingest stats. */
  telemetry: GraphService;
  /** Live tap: request summaries matching a filter, from every proxy of every replica. */
  tap: TapService;
  /** Spans received over OTLP: search, one trace as a tree, receiver and retention counters. */
  traces: TraceApi;
  /** Operators: users, sessions, API tokens, the audit trail. */
  auth: AuthService;
  /** How session cookies are set. */
  cookies: { secure: boolean };
  /** Automated canaries: runs, their steps, pause/resume/abort. */
  canaries: CanaryController;
  /** The mesh certificate authority and the join tokens proxies bootstrap with. */
  ca: { authority: CertificateAuthority; joinTokens: JoinTokens; certificates: WorkloadCertificates };
}
