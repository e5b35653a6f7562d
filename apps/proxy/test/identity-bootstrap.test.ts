import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { eventually } from "./helpers/client";
import { applyResources, spawnControlPlane, trpcMutation, trpcQuery, waitForProxyStatus } from "./helpers/control-plane";
import type { ControlProcess } from "./helpers/control-plane";
import { createTestDatabase } from "./helpers/pg";
import type { TestDatabase } from "./helpers/pg";
import { spawnProxy } from "./helpers/proxy-process";
import type { ProxyProcess } from "./helpers/proxy-process";

// A trellis-proxy process bootstraps its identity from a join token against a real control
// plane process: key made locally, certificate over the TLS port, then the config stream over
// mTLS with that certificate; restarted, it reuses the stored certificate without a token.

const svc = (name: string) => ({ kind: "Service", metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }] } });

interface Dump {
  identity: { spiffeId: string; notBefore: string; notAfter: string; trustedRoots: number } | null;
  version: string | null;
  snapshot: { trust?: { trustDomain: string; bundlePem: string } } | null;
}

describe("proxy identity bootstrap with a join token", () => {
  let db: TestDatabase;
  let cp: ControlProcess;
  const dir = mkdtempSync(path.join(tmpdir(), "trellis-identity-"));
  const bundleFile = path.join(dir, "ca.pem");
  const running: ProxyProcess[] = [];
  const proxy = async (args: string[]) => {
    const p = await spawnProxy(["--service", "reviews", "--namespace", "default", "--app-port", "1", "--ca-bundle", bundleFile, "--control-plane", cp.grpcTlsTarget, ...args]);
    running.push(p);
    return p;
  };
  const dump = async (p: ProxyProcess) => (await (await fetch(`http://127.0.0.1:${p.admin}/config_dump`)).json()) as Dump;

  before(async () => {
    db = await createTestDatabase();
    cp = await spawnControlPlane({ DATABASE_URL: db.url });
    await applyResources(cp.api, [svc("reviews")], "identity test");
    writeFileSync(bundleFile, (await trpcQuery<{ pem: string }>(cp.api, "ca.bundle")).pem);
  });
  after(async () => {
    for (const p of running) await p.stop();
    await cp?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("joins with a token, streams its config over mTLS, keeps its key to itself, and restarts without the token", async () => {
    const { token } = await trpcMutation<{ token: string }>(cp.api, "ca.joinTokens.create", { namespace: "default", service: "reviews" });
    const data = path.join(dir, "reviews-1");
    const first = await proxy(["--workload", "reviews-1", "--join-token", token, "--data-dir", data]);
    await waitForProxyStatus(cp.api, "default/reviews-1", (s) => s.state === "SYNCED");
    const d = await eventually("the identity in /config_dump", async () => ((await dump(first)).identity ? dump(first) : undefined));
    assert.equal(d.identity!.spiffeId, "spiffe://cluster.local/ns/default/sa/reviews");
    assert.ok(Date.parse(d.identity!.notAfter) - Date.now() > 23 * 3_600_000);
    // The key stays in the data directory, owner-only; the certificate there is for that key's identity.
    const key = path.join(data, "identity", "key.pem");
    assert.equal(statSync(key).mode & 0o777, 0o600);
    const cert = new X509Certificate(readFileSync(path.join(data, "identity", "cert.pem")));
    assert.ok(cert.checkPrivateKey((await import("node:crypto")).createPrivateKey(readFileSync(key))));
    assert.ok(!first.stderr().includes(token.split(".")[1]!), "the token's secret is not logged");
    const tokens = await trpcQuery<{ uses: number }[]>(cp.api, "ca.joinTokens.list");
    assert.equal(tokens[0]!.uses, 1);

    await first.stop();
    // Restarted without a token: the stored certificate is enough (the token is not used again).
    const again = await proxy(["--workload", "reviews-1", "--data-dir", data]);
    await eventually("the restarted proxy to sync", async () => ((await dump(again)).version ? true : undefined));
    assert.equal((await dump(again)).identity!.spiffeId, "spiffe://cluster.local/ns/default/sa/reviews");
    assert.equal((await trpcQuery<{ uses: number }[]>(cp.api, "ca.joinTokens.list"))[0]!.uses, 1);

    // A root rotation reaches the proxy in its next snapshot: both roots trusted through the overlap.
    const before = (await dump(again)).version;
    await trpcMutation(cp.api, "ca.rotateRoot", undefined);
    const rotated = await eventually("the rotated bundle in the proxy's snapshot", async () => {
      const d2 = await dump(again);
      return d2.version !== before && d2.identity?.trustedRoots === 2 ? d2 : undefined;
    });
    assert.equal(rotated.snapshot!.trust!.bundlePem.split("BEGIN CERTIFICATE").length - 1, 2);
    assert.equal(readFileSync(path.join(data, "identity", "bundle.pem"), "utf8"), rotated.snapshot!.trust!.bundlePem, "kept for the next start");
  });

  it("short-lived certificates: the proxy and the control plane renew at half-life while the config stream stays up", async () => {
    // A control plane of its own whose certificates last 18 s: both sides renew within ~9 s.
    const db2 = await createTestDatabase();
    const cp2 = await spawnControlPlane({ DATABASE_URL: db2.url, TRELLIS_WORKLOAD_CERT_TTL_HOURS: "0.005" });
    try {
      await applyResources(cp2.api, [svc("reviews")], "renewal test");
      const bundle2 = path.join(dir, "ca2.pem");
      writeFileSync(bundle2, (await trpcQuery<{ pem: string }>(cp2.api, "ca.bundle")).pem);
      const { token } = await trpcMutation<{ token: string }>(cp2.api, "ca.joinTokens.create", { namespace: "default", service: "reviews" });
      const p = await spawnProxy(["--service", "reviews", "--namespace", "default", "--app-port", "1", "--workload", "reviews-r", "--ca-bundle", bundle2, "--control-plane", cp2.grpcTlsTarget, "--join-token", token, "--data-dir", path.join(dir, "reviews-r")]);
      running.push(p);
      await waitForProxyStatus(cp2.api, "default/reviews-r", (s) => s.state === "SYNCED");
      const firstEnd = (await dump(p)).identity!.notAfter;
      const renewed = await eventually("two renewals", async () => {
        const d = (await (await fetch(`http://127.0.0.1:${p.admin}/config_dump`)).json()) as { identity: { renewals: number; notAfter: string } };
        return d.identity.renewals >= 2 && Date.now() > Date.parse(firstEnd) + 1000 ? d.identity : undefined;
      }, 40_000, 500);
      assert.ok(Date.parse(renewed.notAfter) > Date.parse(firstEnd));
      assert.ok(Date.now() > Date.parse(firstEnd), "the first certificate has expired by now");
      const stats = (await (await fetch(`http://127.0.0.1:${p.admin}/stats?format=json`)).json()) as Record<string, number>;
      assert.equal(stats["control_plane.connected"], 1);
      assert.equal(stats["control_plane.reconnects"], 0, "the config stream never dropped through the renewals");
      assert.ok(cp2.stderr().split("control plane certificate issued").length - 1 >= 2, "the control plane renewed its own certificate too");
    } finally {
      await cp2.stop();
      await db2.drop();
    }
  });

  it("a proxy with no stored certificate and no token, or a token for another service, does not start", async () => {
    await assert.rejects(proxy(["--workload", "reviews-2", "--data-dir", path.join(dir, "reviews-2")]), /no valid certificate in .* and no join token/);
    const { token } = await trpcMutation<{ token: string }>(cp.api, "ca.joinTokens.create", { namespace: "default", service: "ratings" });
    await assert.rejects(proxy(["--workload", "reviews-3", "--join-token", token, "--data-dir", path.join(dir, "reviews-3")]), /is for default\/ratings, not default\/reviews/);
  });
});
