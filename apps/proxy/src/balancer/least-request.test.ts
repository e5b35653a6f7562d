import assert from "node:assert/strict";
import { test } from "node:test";
import { fakeRequest, seededRandom } from "../filters/test-fakes";
import { LeastRequestBalancer } from "./least-request";
import { endpoints, tally } from "./test-endpoints";

const req = fakeRequest();

test("of the two drawn, the one with fewer requests in flight wins", () => {
  const eps = endpoints(2);
  eps[0]!.active = 5;
  const lb = new LeastRequestBalancer(seededRandom(1));
  for (let i = 0; i < 100; i++) assert.equal(lb.pick(eps, req), eps[1]);
});

test("a busy endpoint among many gets almost nothing: only when drawn with another as busy", () => {
  const eps = endpoints(10);
  eps[3]!.active = 50;
  const lb = new LeastRequestBalancer(seededRandom(2));
  const counts = tally(Array.from({ length: 10_000 }, () => lb.pick(eps, req)));
  assert.equal(counts["10.0.0.4:80"], undefined);
  assert.equal(Object.keys(counts).length, 9);
});

test("idle endpoints share in proportion to their weights", () => {
  const eps = endpoints(3, [1, 1, 2]);
  const lb = new LeastRequestBalancer(seededRandom(3));
  const counts = tally(Array.from({ length: 20_000 }, () => lb.pick(eps, req)));
  const share = counts["10.0.0.3:80"]! / 20_000;
  assert.ok(share > 0.47 && share < 0.53, `weight 2 of 4 should get ~50 % when idle, got ${share}`);
});

test("one endpoint or none", () => {
  const lb = new LeastRequestBalancer();
  const [only] = endpoints(1);
  assert.equal(lb.pick([only!], req), only);
  assert.equal(lb.pick([], req), undefined);
});
