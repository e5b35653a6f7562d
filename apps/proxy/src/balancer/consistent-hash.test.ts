import assert from "node:assert/strict";
import { test } from "node:test";
import { fakeRequest } from "../filters/test-fakes";
import { ConsistentHashBalancer } from "./consistent-hash";
import type { EndpointState } from "./endpoint-state";
import { endpoints, tally } from "./test-endpoints";

const byUser = (user: string) => fakeRequest({ headers: { "x-user": user } });
const users = Array.from({ length: 2000 }, (_, i) => `user-${i}`);

test("the same header value always reaches the same endpoint", () => {
  const eps = endpoints(5);
  const lb = new ConsistentHashBalancer("x-user");
  for (const u of users.slice(0, 50)) {
    const first = lb.pick(eps, byUser(u));
    for (let i = 0; i < 3; i++) assert.equal(lb.pick(eps, byUser(u)), first);
  }
});

test("values spread over the endpoints", () => {
  const eps = endpoints(5);
  const lb = new ConsistentHashBalancer("x-user");
  const counts = Object.values(tally(users.map((u) => lb.pick(eps, byUser(u)))));
  assert.equal(counts.length, 5);
  for (const c of counts) assert.ok(c > 250 && c < 550, `each of 5 should get ~400 of 2000, got ${counts.join(", ")}`);
});

test("when an endpoint leaves, only its values move", () => {
  const eps = endpoints(8);
  const lb = new ConsistentHashBalancer("x-user");
  const before = new Map<string, EndpointState>(users.map((u) => [u, lb.pick(eps, byUser(u))!]));
  const gone = eps[5]!;
  const after = eps.filter((e) => e !== gone);
  let moved = 0;
  for (const u of users) {
    const now = lb.pick(after, byUser(u))!;
    assert.notEqual(now, gone);
    if (before.get(u) !== gone) assert.equal(now, before.get(u), `${u} moved though its endpoint stayed`);
    else moved++;
  }
  assert.ok(moved > 100, "the departed endpoint's values moved elsewhere");
  for (const u of users) assert.equal(lb.pick(eps, byUser(u)), before.get(u), "and come back when it returns");
});

test("a heavier endpoint owns a larger share of the ring", () => {
  const eps = endpoints(2, [1, 3]);
  const lb = new ConsistentHashBalancer("x-user");
  const heavy = tally(users.map((u) => lb.pick(eps, byUser(u))))["10.0.0.2:80"]! / users.length;
  assert.ok(heavy > 0.65 && heavy < 0.85, `weight 3 of 4 should own ~75 %, got ${heavy}`);
});

test("without the header, a weighted random endpoint", () => {
  const eps = endpoints(4);
  let draw = 0;
  const lb = new ConsistentHashBalancer("x-user", () => draw);
  draw = 0.1;
  assert.equal(lb.pick(eps, fakeRequest()), eps[0]);
  draw = 0.9;
  assert.equal(lb.pick(eps, fakeRequest()), eps[3]);
});
