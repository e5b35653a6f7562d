import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { followKnobsFile } from "./knobs";

test("a knobs file switches problems on and off while the app runs; a bad one is ignored with the reason", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "knobs-"));
  const file = path.join(dir, "reviews-v3.json");
  const knobs = { latencyMs: 5, jitterMs: 0, failureRate: 0 };
  const reports: string[] = [];
  const read = (f: string) => {
    try {
      return readFileSync(f, "utf8");
    } catch {
      return undefined;
    }
  };
  const stop = followKnobsFile(file, knobs, read, (m) => reports.push(m));
  const settle = () => new Promise((r) => setTimeout(r, 1300));
  try {
    writeFileSync(file, JSON.stringify({ failureRate: 0.5 }));
    await settle();
    assert.deepEqual(knobs, { latencyMs: 5, jitterMs: 0, failureRate: 0.5 });
    writeFileSync(file, JSON.stringify({ failureRate: 2 }));
    await settle();
    assert.equal(knobs.failureRate, 0.5, "out of range: kept");
    assert.match(reports.at(-1)!, /ignored: --failure-rate .* expected a number from 0 to 1, got '2'/);
    writeFileSync(file, JSON.stringify({ failureRat: 1 }));
    await settle();
    assert.match(reports.at(-1)!, /unknown knob failureRat/);
    rmSync(file);
    await settle();
    assert.deepEqual(knobs, { latencyMs: 5, jitterMs: 0, failureRate: 0 }, "gone: back to the start-up knobs");
  } finally {
    stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
