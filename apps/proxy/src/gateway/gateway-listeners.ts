import type { Logger } from "../core/log";
import type { EdgeOptions } from "../server/edge";
import { createHttp1Server } from "../server/http1";
import { createHttp2Server } from "../server/http2";
import { createSniffingListener, listen } from "../server/listener";
import type { SniffingListener } from "../server/listener";

/**
 * The listeners of a gateway-mode proxy: one per Gateway server port of the current snapshot
 * (HTTP/1.1 and h2c on each), opened and closed as snapshots change. A request reads the
 * handler of the snapshot served now (`edgeFor(port).handler()`), so a swap is hitless on ports
 * that stay; a port no longer configured stops taking connections and lets open ones finish.
 */
export class GatewayListeners {
  private readonly open = new Map<number, SniffingListener>();
  private syncing: Promise<void> = Promise.resolve();
  /** Ports that could not be bound, with the reason (admin /config_dump, tests). */
  readonly failed = new Map<number, string>();

  constructor(
    private readonly bind: string,
    private readonly edgeFor: (port: number) => EdgeOptions,
    private readonly log: Logger,
  ) {}

  /** Listens on exactly `ports` (in the background; `settled()` resolves when done). */
  sync(ports: readonly number[]): void {
    this.syncing = this.syncing.then(() => this.apply(new Set(ports)));
  }

  settled(): Promise<void> {
    return this.syncing;
  }

  get ports(): number[] {
    return [...this.open.keys()].sort((a, b) => a - b);
  }

  private async apply(want: Set<number>): Promise<void> {
    for (const [port, server] of this.open) {
      if (want.has(port)) continue;
      this.open.delete(port);
      void server.closeAll(5_000);
      this.log.info("gateway listener closed", { port });
    }
    for (const port of want) {
      if (this.open.has(port)) continue;
      const edge = this.edgeFor(port);
      const server = createSniffingListener(createHttp1Server(edge), createHttp2Server(edge));
      try {
        await listen(server, this.bind, port);
        this.open.set(port, server);
        this.failed.delete(port);
        this.log.info("gateway listener open", { port });
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        this.failed.set(port, reason);
        this.log.error("gateway listener could not bind its port", { port, reason });
      }
    }
  }

  async close(graceMs = 0): Promise<void> {
    await this.syncing;
    await Promise.all([...this.open.values()].map((s) => s.closeAll(graceMs)));
    this.open.clear();
  }
}
