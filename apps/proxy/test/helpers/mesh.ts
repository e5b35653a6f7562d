import type { Snapshot } from "@trellis/config";
import { createLogger } from "../../src/core/log";
import type { PeerInfo } from "../../src/core/context";
import { DataPlane } from "../../src/proxy";

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
export async function startProxy(self: Partial<PeerInfo> & { app: string }, snap: Snapshot | undefined, extra: { tcpForward?: Array<{ port: number; authority: string }>; random?: () => number } = {}): Promise<TestProxy> {
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
    ...(extra.random ? { random: extra.random } : {}),
  });
  if (snap) dp.apply(snap);
  await dp.start();
  return { dp, accessLog, outbound: `http://127.0.0.1:${dp.ports.outbound}`, inboundPort: dp.ports.inbound, stop: () => dp.stop() };
}
