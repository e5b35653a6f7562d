import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { CounterFamily, HistogramFamily } from "./series";

describe("series families", () => {
  it("counts per label combination and exposes them through prom-client's registry", async () => {
    const registry = new Registry();
    const c = new CounterFamily("t_requests_total", "Requests.", ["code"], registry);
    c.state("200", ["200"]).value += 3;
    c.state("503", ["503"]).value += 1;
    c.state("200", ["200"]).value += 2;
    const text = await registry.metrics();
    assert.match(text, /# TYPE t_requests_total counter/);
    assert.match(text, /t_requests_total\{code="200"\} 5/);
    assert.match(text, /t_requests_total\{code="503"\} 1/);
    assert.equal(c.size, 2);
  });

  it("keeps histogram buckets cumulative at scrape, with +Inf, sum and count; bucket bounds are inclusive", async () => {
    const registry = new Registry();
    const h = new HistogramFamily("t_ms", "Latency.", ["route"], registry, [1, 5, 10]);
    const s = h.state("a", ["a"]);
    for (const v of [0.5, 1, 3, 7, 100]) h.observe(s, v);
    const text = await registry.metrics();
    assert.match(text, /t_ms_bucket\{le="1",route="a"\} 2/);
    assert.match(text, /t_ms_bucket\{le="5",route="a"\} 3/);
    assert.match(text, /t_ms_bucket\{le="10",route="a"\} 4/);
    assert.match(text, /t_ms_bucket\{le="\+Inf",route="a"\} 5/);
    assert.match(text, /t_ms_sum\{route="a"\} 111.5/);
    assert.match(text, /t_ms_count\{route="a"\} 5/);
  });

  it("escapes label values as the exposition format requires", async () => {
    const registry = new Registry();
    const c = new CounterFamily("t_total", "x", ["path"], registry);
    c.state("k", ['a"b\\c\nd']).value = 1;
    assert.match(await registry.metrics(), /t_total\{path="a\\"b\\\\c\\nd"\} 1/);
  });
});
