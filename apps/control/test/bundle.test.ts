import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDataDir } from "./helpers/pg";

// The production bundle (scripts/build-control.mjs → apps/control/dist/main.mjs) builds and
// runs without a TypeScript loader: it finds the migrations, opens the embedded database and
// serves the API.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

test("the control-plane bundle builds, starts on plain node and answers /readyz", async () => {
  const build = spawnSync(process.execPath, ["scripts/build-control.mjs"], { cwd: repoRoot, encoding: "utf8" });
  assert.equal(build.status, 0, build.stderr);
  const dir = await tempDataDir();
  const child = spawn(process.execPath, [path.join(repoRoot, "apps/control/dist/main.mjs")], {
    cwd: "/", // the bundle must not depend on the working directory
    env: { PATH: process.env.PATH ?? "", TRELLIS_DATA_DIR: dir.path, TRELLIS_API_PORT: "0", TRELLIS_GRPC_PORT: "0", TRELLIS_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.setEncoding("utf8");
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.stdout.on("data", (d: string) => {
        out += d;
        if (out.includes("\n")) resolve(out.split("\n")[0]!);
      });
      child.once("exit", (code) => reject(new Error(`bundle exited with ${code}: ${err}`)));
      setTimeout(() => reject(new Error(`bundle did not start in 60 s: ${err}`)), 60_000);
    });
    const { api, database } = JSON.parse(line) as { api: string; database: string };
    assert.equal(database, "pglite");
    const res = await fetch(`${api}/readyz`);
    assert.equal(res.status, 200);
    const head = (await (await fetch(`${api}/trpc/revisions.head`)).json()) as { result: { data: number } };
    assert.equal(head.result.data, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    await dir.remove();
  }
});
