import type { Endpoint } from "@trellis/config";
import type { EndpointRegistry } from "./ports";

/**
 * The last endpoint list read from the registry, re-read only when an endpoint change was
 * announced (markStale) or the list is older than `maxAgeMs` (a safety net for a lost
 * notification). A config-only change, the common case of an edit, then costs no database read.
 */
export class EndpointCache {
  private endpoints: Endpoint[] | undefined;
  private readAt = 0;
  private stale = true;

  constructor(
    private readonly registry: Pick<EndpointRegistry, "list">,
    private readonly maxAgeMs: number,
  ) {}

  /** Endpoints may have changed: the next get() reads them. */
  markStale(): void {
    this.stale = true;
  }

  /** The current endpoints, from the registry when stale or too old. */
  async get(): Promise<Endpoint[]> {
    const now = Date.now();
    if (this.endpoints && !this.stale && now - this.readAt < this.maxAgeMs) return this.endpoints;
    this.stale = false; // a change announced while the read is in flight marks it stale again
    try {
      const endpoints = await this.registry.list();
      this.endpoints = endpoints;
      this.readAt = now;
      return endpoints;
    } catch (err) {
      this.stale = true;
      throw err;
    }
  }
}
