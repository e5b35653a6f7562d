import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { latencyQuantile } from "@trellis/config";
import * as L from "../live/row-layout";
import { KeyTable } from "../live/series-key";
import type { SeriesKey } from "../live/series-key";
import type { FrozenSlot } from "../live/slot";
import { aggregate, requestSignals, tcpSignals, timeSeries } from "../live/window-query";
import type { SlotSource } from "../live/window-query";
import { trellisBucketOf } from "./istio-buckets";
import type { MatrixSeries } from "./prometheus-client";
import { toSlots } from "./to-slots";
import type { IstioResults, StepGrid } from "./to-slots";

const T = 1_800_000_000;
const GRID: StepGrid = { start: T, step: 10, steps: 3 };

/** Labels of one proxy's series: productpage-v1 calling reviews-v2, as either side reports it. */
function labels(reporter: "source" | "destination", extra: Record<string, string> = {}): Record<string, string> {
  return {
    instance: reporter === "source" ? "pp:15090" : "rv2:15090",
    reporter,
    request_protocol: "http",
    source_workload: "productpage-v1",
    source_workload_namespace: "default",
    source_app: "productpage",
    source_version: "v1",
    destination_workload: "reviews-v2",
    destination_version: "v2",
    destination_service_name: "reviews",
    destination_service_namespace: "default",
    ...extra,
  };
}

/** A counter series with its values at T, T+10, T+20, T+30 (undefined = no sample). */
const series = (metric: Record<string, string>, ...vs: (number | undefined)[]): MatrixSeries => ({
  metric,
  values: vs.flatMap((v, k) => (v === undefined ? [] : [[T + 10 * k, String(v)] as [number, string]])),
});

function results(r: Partial<IstioResults>): IstioResults {
  const empty = { requests: [], latencyBuckets: [], latencySum: [], requestBytes: [], responseBytes: [], tcpOpened: [], tcpClosed: [], tcpSent: [], tcpReceived: [] };
  return { ...empty, ...r };
}

/** The slots as a SlotSource over their key table, as PrometheusSource presents them. */
function source(slots: FrozenSlot[], keys: KeyTable): SlotSource {
  return { slotsFor: () => slots.map((slot) => ({ slot, seconds: GRID.step })), key: (id) => keys.key(id), lastCompleteSecond: T + 29 };
}

function convert(r: Partial<IstioResults>): { src: SlotSource; keys: KeyTable } {
  const keys = new KeyTable(1000);
  const slots = toSlots(results(r), GRID, (k: SeriesKey) => keys.id(k, 1));
  assert.equal(slots.length, GRID.steps);
  assert.deepEqual(slots.map((s) => s.t), [T, T + 10, T + 20]);
  return { src: source(slots, keys), keys };
}

const RANGE = { fromSec: T, toSec: T + 30 };
const byReporter = (k: SeriesKey) => k.reporter;

