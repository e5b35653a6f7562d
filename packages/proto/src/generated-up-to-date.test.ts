import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

// Regenerates the TypeScript from the .proto files into a temporary directory (buf with the
// local ts-proto plugin: no network) and compares it with the checked-in src/generated/.

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tmp = mkdtempSync(join(tmpdir(), "trellis-proto-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

test("checked-in generated code matches the .proto files (run `npm run proto:generate` if not)", () => {
  const run = spawnSync(process.execPath, [join(packageDir, "scripts", "generate.mjs"), "--out", tmp], { encoding: "utf8" });
  assert.equal(run.status, 0, `generate failed: ${run.stderr}`);
  const fresh = files(join(tmp, "src", "generated"));
  const checkedIn = files(join(packageDir, "src", "generated"));
  assert.deepEqual([...checkedIn.keys()].sort(), [...fresh.keys()].sort(), "generated file set differs");
  for (const [path, text] of fresh) assert.ok(checkedIn.get(path) === text, `src/generated/${path} is out of date; run npm run proto:generate`);
});

test("the .proto files pass buf lint", () => {
  const buf = join(packageDir, "..", "..", "node_modules", ".bin", "buf");
  const run = spawnSync(buf, ["lint"], { cwd: packageDir, encoding: "utf8" });
  assert.equal(run.status, 0, `buf lint: ${run.stdout}${run.stderr}`);
});
