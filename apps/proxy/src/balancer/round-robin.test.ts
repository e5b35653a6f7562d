import assert from "node:assert/strict";
import { test } from "node:test";
import { fakeRequest } from "../filters/test-fakes";
import { RoundRobinBalancer } from "./round-robin";
import { endpoints, tally } from "./test-endpoints";

const req = fakeRequest();

test("equal weights rotate", () => {
  const eps = endpoints(3);
  const lb = new RoundRobinBalancer();
  const order = Array.from({ length: 6 }, () => lb.pick(eps, req)!.key);
  assert.deepEqual(order, ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]);
});

test("weights 5:1:1 are interleaved smoothly, not sent in bursts", () => {
  const eps = endpoints(3, [5, 1, 1]);
  const lb = new RoundRobinBalancer();
  const order = Array.from({ length: 7 }, () => lb.pick(eps, req)!.key.slice(7, 8));
  assert.deepEqual(order.join(""), "1121311");
});

test("weights hold over many picks, and an endpoint that drops out rejoins the rotation", () => {
  const eps = endpoints(3, [3, 2, 1]);
  const lb = new RoundRobinBalancer();
  assert.deepEqual(tally(Array.from({ length: 600 }, () => lb.pick(eps, req))), { "10.0.0.1:80": 300, "10.0.0.2:80": 200, "10.0.0.3:80": 100 });
  const without = [eps[0]!, eps[2]!];
  assert.deepEqual(tally(Array.from({ length: 40 }, () => lb.pick(without, req))), { "10.0.0.1:80": 30, "10.0.0.3:80": 10 });
  assert.deepEqual(tally(Array.from({ length: 600 }, () => lb.pick(eps, req))), { "10.0.0.1:80": 300, "10.0.0.2:80": 200, "10.0.0.3:80": 100 });
});

test("nothing to pick from: undefined", () => {
  assert.equal(new RoundRobinBalancer().pick([], req), undefined);
});
