import assert from "node:assert/strict";
import { test } from "node:test";
import { bundleSections, fileOf, sectionOf, summarizeProfile } from "./profile-summary";
import type { CpuProfile } from "./profile-summary";

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });

const PROFILE: CpuProfile = {
  startTime: 0,
  endTime: 10_000,
  nodes: [
    { id: 1, callFrame: frame("(root)", "") },
    { id: 2, callFrame: frame("(idle)", "") },
    { id: 3, callFrame: frame("logRequest", "file:///work/main/apps/proxy/src/telemetry/access-log.ts", 66) },
    { id: 4, callFrame: frame("(garbage collector)", "") },
    { id: 5, callFrame: frame("request", "file:///work/main/node_modules/undici/lib/dispatcher/pool.js", 9) },
    { id: 6, callFrame: frame("", "node:internal/streams/readable", 99) },
  ],
  // Each delta is the time until the next sample, spent in the previous sample's frame.
  samples: [2, 3, 3, 4, 5, 6, 2, 2],
  timeDeltas: [0, 1000, 2000, 1000, 500, 500, 500, 4000],
};

test("self time comes from the sample deltas; idle time is out of the shares", () => {
  const s = summarizeProfile(PROFILE);
  // idle: 1000 (after sample 0) + 4000 (after sample 6); busy: 2000 + 1000 + 500 + 500 + 500 = 4.5 ms
  assert.equal(s.busyMs, 4.5);
  assert.deepEqual(s.byFunction[0], { name: "logRequest apps/proxy/src/telemetry/access-log.ts:67", selfMs: 3, pct: (100 * 3) / 4.5 });
  assert.deepEqual(
    s.byFile.map((h) => h.name),
    ["apps/proxy/src/telemetry/access-log.ts", "(garbage collector)", "undici", "node:internal/streams/readable"],
  );
  assert.equal(s.byFunction.find((h) => h.name.startsWith("(anonymous)"))?.name, "(anonymous) node:internal/streams/readable:100");
});

test("without samples, hit counts are spread over the profile's duration", () => {
  const s = summarizeProfile({ startTime: 0, endTime: 4000, nodes: [{ id: 1, callFrame: frame("a", "file:///x/apps/proxy/dist/main.mjs"), hitCount: 3 }, { id: 2, callFrame: frame("(idle)", ""), hitCount: 1 }] });
  assert.equal(s.busyMs, 3);
  assert.equal(s.byFile[0]?.name, "apps/proxy/dist/main.mjs");
});

test("fileOf names packages in node_modules, scoped ones with their scope", () => {
  assert.equal(fileOf("file:///r/node_modules/@grpc/grpc-js/build/src/call.js"), "@grpc/grpc-js");
  assert.equal(fileOf("file:///r/node_modules/prom-client/lib/histogram.js"), "prom-client");
  assert.equal(fileOf("node:http"), "node:http");
  assert.equal(fileOf(""), "(native)");
});

test("functions in an esbuild bundle are named by the source file of their section", () => {
  const bundle = ["import x from 'y';", "// apps/proxy/src/args.ts", "function parse() {}", "// packages/config/src/common.ts", "const a = 1;", "function schema() {}"].join("\n");
  const sections = bundleSections(bundle);
  assert.deepEqual(sections, [
    { line: 1, file: "apps/proxy/src/args.ts" },
    { line: 3, file: "packages/config/src/common.ts" },
  ]);
  assert.equal(sectionOf(sections, 0), undefined);
  assert.equal(sectionOf(sections, 2), "apps/proxy/src/args.ts");
  assert.equal(sectionOf(sections, 5), "packages/config/src/common.ts");
  const url = "file:///r/apps/proxy/dist/main.mjs";
  const s = summarizeProfile({ startTime: 0, endTime: 2, nodes: [{ id: 1, callFrame: frame("schema", url, 5), hitCount: 2 }] }, 5, new Map([[url, sections]]));
  assert.equal(s.byFunction[0]?.name, "schema packages/config/src/common.ts (main.mjs:6)");
  assert.equal(s.byFile[0]?.name, "packages/config/src/common.ts");
});
