#!/usr/bin/env node
// Runs every test suite with Node's own test runner: unit tests next to the code
// (`*.test.ts` under packages/*/src and apps/*/src) and integration tests under apps/*/test.
// Integration suites need the PostgreSQL server on 127.0.0.1:5432 (see .ci/run).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const roots = ["packages", "apps", "bench"];
const skip = new Set(["node_modules", "generated", ".next", ".data"]);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.ts")) out.push(path.relative(root, p));
  }
  return out;
}

const filter = process.argv.slice(2);
let files = roots.filter((r) => existsSync(path.join(root, r))).flatMap((r) => walk(path.join(root, r), [])).sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files], { cwd: root, stdio: "inherit" });
process.exit(result.status ?? 1);
