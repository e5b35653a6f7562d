import assert from "node:assert/strict";
import { test } from "node:test";
import { Pool, request } from "./undici";

test("the Pool and request API loaded from undici's own module files are the ones its index exports", async () => {
  const undici = await import("undici");
  assert.equal(Pool, undici.Pool);
  // The index mixes the API into Dispatcher.prototype; request is that function.
  assert.equal(request, (undici.Dispatcher.prototype as unknown as { request: unknown }).request);
});
