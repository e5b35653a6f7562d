import assert from "node:assert/strict";
import { test } from "node:test";
import { fakeRequest, seededRandom } from "../filters/test-fakes";
import { RandomBalancer, weightedIndex } from "./random";
import { endpoints, tally } from "./test-endpoints";

test("weightedIndex maps the draw onto cumulative weights, skipping the excluded one", () => {
  const eps = endpoints(3, [1, 2, 1]); // cumulative 1, 3, 4
  assert.deepEqual([0, 0.24, 0.25, 0.74, 0.75, 0.999].map((d) => weightedIndex(eps, () => d)), [0, 0, 1, 1, 2, 2]);
  assert.deepEqual([0, 0.49, 0.5].map((d) => weightedIndex(eps, () => d, 1)), [0, 0, 2]);
  assert.equal(weightedIndex([], () => 0.5), -1);
  assert.equal(weightedIndex(endpoints(1), () => 0.5, 0), -1);
});

test("picks follow the weights", () => {
  const lb = new RandomBalancer(seededRandom(7));
  const counts = tally(Array.from({ length: 20_000 }, () => lb.pick(endpoints(2, [1, 3]).map((e) => e), fakeRequest())));
  const share = counts["10.0.0.2:80"]! / 20_000;
  assert.ok(share > 0.73 && share < 0.77, `weight 3 of 4 should get ~75 %, got ${share}`);
});
