import type { Endpoint } from "@trellis/config";
import type { ProxySyncStatus } from "./distribution/ports";
import type { ResourceStore } from "./revisions/store";

/** The control plane's modules as the API sees them (wired in app.ts). */
export interface ControlServices {
  store: ResourceStore;
  /** Live endpoints of every replica (static Workload resources are in the store). */
  endpoints: { list(filter?: { namespace?: string; service?: string }): Promise<Endpoint[]> };
  /** Sync status of every proxy, whichever replica holds its stream. */
  proxies: { status(filter?: { namespace?: string; service?: string }): Promise<ProxySyncStatus[]> };
  replicaId: string;
}
