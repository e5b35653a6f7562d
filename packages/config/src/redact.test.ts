import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { REDACTED, redactSecrets } from "./redact";

describe("redactSecrets", () => {
  test("secret-named fields and PEM private keys are redacted; configuration named like them is kept", () => {
    const out = redactSecrets({
      tls: { privateKey: "abc", private_key: { pem: "x" }, certChain: "-----BEGIN CERTIFICATE-----" },
      oidc: { clientSecret: "s3cr3t", accessToken: "eyJ", password: "pw" },
      limits: { maxTokens: 10, tokensPerFill: 1 },
      jwt: { forwardOriginalToken: true },
      when: [{ key: "request.auth.claims[groups]", values: ["admins"] }],
      somewhere: { blob: "prefix -----BEGIN RSA PRIVATE KEY----- tail" },
    });
    assert.deepEqual(out, {
      tls: { privateKey: REDACTED, private_key: REDACTED, certChain: "-----BEGIN CERTIFICATE-----" },
      oidc: { clientSecret: REDACTED, accessToken: REDACTED, password: REDACTED },
      limits: { maxTokens: 10, tokensPerFill: 1 },
      jwt: { forwardOriginalToken: true },
      when: [{ key: "request.auth.claims[groups]", values: ["admins"] }],
      somewhere: { blob: REDACTED },
    });
  });

  test("what JSON.stringify would choke on becomes printable", () => {
    const cyclic: Record<string, unknown> = { n: 1n, f: () => 1, d: new Date(0), bytes: Buffer.from("key"), inf: Infinity, m: new Map([["a", 1]]) };
    cyclic.self = cyclic;
    const shared = { x: 1 };
    const out = redactSecrets({ cyclic, a: shared, b: shared });
    assert.doesNotThrow(() => JSON.stringify(out));
    assert.deepEqual(out, {
      cyclic: { n: "1", d: "1970-01-01T00:00:00.000Z", bytes: "[3 bytes]", inf: null, m: { a: 1 }, self: "[circular]" },
      a: { x: 1 },
      b: { x: 1 },
    });
  });
});
