import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isCredentialHeader, pathWithoutQuery, TAP_REDACTED, tapHeaderValue, tapMatches, TapWatchInputSchema, tapWireFilter } from "./tap";

const facts = { sourceWorkload: "web-1", sourceNamespace: "shop", destinationService: "cart", destinationNamespace: "shop", path: "/cart/items", status: 503 };

describe("tap filter", () => {
  test("an empty filter matches everything; each field narrows", () => {
    assert.equal(tapMatches(tapWireFilter({}), facts), true);
    assert.equal(tapMatches(tapWireFilter({ sourceWorkload: "web-1", destinationService: "cart", pathPrefix: "/cart", statusMin: 500 }), facts), true);
    assert.equal(tapMatches(tapWireFilter({ sourceWorkload: "web-2" }), facts), false);
    assert.equal(tapMatches(tapWireFilter({ sourceNamespace: "prod" }), facts), false);
    assert.equal(tapMatches(tapWireFilter({ destinationService: "ratings" }), facts), false);
    assert.equal(tapMatches(tapWireFilter({ destinationNamespace: "prod" }), facts), false);
    assert.equal(tapMatches(tapWireFilter({ pathPrefix: "/carts" }), facts), false);
    assert.equal(tapMatches(tapWireFilter({ statusMax: 499 }), facts), false);
    assert.equal(tapMatches(tapWireFilter({ statusMin: 504 }), facts), false);
  });

  test("watch input: defaults, and refusals that name the field", () => {
    assert.deepEqual(TapWatchInputSchema.parse({}), { filter: {}, sampleRate: 1, maxPerSecond: 20 });
    const bad = TapWatchInputSchema.safeParse({ filter: { pathPrefix: "cart", statusMin: 500, statusMax: 400 }, sampleRate: 0, maxPerSecond: 10_000 });
    assert.equal(bad.success, false);
    const paths = bad.error!.issues.map((i) => i.path.join("."));
    for (const p of ["filter.pathPrefix", "sampleRate", "maxPerSecond"]) assert.ok(paths.includes(p), `${p} in ${paths.join(", ")}`);
    assert.equal(TapWatchInputSchema.safeParse({ filter: { statusMin: 500, statusMax: 400 } }).error?.issues[0]?.path.join("."), "filter.statusMin");
    assert.equal(TapWatchInputSchema.safeParse({ filter: { body: "x" } }).success, false, "unknown fields are refused");
  });
});

describe("tap redaction", () => {
  test("credential headers by name", () => {
    for (const h of ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "apikey", "x-auth-token", "x-access-token", "x-csrf-token", "x-amz-security-token", "x-session-id", "x-client-secret"]) assert.equal(isCredentialHeader(h), true, h);
    for (const h of ["user-agent", "accept", "content-type", "x-request-id", "traceparent", "host"]) assert.equal(isCredentialHeader(h), false, h);
    assert.equal(tapHeaderValue("authorization", "Bearer x"), TAP_REDACTED);
  });

  test("the query string and fragment are cut from paths and referers", () => {
    assert.equal(pathWithoutQuery("/a/b?token=1#x"), "/a/b");
    assert.equal(pathWithoutQuery("/a#x?y"), "/a");
    assert.equal(pathWithoutQuery("/a"), "/a");
    assert.equal(tapHeaderValue("referer", "https://x/p?code=secret"), "https://x/p");
  });
});
