import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { createLogger } from "../core/log";
import { SnapshotFile } from "./snapshot-file";
import { snapshotFixture } from "./snapshot-fixture";

const root = await mkdtemp(path.join(tmpdir(), "trellis-snapshot-file-"));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;

function setup() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("debug", {}, (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const dir = path.join(root, `case-${n++}`, "nested");
  return { file: new SnapshotFile(dir, log), dir, lines };
}

describe("SnapshotFile", () => {
  test("nothing on disk: undefined, without a warning", async () => {
    const { file, lines } = setup();
    assert.equal(await file.read(), undefined);
    assert.deepEqual(lines.filter((l) => l.level !== "debug"), []);
  });

  test("writes atomically (creating the directory) and reads back the same snapshot", async () => {
    const { file, dir } = setup();
    const s = snapshotFixture();
    await file.write(JSON.stringify(s));
    assert.deepEqual(await file.read(), s);
    const s2 = snapshotFixture("fedcba9876543210", 2);
    await file.write(Buffer.from(JSON.stringify(s2)));
    assert.deepEqual(await file.read(), s2);
    assert.deepEqual(await readdir(dir), ["snapshot.json"], "no temporary file left behind");
  });

  test("overlapping writes land in call order", async () => {
    const { file } = setup();
    await Promise.all([1, 2, 3, 4].map((i) => file.write(JSON.stringify(snapshotFixture(`000000000000000${i}`, i)))));
    assert.equal((await file.read())?.version, "0000000000000004");
  });

  test("a corrupt file is ignored with a warning", async () => {
    const { file, lines } = setup();
    await file.write('{"version": "0123456789ab'); // truncated
    assert.equal(await file.read(), undefined);
    const warn = lines.find((l) => l.level === "warn");
    assert.match(String(warn?.msg), /ignoring the snapshot on disk/);
    assert.equal(warn?.path, file.path);
  });

  test("a file from an incompatible proxy version (valid JSON, wrong shape) is ignored with a warning naming the field", async () => {
    const { file, lines } = setup();
    await file.write(JSON.stringify({ ...snapshotFixture(), outbound: { clusters: [] } }));
    assert.equal(await file.read(), undefined);
    assert.match(String(lines.find((l) => l.level === "warn")?.error), /outbound/);
  });

  test("an unreadable path is a warning, not a crash", async () => {
    const { file, lines } = setup();
    await mkdir(file.path, { recursive: true }); // a directory where the file should be
    assert.equal(await file.read(), undefined);
    assert.match(String(lines.find((l) => l.level === "warn")?.msg), /cannot read the snapshot on disk/);
  });
});
