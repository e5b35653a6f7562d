#!/usr/bin/env node
// Regenerates src/generated/ from proto/ with buf and the local ts-proto plugin (offline).
//   node scripts/generate.mjs            writes packages/proto/src/generated/
//   node scripts/generate.mjs --out DIR  writes DIR/src/generated/ instead (used by the up-to-date test)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The nearest node_modules/.bin (walking up from this package) that holds the ts-proto plugin. */
function pluginBinDir() {
  for (let dir = packageDir; ; dir = dirname(dir)) {
    const bin = join(dir, "node_modules", ".bin");
    if (existsSync(join(bin, "protoc-gen-ts_proto"))) return bin;
    if (dirname(dir) === dir) throw new Error("protoc-gen-ts_proto not found in any node_modules/.bin above packages/proto; run npm install");
  }
}

const outIndex = process.argv.indexOf("--out");
const outBase = outIndex >= 0 ? resolve(process.argv[outIndex + 1] ?? "") : undefined;
const bin = pluginBinDir();
const args = ["generate", ...(outBase ? ["--output", outBase] : [])];
const result = spawnSync(join(bin, "buf"), args, {
  cwd: packageDir,
  stdio: "inherit",
  env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
});
if (result.error) throw result.error;
process.exit(result.status ?? 1);
