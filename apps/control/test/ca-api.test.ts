import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { splitPem } from "../src/ca/certificate-authority";
import type { ControlPlane } from "../src/app";
import { errorOf, startTestControlPlane, type Api, type LogCapture } from "./helpers/control-plane";
import { tempDataDir } from "./helpers/pg";

// The mesh CA through the real API of a control plane on PGlite: the CA is created on first
// start with its key-encryption key in the data directory, and nothing secret comes back out.

describe("mesh CA API [pglite]", () => {
  let cp: ControlPlane;
  let api: Api;
  let log: LogCapture;
  let dataDir: string;
  let removeDir: () => Promise<void>;

  before(async () => {
    const dir = await tempDataDir();
    dataDir = dir.path;
    removeDir = dir.remove;
    // No TRELLIS_CA_KEK: the first start creates <data dir>/ca-kek.
    ({ cp, api, log } = await startTestControlPlane({ dataDir, caKek: null }));
  });
  after(async () => {
    await cp.close();
    await removeDir();
  });

  test("first start generates a root and keeps its key-encryption key in the data directory, readable by the owner only", async () => {
    const file = path.join(dataDir, "ca-kek");
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const bundle = await api.ca.bundle.query();
    assert.equal(bundle.trustDomain, "cluster.local");
    const roots = splitPem(bundle.pem);
    assert.equal(roots.length, 1);
    assert.ok(new X509Certificate(roots[0]!).ca);
    const [authority] = await api.ca.authorities.query();
    assert.equal(authority!.state, "active");
    assert.equal(authority!.fingerprint, new X509Certificate(roots[0]!).fingerprint256);
  });

  test("join tokens: the secret is returned once; listing, revoking and bad input", async () => {
    const created = await api.ca.joinTokens.create.mutate({ namespace: "bookinfo", service: "reviews", ttlHours: 2, description: "reviews v3 rollout" });
    assert.match(created.token, /^[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
    const secret = created.token.split(".")[1]!;
    const list = await api.ca.joinTokens.list.query();
    assert.equal(list.length, 1);
    assert.equal(list[0]!.id, created.info.id);
    assert.ok(!JSON.stringify(list).includes(secret));
    assert.deepEqual(await api.ca.joinTokens.revoke.mutate({ id: created.info.id }), { revoked: true });
    assert.ok((await api.ca.joinTokens.list.query())[0]!.revokedAt);
    const bad = await errorOf(api.ca.joinTokens.create.mutate({ namespace: "Book Info", ttlHours: 0 } as never));
    assert.equal(bad.code, "BAD_REQUEST");
    assert.deepEqual(bad.issues?.map((i) => i.path).sort(), ["namespace", "ttlHours"]);
  });

  test("root rotation through the API: two roots trusted during the overlap", async () => {
    const before = await api.ca.authorities.query();
    await api.ca.rotateRoot.mutate();
    assert.equal(splitPem((await api.ca.bundle.query()).pem).length, 2);
    const after = await api.ca.authorities.query();
    assert.deepEqual(after.map((a) => a.state), ["active", "retiring"]);
    assert.equal(after[1]!.fingerprint, before[0]!.fingerprint);
  });

  test("no API answer and no log line holds a private key, a sealed key or the key-encryption key", async () => {
    const kek = readFileSync(path.join(dataDir, "ca-kek"), "utf8").trim();
    const answers = JSON.stringify([await api.ca.bundle.query(), await api.ca.authorities.query(), await api.ca.joinTokens.list.query()]);
    const text = log.text();
    assert.ok(text.includes("generated a root"), "the CA's start is logged");
    for (const [what, s] of [["API answers", answers], ["logs", text]] as const) {
      assert.doesNotMatch(s, /PRIVATE KEY/, what);
      assert.doesNotMatch(s, /"v1\.[A-Za-z0-9_-]+\./, what);
      assert.ok(!s.includes(kek), `${what} hold the key-encryption key`);
    }
  });
});
