import assert from "node:assert/strict";
import { test } from "node:test";
import { parseExpression } from "../src/lib/graph-filter";
import type { Measured } from "../src/lib/graph-filter";

const m = (over: Partial<Measured>): Measured => ({ name: "reviews", rps: 12, errorRate: 0.08, p50: 10, p95: 250, p99: 900, mtlsShare: 1, health: "degraded", ...over });
const holds = (expr: string, x: Measured) => {
  const r = parseExpression(expr);
  assert.ok(r.test, `${expr}: ${r.error}`);
  return r.test(x);
};

test("find/hide terms: rates, error percentages, latency units, mTLS, health, names; all terms must hold", () => {
  assert.equal(holds("rps>10", m({})), true);
  assert.equal(holds("rps>10", m({ rps: 9.9 })), false);
  assert.equal(holds("rps<=1", m({ rps: 1 })), true);
  assert.equal(holds("errors>5%", m({})), true);
  assert.equal(holds("errors>5%", m({ errorRate: 0.05 })), false);
  assert.equal(holds("p95>200ms", m({})), true);
  assert.equal(holds("p99>1s", m({})), false);
  assert.equal(holds("p99>0.5s", m({})), true);
  assert.equal(holds("mtls", m({})), true);
  assert.equal(holds("!mtls", m({ mtlsShare: 0 })), true);
  assert.equal(holds("unhealthy", m({})), true);
  assert.equal(holds("unhealthy", m({ health: "healthy" })), false);
  assert.equal(holds("name=rev*", m({})), true);
  assert.equal(holds("name=*tings", m({ name: "ratings" })), true);
  assert.equal(holds("name=rev*", m({ name: "details" })), false);
  assert.equal(holds("rps>10 name=det*", m({})), false, "every term must hold");
  assert.equal(holds("p95>100ms", m({ p95: null })), false, "no traffic never matches a threshold");
  assert.equal(parseExpression("  ").test, undefined);
});

test("a bad term is named, with the forms that work", () => {
  assert.match(parseExpression("rps>10 latency>3").error!, /unknown term 'latency>3'; use rps>10/);
  assert.match(parseExpression("errors>5ms").error!, /'errors>5ms': errors are a percentage/);
  assert.match(parseExpression("p95>5%").error!, /latency is in ms or s/);
});
