import type { Endpoint, Resource } from "@trellis/config";
import type { ConfigSource, EndpointRegistry, ProxySyncStatus, SyncStatusSink } from "../ports";

/**
 * In-memory stand-ins for the Postgres-backed ConfigSource, EndpointRegistry and
 * SyncStatusSink the app wires in (those are tested against PostgreSQL in their own suites).
 * They keep just enough behaviour for the distribution tests: revisions, per-replica
 * ownership of endpoints, and a log of calls.
 */

export class MemoryConfigSource implements ConfigSource {
  revision = 1;
  constructor(public resources: Resource[] = []) {}
  /** Writes a new revision. */
  set(resources: Resource[]): void {
    this.resources = resources;
    this.revision++;
  }
  async snapshot(): Promise<{ revision: number; resources: Resource[] }> {
    return { revision: this.revision, resources: this.resources };
  }
}

export class MemoryEndpointRegistry implements EndpointRegistry {
  readonly endpoints = new Map<string, { endpoint: Endpoint; replicaId: string }>();
  readonly calls: string[] = [];
  async register(endpoint: Endpoint, replicaId: string): Promise<void> {
    this.calls.push(`register ${endpoint.id}`);
    this.endpoints.set(endpoint.id, { endpoint, replicaId });
  }
  async disconnected(id: string, replicaId: string): Promise<void> {
    this.calls.push(`disconnected ${id}`);
    if (this.endpoints.get(id)?.replicaId === replicaId) this.endpoints.delete(id);
  }
  async list(): Promise<Endpoint[]> {
    return [...this.endpoints.values()].map((e) => e.endpoint);
  }
}

export class MemoryStatusSink implements SyncStatusSink {
  readonly batches: ProxySyncStatus[][] = [];
  async record(changes: readonly ProxySyncStatus[]): Promise<void> {
    this.batches.push([...changes]);
  }
}
