import type { Snapshot } from "@trellis/config";
import { createLogger } from "../../src/core/log";
import type { PeerInfo } from "../../src/core/context";
import { DataPlane } from "../../src/proxy";
import type { MeshTlsMaterial } from "../../src/identity/mesh-tls";
import { snapshot } from "./snapshot";

/** Access-log lines a test data plane wrote, parsed. */
export class LogSink {
  readonly lines: Array<Record<string, unknown>> = [];
  writableLength = 0;
  write(chunk: string): boolean {
    for (const l of chunk.split("\n")) if (l.trim()) this.lines.push(JSON.parse(l) as Record<string, unknown>);
    return true;
  }
}

export interface TestProxy {
  dp: DataPlane;
  accessLog: LogSink;
  /** `http://127.0.0.1:<outbound>`. */
  outbound: string;
  inboundPort: number;
  stop(): Promise<void>;
}

/** Starts a data plane on port 0 listeners with a silent logger and applies `snap`. */
export async function startProxy(self: Partial<PeerInfo> & { app: string }, snap: Snapshot | undefined, extra: { tcpForward?: Array<{ port: number; authority: string }>; random?: () => number; tcpBytesEveryMs?: number; identity?: MeshTlsMaterial; mode?: "sidecar" | "gateway" } = {}): Promise<TestProxy> {
  const accessLog = new LogSink();
  const peer: PeerInfo = { workload: `${self.app}-0`, version: "v1", namespace: "default", ...self };
  const dp = new DataPlane({
    self: peer,
    bind: "127.0.0.1",
    appHost: "127.0.0.1",
    inboundPort: 0,
    outboundPort: 0,
    tcpForward: extra.tcpForward ?? [],
    log: createLogger(process.env.TRELLIS_TEST_LOG === "debug" ? "debug" : "error"),
    accessLogSink: accessLog,
    accessLogFlushMs: 0,
    tcpBytesEveryMs: extra.tcpBytesEveryMs,
    ...(extra.mode ? { mode: extra.mode } : {}),
    ...(extra.random ? { random: extra.random } : {}),
  });
  if (extra.identity) dp.setIdentity(extra.identity);
  if (snap) dp.apply(snap);
  await dp.start();
  return { dp, accessLog, outbound: `http://127.0.0.1:${dp.ports.outbound}`, inboundPort: dp.ports.inbound, stop: () => dp.stop() };
}

export interface SidecarOptions {
  /** The service port peers address (default 9080). */
  port?: number;
  protocol?: "http" | "http2" | "grpc";
  workload?: string;
  version?: string;
  rateLimits?: Snapshot["inbound"]["rateLimits"];
  authorizationPolicies?: Snapshot["inbound"]["authorizationPolicies"];
  jwtRules?: Snapshot["inbound"]["jwtRules"];
  peerAuthentication?: Snapshot["inbound"]["peerAuthentication"];
  /** The workload's certificate (mesh mTLS); none: plaintext only. */
  identity?: MeshTlsMaterial;
}

/** A server-side sidecar for service `service` in front of an app on `appPort`: one inbound listener, no outbound hosts. */
export function startSidecar(service: string, appPort: number, opts: SidecarOptions = {}): Promise<TestProxy> {
  const snap = snapshot({
    service,
    listeners: [{ name: opts.protocol ?? "http", port: opts.port ?? 9080, targetPort: appPort, protocol: opts.protocol ?? "http" }],
    ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
    ...(opts.authorizationPolicies ? { authorizationPolicies: opts.authorizationPolicies } : {}),
    ...(opts.jwtRules ? { jwtRules: opts.jwtRules } : {}),
    ...(opts.peerAuthentication ? { peerAuthentication: opts.peerAuthentication } : {}),
  });
  return startProxy({ app: service, workload: opts.workload ?? `${service}-${opts.version ?? "v1"}-0`, version: opts.version ?? "v1" }, snap, opts.identity ? { identity: opts.identity } : {});
}

/**
 * Things a test file started, stopped in reverse order by `stop()` (call it from after()).
 * Anything with `stop()` or `close()` can be tracked; `track` returns its argument.
 */
export class Teardown {
  private readonly items: Array<() => unknown> = [];

  track<T extends { stop(): unknown } | { close(): unknown }>(item: T): T {
    this.items.push(() => ("stop" in item ? item.stop() : item.close()));
    return item;
  }

  async stop(): Promise<void> {
    for (const f of this.items.splice(0).reverse()) await f();
  }
}
