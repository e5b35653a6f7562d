import assert from "node:assert/strict";
import { test } from "node:test";
import { parseWrk } from "./wrk";

const REPORT = `Running 2s test @ http://127.0.0.1:18081/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   766.56us    2.17ms  40.87ms   97.46%
    Req/Sec    75.39k    10.48k   83.25k    90.00%
  Latency Distribution
     50%  456.00us
     75%  502.00us
     90%  577.00us
     99%   10.86ms
  150010 requests in 2.00s, 167.95MB read
Requests/sec:  74921.91
Transfer/sec:     83.88MB
`;

test("parseWrk reads throughput, the latency distribution in ms whatever the unit, and no errors", () => {
  const r = parseWrk(REPORT);
  assert.equal(r.requests, 150010);
  assert.equal(r.durationS, 2);
  assert.equal(r.rps, 74921.91);
  assert.ok(Math.abs(r.latencyMs.p50 - 0.456) < 1e-9);
  assert.ok(Math.abs(r.latencyMs.p90 - 0.577) < 1e-9);
  assert.equal(r.latencyMs.p99, 10.86);
  assert.equal(r.errors, 0);
});

test("parseWrk counts non-2xx answers and socket errors, and refuses output without figures", () => {
  const withErrors = REPORT.replace("Requests/sec", "  Socket errors: connect 0, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 7\nRequests/sec").replace("99%   10.86ms", "99%    1.20s");
  const r = parseWrk(withErrors);
  assert.equal(r.errors, 12);
  assert.equal(r.latencyMs.p99, 1200);
  assert.throws(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused"), /unexpected wrk output/);
});
