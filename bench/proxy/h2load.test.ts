import assert from "node:assert/strict";
import { test } from "node:test";
import { parseH2load } from "./h2load";

const REPORT = `Application protocol: h2c
finished in 2.00s, 66282.50 req/s, 69.09MB/s
requests: 132565 total, 132665 started, 132565 done, 132565 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 132565 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 138.18MB (144894035) total, 6.45MB (6760815) headers (space savings 49.50%), 129.46MB (135746560) data
`;

test("parseH2load reads the rate and counts only succeeded requests", () => {
  assert.deepEqual(parseH2load(REPORT), { requests: 132565, durationS: 2, rps: 66282.5, errors: 0 });
});

test("parseH2load counts failures and non-2xx statuses as errors", () => {
  const bad = REPORT.replace("132565 succeeded, 0 failed, 0 errored, 0 timeout", "132500 succeeded, 60 failed, 5 errored, 0 timeout").replace("132565 2xx, 0 3xx, 0 4xx, 0 5xx", "132500 2xx, 0 3xx, 0 4xx, 65 5xx");
  assert.equal(parseH2load(bad).errors, 130);
  assert.throws(() => parseH2load("No protocol negotiated. Aborting."), /unexpected h2load output/);
});
