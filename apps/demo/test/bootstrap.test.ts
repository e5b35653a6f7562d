import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { spawnControlPlane } from "../../control/test/helpers/process";
import type { ControlProcess } from "../../control/test/helpers/process";
import { TEST_ADMIN_PASSWORD } from "../../control/test/helpers/test-auth";
import { DemoApi } from "../src/demo-api";
import { WORKLOADS } from "../src/resources";

// The compose file's one-shot `bootstrap` job, run as a process against a real control plane
// (docker-compose itself cannot run here): it seeds the demo's config once, writes the trust
// bundle, a join token per workload and the JWT key; a second run reconciles without a new
// revision when nothing changed.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

describe("trellis-demo-bootstrap (docker-compose's bootstrap job)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "trellis-bootstrap-"));
  let cp: ControlProcess;
  const run = () =>
    spawnSync(process.execPath, ["--import", "tsx", "apps/demo/src/bootstrap.ts"], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? "", TRELLIS_API: cp.api, TRELLIS_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD, BOOTSTRAP_DIR: path.join(dir, "bootstrap"), DEMO_INGRESS_PORT: "8080", DEMO_BOOKSTORE_ADDRESS: "bookstore", DEMO_BOOKSTORE_PORT: "8080" },
    });

  before(async () => {
    cp = await spawnControlPlane({ TRELLIS_DATA_DIR: path.join(dir, "control"), TRELLIS_LOG_LEVEL: "warn" });
  });
  after(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("seeds the config, writes the bundle, one 0600 join token per workload and the JWT key; a rerun changes nothing", async () => {
    const first = run();
    assert.equal(first.status, 0, first.stderr + first.stdout);
    const b = path.join(dir, "bootstrap");
    assert.ok(new X509Certificate(readFileSync(path.join(b, "ca-bundle.pem"))).ca);
    for (const w of WORKLOADS) {
      const f = path.join(b, "tokens", w.workload);
      assert.match(readFileSync(f, "utf8").trim(), /^[0-9a-f]{16}\.[A-Za-z0-9_-]+$/, w.workload);
      assert.equal(statSync(f).mode & 0o777, 0o600);
    }
    assert.ok(JSON.parse(readFileSync(path.join(b, "jwt-key.json"), "utf8")).privateJwk.d, "the signing key for the load generator");
    const api = await DemoApi.signIn(cp.api, "admin", TEST_ADMIN_PASSWORD);
    assert.equal(await api.query<number>("revisions.head"), 1);
    const entry = await api.query<{ spec: { endpoints: Array<{ address: string; ports: Record<string, number> }> } }>("resources.get", { kind: "ServiceEntry", namespace: "bookinfo", name: "bookstore" });
    assert.deepEqual(entry.spec.endpoints[0], { address: "bookstore", ports: { http: 8080 } });
    const again = run();
    assert.equal(again.status, 0, again.stderr);
    assert.equal(await api.query<number>("revisions.head"), 1, "nothing changed, no new revision");
  });
});
