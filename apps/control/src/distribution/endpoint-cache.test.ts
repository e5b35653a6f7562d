import assert from "node:assert/strict";
import { test } from "node:test";
import type { Endpoint } from "@trellis/config";
import { EndpointCache } from "./endpoint-cache";

test("EndpointCache re-reads only when marked stale or too old, and after a failed read", async () => {
  let reads = 0;
  let fail = false;
  const registry = {
    list: async (): Promise<Endpoint[]> => {
      reads++;
      if (fail) throw new Error("database down");
      return [];
    },
  };
  const cache = new EndpointCache(registry, 60_000);
  await cache.get();
  await cache.get();
  assert.equal(reads, 1, "a config-only change reuses the list");
  cache.markStale();
  fail = true;
  await assert.rejects(cache.get());
  fail = false;
  await cache.get();
  assert.equal(reads, 3, "a failed read leaves the cache stale");
  await cache.get();
  assert.equal(reads, 3);
  const old = new EndpointCache(registry, 0);
  await old.get();
  await old.get();
  assert.equal(reads, 5, "a list older than maxAgeMs is re-read");
});
