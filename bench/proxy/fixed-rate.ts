import net from "node:net";
import { Http1ResponseReader } from "./http1-response";
import { summarize } from "./stats";
import type { LatencySummary } from "./stats";

/**
 * An open-loop HTTP/1.1 load generator: requests leave on a fixed schedule (request i at
 * start + i/rate) whatever the responses do, over a pool of keep-alive connections, and each
 * response's latency is timed with performance.now() (microseconds).
 *
 * Why not autocannon: its `overallRate` is a per-connection quota per second (each connection
 * sends back-to-back until it has made rate/connections requests, then idles until the next
 * second), so "1000 rps" is a burst at full speed followed by silence; and its latency
 * histogram has a 1 ms resolution (hdr-histogram, lowest discernible value 1, integer
 * values) with a coordinated-omission correction at a 1 ms interval. Sub-millisecond
 * differences, which the sidecar targets are about, cannot be read from it.
 *
 * Two latencies per request: `service` from the moment its bytes were written to its last
 * byte read; `scheduled` from the moment it was due (adds the generator's own timer lag and
 * any wait for a free connection: the coordinated-omission-free view).
 */

export interface FixedRateOptions {
  host: string;
  port: number;
  /** Host header (the mesh host for a proxy target). */
  authority: string;
  path: string;
  rate: number;
  /** Measured seconds, after the warm-up. */
  durationS: number;
  /** Unmeasured seconds at the same rate first. */
  warmupS: number;
  /** Connections opened before the first request. */
  connections: number;
  /** More are opened when every one is busy, up to this many; beyond it requests wait (and count late). */
  maxConnections: number;
  /** Expected body size; other sizes count as errors. */
  expectBodyBytes?: number | undefined;
}

/** Called when the measured window opens (first measured request due) and closes (its last answer in). */
export type WindowListener = (edge: "start" | "end") => void;

export interface FixedRateResult {
  rate: number;
  /** Measured requests sent and answered. */
  sent: number;
  completed: number;
  /** Non-200, wrong-size, unreadable or unanswered responses in the measured window. */
  errors: number;
  /** Seconds from the first to the last measured send. */
  wallS: number;
  /** Latency from write to last byte, ms. */
  service: LatencySummary;
  /** Latency from the scheduled send time, ms. */
  scheduled: LatencySummary;
  /** Connections opened in all. */
  connectionsUsed: number;
  /** Measured requests that left more than 1 ms after they were due (libuv timers tick in whole ms, so many do by ~1 ms). */
  lateSends: number;
  /** How late measured requests left, ms: the generator's own timer lag and waits for a free connection. */
  sendLag: LatencySummary;
  /** CPU seconds the generator itself used in the measured window. */
  loadToolCpuS: number;
}

interface Conn {
  socket: net.Socket;
  reader: Http1ResponseReader;
  /** The request in flight: when it was due, when it was written, whether it is measured. */
  inflight: { due: number; sentAt: number; measured: boolean } | undefined;
}