describe("toSlots", () => {
  test("requests by response class per step, errors from 5xx, no response and gRPC failures behind a 200", () => {
    const { src } = convert({
      requests: [
        series(labels("source", { response_code: "200", grpc_response_status: "" }), undefined, 10, 25, 40),
        series(labels("source", { response_code: "503", grpc_response_status: "" }), undefined, 2, 2, 5),
        series(labels("source", { response_code: "0", grpc_response_status: "" }), 7, 8, 8, 8),
        series(labels("source", { request_protocol: "grpc", response_code: "200", grpc_response_status: "14" }), undefined, undefined, 4, 4),
        series(labels("source", { request_protocol: "grpc", response_code: "503", grpc_response_status: "14" }), undefined, undefined, 1, 1),
      ],
    });
    const s = requestSignals(aggregate(src, RANGE, (k) => k.reporter).get("source")!, 30);
    assert.equal(s.requests, 40 + 5 + 1 + 4 + 1, "series born in the range count from 0; the one present at the start from its value there");
    assert.deepEqual(s.byClass, [1, 0, 44, 0, 0, 6]);
    assert.equal(s.errors, 6 + 1 + 4, "a gRPC failure behind a 503 is counted once");
    const perStep = timeSeries(src, RANGE, 10, () => true).map((p) => p.sums.vals[L.REQUESTS]);
    assert.deepEqual(perStep, [10 + 2 + 1, 15 + 4 + 1, 15 + 3]);
    const grpc = aggregate(src, RANGE, (k) => k.kind).get("grpc")!;
    assert.equal(grpc.vals[L.REQUESTS], 5);
  });

  test("labels map to the key; unknown callers are the key's unknown", () => {
    const { src, keys } = convert({
      requests: [series(labels("destination", { source_workload: "unknown", source_workload_namespace: "unknown", source_app: "unknown", source_version: "unknown", response_code: "200", connection_security_policy: "none" }), 0, 3, 3, 3)],
    });
    const [slot] = src.slotsFor(RANGE);
    const key = keys.key(slot!.slot.keys[0]!);
    assert.deepEqual(key, { reporter: "destination", kind: "http", srcNamespace: "", srcService: "", srcWorkload: "", srcVersion: "", dstNamespace: "default", dstService: "reviews", dstWorkload: "reviews-v2", dstVersion: "v2", route: "" });
  });

  test("mTLS: destination reports by label; source reports take the callee's share for the same pair", () => {
    const { src } = convert({
      requests: [
        series(labels("destination", { response_code: "200", connection_security_policy: "mutual_tls" }), undefined, 30, 30, 30),
        series(labels("destination", { response_code: "200", connection_security_policy: "none" }), undefined, 10, 10, 10),
        series(labels("source", { response_code: "200", connection_security_policy: "unknown" }), undefined, 40, 40, 40),
      ],
    });
    const sums = aggregate(src, RANGE, byReporter);
    assert.equal(requestSignals(sums.get("destination")!, 30).mtlsShare, 0.75);
    assert.equal(requestSignals(sums.get("source")!, 30).mtlsShare, 0.75);
  });

  test("latency: Istio buckets onto Trellis buckets per step, sums and bytes per step", () => {
    const l = (le: string) => labels("source", { le });
    const { src } = convert({
      latencyBuckets: [
        series(l("0.5"), undefined, 0, 0, 0),
        series(l("1"), undefined, 1, 1, 1),
        series(l("5"), undefined, 8, 9, 9),
        series(l("10"), undefined, 10, 12, 12),
        series(l("+Inf"), undefined, 10, 12, 13),
      ],
      latencySum: [series(labels("source"), undefined, 40, 55, 2055)],
      requestBytes: [series(labels("source"), undefined, 100, 100, 100)],
      responseBytes: [series(labels("source"), undefined, 1000, 1200, 1300)],
    });
    const steps = timeSeries(src, RANGE, 10, () => true);
    const hist = (k: number) => Object.fromEntries([...steps[k]!.sums.hist.entries()].filter(([, c]) => c > 0));
    assert.deepEqual(hist(0), { [trellisBucketOf(0.5, 1)]: 1, [trellisBucketOf(1, 5)]: 7, [trellisBucketOf(5, 10)]: 2 });
    assert.deepEqual(hist(1), { [trellisBucketOf(1, 5)]: 1, [trellisBucketOf(5, 10)]: 1 });
    assert.deepEqual(hist(2), { [trellisBucketOf(10, Infinity)]: 1 });
    assert.deepEqual(steps.map((p) => p.sums.vals[L.LATENCY_SUM_MS]), [40, 15, 2000]);
    const all = aggregate(src, RANGE, () => "all").get("all")!;
    assert.equal(all.vals[L.REQUEST_BYTES], 100);
    assert.equal(all.vals[L.RESPONSE_BYTES], 1300);
    const p50 = latencyQuantile(all.hist, 0.5);
    assert.ok(p50 > 1 && p50 <= 5, `p50 ${p50} ms lies in the Istio bucket (1, 5] that holds the median`);
  });

  test("TCP: connections opened (and on mTLS), closed, bytes", () => {
    const t = (r: "source" | "destination", extra: Record<string, string> = {}) => labels(r, { request_protocol: "tcp", ...extra });
    const { src } = convert({
      tcpOpened: [
        series(t("destination", { connection_security_policy: "mutual_tls" }), undefined, 2, 4, 4),
        series(t("source", { connection_security_policy: "unknown" }), undefined, 2, 4, 4),
      ],
      tcpClosed: [series(t("source"), undefined, 0, 3, 4)],
      tcpSent: [series(t("source"), 500, 600, 900, 1000)],
      tcpReceived: [series(t("source"), undefined, 50, 50, 50)],
    });
    const sums = aggregate(src, RANGE, (k) => (k.kind === "tcp" ? k.reporter : undefined));
    const s = sums.get("source")!;
    assert.equal(s.vals[L.TCP_OPENED], 4);
    assert.equal(s.vals[L.TCP_CLOSED], 4);
    assert.equal(s.vals[L.TCP_SENT], 500);
    assert.equal(s.vals[L.TCP_RECEIVED], 50);
    assert.deepEqual(tcpSignals(s, 30), { connectionsOpened: 4, connectionsPerSec: 0.133, bytesPerSec: 18.333, mtlsShare: 1 });
    assert.equal(tcpSignals(sums.get("destination")!, 30).mtlsShare, 1);
  });

  test("series without a usable reporter are left out", () => {
    const { src } = convert({ requests: [series({ reporter: "waypoint", response_code: "200" }, undefined, 5, 5, 5)] });
    assert.equal(aggregate(src, RANGE, () => "all").size, 0);
  });
});
