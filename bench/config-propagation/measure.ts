import type { Fleet } from "./fleet";
import { nowUs } from "./fleet-protocol";
import type { SyncState } from "./fleet-protocol";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ConnectResult {
  /** From the first Hello until every proxy received (and ACKed) a snapshot, ms. */
  firstSyncMs: number;
  /** From the first Hello until the last snapshot of the connect storm, ms (pushes of new endpoints to the others). */
  settledMs: number;
  /** Snapshots received during the connect storm, all proxies together. */
  snapshots: number;
  state: SyncState;
}

/** Connects the fleet to `target` and waits for first sync, then for `quietMs` without any snapshot. */
export async function connectFleet(fleet: Fleet, target: string, proxies: number, services: number, timeoutMs: number, quietMs = 1500): Promise<ConnectResult> {
  const t0 = nowUs();
  await fleet.connect(target, proxies, services);
  const synced = await fleet.waitSynced(timeoutMs);
  const firstSyncMs = (synced.lastFirstAt - t0) / 1000;
  const state = await fleet.waitQuiet(quietMs, timeoutMs);
  return { firstSyncMs, settledMs: (state.lastSnapshotAt - t0) / 1000, snapshots: state.snapshots, state };
}

export interface ChangeResult {
  /** Per change: from just before the change was made until the last expected proxy received it, ms (NaN if some never did). */
  lastAckMs: number[];
  /** Per change: until the first proxy received it, ms (the fixed part: API, debounce, inputs, index). */
  firstMs: number[];
  /** Every expected proxy's latency for every change, ms. */
  perProxyMs: number[];
  /** Expected receipts that did not arrive within the timeout, over all changes. */
  missing: number;
  /** Proxies that received a new version although the change should not have reached them. */
  unexpected: number;
  expectedPerChange: number;
  /** Snapshots the whole fleet received during the changes (pauses included), per change; ideally expectedPerChange. */
  snapshotsPerChange: number;
}

/**
 * Makes `count` changes one after the other with `pauseMs` between them and measures, for
 * each, when every proxy in `expect` received a version different from the one it held just
 * before. `change(i)` makes change i (an API write, a POST to the floor server).
 */
export async function measureChanges(fleet: Fleet, opts: { count: number; pauseMs: number; timeoutMs: number; expect: "all" | number[]; settleMs?: number }, change: (i: number) => Promise<void>): Promise<ChangeResult> {
  const r: ChangeResult = { lastAckMs: [], firstMs: [], perProxyMs: [], missing: 0, unexpected: 0, expectedPerChange: 0, snapshotsPerChange: 0 };
  const before = (await fleet.sync()).snapshots;
  for (let i = 0; i < opts.count; i++) {
    await fleet.arm(opts.expect);
    const t0 = nowUs();
    await change(i);
    const got = await fleet.waitChanged(opts.timeoutMs);
    const latencies = got.times.map((t) => (t - t0) / 1000);
    r.perProxyMs.push(...latencies);
    r.firstMs.push(latencies.length ? latencies.reduce((a, b) => Math.min(a, b)) : Number.NaN);
    r.missing += got.expected - got.times.length;
    r.expectedPerChange = got.expected;
    r.lastAckMs.push(got.times.length === got.expected ? latencies.reduce((a, b) => Math.max(a, b), 0) : Number.NaN);
    if (opts.settleMs) {
      await sleep(opts.settleMs);
      r.unexpected += await fleet.unexpectedChanges();
    }
    await sleep(opts.pauseMs);
  }
  r.snapshotsPerChange = ((await fleet.sync()).snapshots - before) / Math.max(1, opts.count);
  return r;
}