export async function runFixedRate(o: FixedRateOptions, onWindow: WindowListener = () => undefined): Promise<FixedRateResult> {
  const request = Buffer.from(`GET ${o.path} HTTP/1.1\r\nHost: ${o.authority}\r\nUser-Agent: trellis-bench\r\n\r\n`, "latin1");
  const idle: Conn[] = [];
  const all = new Set<Conn>();
  const waiting: Array<{ due: number; measured: boolean }> = [];
  const service: number[] = [];
  const scheduled: number[] = [];
  const lag: number[] = [];
  let errors = 0;
  let sent = 0;
  let lateSends = 0;
  let opened = 0;
  let outstanding = 0;
  let firstMeasuredSend = Number.NaN;
  let lastMeasuredSend = Number.NaN;
  let onDrained: (() => void) | undefined;

  const write = (c: Conn, job: { due: number; measured: boolean }) => {
    const sentAt = performance.now();
    c.inflight = { due: job.due, sentAt, measured: job.measured };
    if (job.measured) {
      sent++;
      if (Number.isNaN(firstMeasuredSend)) firstMeasuredSend = sentAt;
      lastMeasuredSend = sentAt;
      lag.push(sentAt - job.due);
      if (sentAt - job.due > 1) lateSends++;
    }
    c.socket.write(request);
  };
  const release = (c: Conn) => {
    c.inflight = undefined;
    const next = waiting.shift();
    if (next) write(c, next);
    else idle.push(c);
  };
  const settle = (measured: boolean) => {
    outstanding--;
    if (outstanding === 0 && onDrained) onDrained();
    return measured;
  };
  const fail = (c: Conn) => {
    all.delete(c);
    const idx = idle.indexOf(c);
    if (idx >= 0) idle.splice(idx, 1);
    if (c.inflight) {
      if (c.inflight.measured) errors++;
      c.inflight = undefined;
      settle(false);
    }
    c.socket.destroy();
  };
  const connect = () =>
    new Promise<Conn>((resolve, reject) => {
      const socket = net.connect({ host: o.host, port: o.port, noDelay: true });
      const c: Conn = { socket, reader: new Http1ResponseReader(), inflight: undefined };
      opened++;
      socket.once("connect", () => (all.add(c), resolve(c)));
      socket.once("error", reject);
      socket.on("error", () => fail(c));
      socket.on("close", () => fail(c));
      socket.on("data", (chunk: Buffer) => {
        let responses;
        try {
          responses = c.reader.feed(chunk);
        } catch {
          return fail(c);
        }
        for (const r of responses) {
          const job = c.inflight;
          if (!job) return fail(c); // an answer nobody asked for
          const now = performance.now();
          if (job.measured) {
            if (r.status === 200 && (o.expectBodyBytes === undefined || r.bodyBytes === o.expectBodyBytes)) {
              service.push(now - job.sentAt);
              scheduled.push(now - job.due);
            } else errors++;
          }
          settle(job.measured);
          release(c);
        }
      });
    });

  for (let i = 0; i < o.connections; i++) idle.push(await connect());

  const interval = 1000 / o.rate;
  const warmup = Math.round(o.warmupS * o.rate);
  const total = warmup + Math.round(o.durationS * o.rate);
  const start = performance.now() + 5;
  let i = 0;
  let pendingConnects = 0;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  const dispatch = (job: { due: number; measured: boolean }) => {
    if (job.measured && cpuAtStart === undefined) {
      cpuAtStart = process.cpuUsage();
      onWindow("start");
    }
    outstanding++;
    const c = idle.pop(); // most recently used first, like a keep-alive pool
    if (c) return write(c, job);
    if (all.size + pendingConnects < o.maxConnections) {
      pendingConnects++;
      connect().then(
        (nc) => (pendingConnects--, all.add(nc), release(nc)),
        () => (pendingConnects--, job.measured && errors++, settle(job.measured)),
      );
      waiting.push(job);
      return;
    }
    waiting.push(job);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (i < total && start + i * interval <= now) {
        dispatch({ due: start + i * interval, measured: i >= warmup });
        i++;
      }
      if (i < total) setTimeout(tick, Math.max(0, start + i * interval - performance.now()));
      else resolve();
    };
    setTimeout(tick, 5);
  });
  // Let the last responses arrive (bounded: what is still missing then counts as errors).
  if (outstanding > 0) {
    await new Promise<void>((resolve) => {
      onDrained = resolve;
      setTimeout(resolve, 5_000).unref();
    });
  }
  onWindow("end");
  const cpu = process.cpuUsage(cpuAtStart);
  errors += waiting.filter((j) => j.measured).length;
  for (const c of all) if (c.inflight?.measured) errors++;
  const result: FixedRateResult = {
    rate: o.rate,
    sent,
    completed: service.length,
    errors,
    wallS: (lastMeasuredSend - firstMeasuredSend) / 1000,
    service: summarize(service),
    scheduled: summarize(scheduled),
    connectionsUsed: opened,
    lateSends,
    sendLag: summarize(lag),
    loadToolCpuS: (cpu.user + cpu.system) / 1e6,
  };
  for (const c of [...all]) c.socket.destroy();
  return result;
}
