import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { SpanQueue } from "./span-queue";

const span = (i: number) => ({ name: `s${i}` }) as unknown as ReadableSpan;

/** An exporter whose exports finish when the test says so. */
function manualExporter() {
  const calls: Array<{ batch: ReadableSpan[]; done: (r: ExportResult) => void }> = [];
  const exporter: SpanExporter = { export: (batch, done) => void calls.push({ batch, done }), shutdown: () => Promise.resolve() };
  return { exporter, calls };
}

describe("SpanQueue", () => {
  test("sends full batches at once and the rest on the timer", async () => {
    const { exporter, calls } = manualExporter();
    const q = new SpanQueue({ exporter, maxBatch: 3, flushEveryMs: 20 });
    for (let i = 0; i < 4; i++) q.push(span(i));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls.map((c) => c.batch.length), [3], "the full batch goes right after the request's work");
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(calls.map((c) => c.batch.length), [3, 1], "the remainder on the timer");
    for (const c of calls) c.done({ code: 0 });
    assert.deepEqual(q.stats, { exported: 4, dropped: 0, failed: 0, queued: 0 });
    await q.shutdown();
  });

  test("never blocks: a full buffer drops and counts, failed exports are counted", async () => {
    const { exporter, calls } = manualExporter();
    const q = new SpanQueue({ exporter, maxQueued: 5, maxBatch: 2, maxInFlight: 1, flushEveryMs: 60_000 });
    for (let i = 0; i < 8; i++) q.push(span(i));
    assert.equal(q.stats.dropped, 3, "5 kept, 3 dropped while nothing was sent");
    await new Promise((r) => setImmediate(r));
    assert.equal(calls.length, 1, "one export in flight at most");
    calls[0]!.done({ code: 1, error: new Error("503 from the collector") });
    assert.equal(q.stats.failed, 2);
    assert.equal(calls.length, 2, "the next batch goes when the slot frees");
    calls[1]!.done({ code: 0 });
    assert.equal(calls.length, 2, "a part-filled batch waits for the timer");
    q.flush();
    calls[2]!.done({ code: 0 });
    assert.deepEqual(q.stats, { exported: 3, dropped: 3, failed: 2, queued: 0 });
    await q.shutdown();
  });

  test("an exporter that throws is a failed export, not a crash", async () => {
    const q = new SpanQueue({ exporter: { export: () => { throw new Error("bug"); }, shutdown: () => Promise.resolve() }, flushEveryMs: 60_000 });
    q.push(span(1));
    q.flush();
    assert.equal(q.stats.failed, 1);
    await q.shutdown();
  });

  test("shutdown sends what is left and waits for it, within its timeout", async () => {
    const { exporter, calls } = manualExporter();
    const q = new SpanQueue({ exporter, flushEveryMs: 60_000 });
    q.push(span(1));
    const done = q.shutdown(1000);
    await new Promise((r) => setImmediate(r));
    assert.equal(calls.length, 1);
    setTimeout(() => calls[0]!.done({ code: 0 }), 20);
    await done;
    assert.equal(q.stats.exported, 1);
    const stuck = manualExporter();
    const q2 = new SpanQueue({ exporter: stuck.exporter, flushEveryMs: 60_000 });
    q2.push(span(2));
    const t0 = performance.now();
    await q2.shutdown(50);
    assert.ok(performance.now() - t0 < 1000, "gives up after its timeout");
  });
});
