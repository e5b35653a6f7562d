import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { findJemalloc } from "../src/allocator";
import { tempDataDir } from "./helpers/pg";
import { sessionFor } from "./helpers/test-auth";
import { spawnControlPlane } from "./helpers/process";

// The production bundle (scripts/build-control.mjs → apps/control/dist/main.mjs) builds and
// runs without a TypeScript loader: it finds the migrations, opens the embedded database and
// serves the API, whatever the working directory.

test("the control-plane bundle builds, starts on plain node and answers /readyz", async () => {
  const dir = await tempDataDir();
  const cp = await spawnControlPlane({ TRELLIS_DATA_DIR: dir.path, TRELLIS_LOG_LEVEL: "warn" }, { runtime: "bundle", cwd: "/" });
  // …and without them, it says what it misses and how to start it.
  const bareDir = await tempDataDir();
  const bare = await spawnControlPlane({ TRELLIS_DATA_DIR: bareDir.path, TRELLIS_LOG_LEVEL: "warn", NODE_OPTIONS: "" }, { runtime: "bundle", cwd: "/", withoutProductionFlags: true });
  await bare.stop();
  await bareDir.remove();
  try {
    assert.match(bare.stderr(), /started without the control plane's node flags.*--max-semi-space-size=8/);
    assert.match(bare.stderr(), /started on the system malloc.*MALLOC_CONF=narenas:1/);
    assert.equal(cp.database, "pglite");
    const res = await fetch(`${cp.api}/readyz`);
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${cp.api}/trpc/revisions.head`)).status, 401, "anonymous callers are refused");
    const head = (await (await fetch(`${cp.api}/trpc/revisions.head`, { headers: { ...(await sessionFor(cp.api)) } })).json()) as { result: { data: number } };
    assert.equal(head.result.data, 0);
    // Started as production starts it (CONTROL_PLANE_NODE_FLAGS), it has nothing to warn about its heap.
    assert.doesNotMatch(cp.stderr(), /node flags|system malloc/);
    // …and on jemalloc (allocator.ts; CI installs Debian's libjemalloc2, as the image does).
    assert.ok(findJemalloc(), "libjemalloc2 is installed (apt-get install libjemalloc2)");
    assert.match(readFileSync(`/proc/${cp.pid}/maps`, "utf8"), /libjemalloc\.so\.2/);
  } finally {
    await cp.stop();
    await dir.remove();
  }
});
