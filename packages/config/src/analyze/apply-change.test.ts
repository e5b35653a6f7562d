import assert from "node:assert/strict";
import { test } from "node:test";
import { resourceKey } from "../resource";
import { applyChange } from "./apply-change";
import { bookinfo, get, parse } from "./test-fixtures";

test("applyChange replaces in place, appends new resources and removes deleted keys", () => {
  const current = bookinfo();
  const edited = get(current, "Route/bookinfo/reviews");
  edited.spec.http[1].timeout = "5s";
  const [replaced, added] = parse(edited, { kind: "Service", metadata: { name: "new", namespace: "bookinfo" }, spec: { ports: [{ name: "http", port: 80, protocol: "http" }] } });
  const next = applyChange(current, [replaced!, added!], ["Gateway/bookinfo/bookinfo-gateway"]);
  const keys = next.map(resourceKey);
  assert.equal(next.length, current.length);
  assert.equal(keys.indexOf("Route/bookinfo/reviews"), current.map(resourceKey).indexOf("Route/bookinfo/reviews"));
  assert.equal(next.find((r) => resourceKey(r) === "Route/bookinfo/reviews"), replaced);
  assert.equal(keys.at(-1), "Service/bookinfo/new");
  assert.ok(!keys.includes("Gateway/bookinfo/bookinfo-gateway"));
  assert.equal(current.length, bookinfo().length, "the input is not mutated");
});

test("a resource both upserted and deleted ends up deleted", () => {
  const [svc] = parse({ kind: "Service", metadata: { name: "new", namespace: "bookinfo" }, spec: { ports: [{ name: "http", port: 80, protocol: "http" }] } });
  assert.deepEqual(applyChange([], [svc!], ["Service/bookinfo/new"]), []);
});
