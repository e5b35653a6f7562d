import type { TapEventView } from "./tap-event-schema";

/** What a `tap.watch` subscription yields. */
export type TapWatchItem =
  /** The tap runs (first item): proxies of every replica are being told. */
  | { type: "started"; tapId: string }
  | { type: "event"; event: TapEventView }
  /** `count` events were left out since the last item because the watcher read too slowly. */
  | { type: "lost"; count: number };

/**
 * The events waiting for one watcher, as an async iterable. Bounded: when the watcher (an SSE
 * connection to a slow browser) does not keep up, newer events are dropped and the watcher is
 * told how many with a "lost" item, so memory stays at `capacity` events per watcher.
 *
 * Single consumer: iterate once. Iteration ends when `signal` aborts or close() is called.
 */
export class TapWatchQueue {
  private items: TapEventView[] = [];
  private lost = 0;
  private wake: (() => void) | undefined;
  private closed = false;
  /** Events dropped over the queue's life. */
  droppedTotal = 0;

  constructor(private readonly capacity: number) {}

  push(event: TapEventView): void {
    if (this.closed) return;
    if (this.items.length >= this.capacity) {
      this.lost++;
      this.droppedTotal++;
    } else this.items.push(event);
    this.wakeUp();
  }

  close(): void {
    this.closed = true;
    this.wakeUp();
  }

  async *drain(signal?: AbortSignal): AsyncGenerator<TapWatchItem> {
    const onAbort = () => this.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) return;
        if (this.lost > 0) {
          const count = this.lost;
          this.lost = 0;
          yield { type: "lost", count };
          continue;
        }
        const next = this.items.shift();
        if (next !== undefined) {
          yield { type: "event", event: next };
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.close();
    }
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
