import type { ChangeBus, ChangeEvent } from "./change-bus";

/** In-process bus for the embedded database, where only one replica can run. */
export class LocalChangeBus implements ChangeBus {
  private handlers = new Set<(e: ChangeEvent) => void>();

  async publish(event: ChangeEvent): Promise<void> {
    for (const h of this.handlers) queueMicrotask(() => h(event));
  }

  subscribe(handler: (e: ChangeEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
