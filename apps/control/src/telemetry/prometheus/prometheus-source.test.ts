import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { aggregate, requestSignals } from "../live/window-query";
import { ISTIO_QUERIES } from "./istio-queries";
import { PrometheusError } from "./prometheus-error";
import { PrometheusSource, stepFor } from "./prometheus-source";

const T = 1_800_000_000;

test("steps: the smallest of the ladder that keeps a range within the point budget", () => {
  assert.equal(stepFor(60, 300), 1);
  assert.equal(stepFor(600, 300), 2);
  assert.equal(stepFor(3600, 300), 15);
  assert.equal(stepFor(6 * 3600, 300), 120);
  assert.equal(stepFor(86_400, 300), 300);
  assert.equal(stepFor(30 * 86_400, 300), 21_600);
});

/**
 * A stand-in Prometheus on port 0 that answers the requests query with one series and every
 * other query with nothing, recording what it was asked; `reply` overrides the answer.
 */
class FakePrometheus {
  readonly asked: URLSearchParams[] = [];
  reply: ((res: http.ServerResponse) => void) | undefined;
  private readonly server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const q = new URLSearchParams(body);
      this.asked.push(q);
      if (req.url !== "/api/v1/query_range") return void res.writeHead(404).end("404 page not found");
      if (this.reply) return this.reply(res);
      const start = Number(q.get("start"));
      const result =
        q.get("query") === ISTIO_QUERIES.requests
          ? [{ metric: { reporter: "destination", response_code: "200", destination_service_name: "reviews", destination_service_namespace: "default" }, values: [[start + Number(q.get("step")), "12"]] }]
          : [];
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "success", data: { resultType: "matrix", result } }));
    });
  });
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe("PrometheusSource", () => {
  const prom = new FakePrometheus();
  before(() => prom.start());
  after(() => prom.close());

  test("prepare runs every Istio query once over the step grid; slotsFor then reads the range", async () => {
    let now = (T + 3600) * 1000;
    const source = new PrometheusSource({ url: prom.url, now: () => now });
    const range = { fromSec: T + 7, toSec: T + 607 };
    assert.throws(() => source.slotsFor(range), /await prepare\(range\)/);
    prom.asked.length = 0;
    await source.prepare(range);
    assert.equal(prom.asked.length, Object.keys(ISTIO_QUERIES).length);
    assert.deepEqual(new Set(prom.asked.map((q) => q.get("query"))), new Set(Object.values(ISTIO_QUERIES)));
    for (const q of prom.asked) assert.deepEqual([q.get("start"), q.get("end"), q.get("step")], [String(T + 6), String(T + 608), "2"], "aligned outward to the 2 s step");
    const slots = source.slotsFor(range);
    assert.equal(slots.length, 301);
    assert.ok(slots.every((s) => s.seconds === 2));
    const s = requestSignals(aggregate(source, range, (k) => k.dstService).get("reviews")!, 600);
    assert.equal(s.requests, 12);

    now += 6 * 60_000;
    await source.prepare(range);
    assert.equal(prom.asked.length, 2 * Object.keys(ISTIO_QUERIES).length, "a settled range is kept 5 min, then asked again");
  });

  test("a window asked again a second later, still inside the same steps, is served from the cache", async () => {
    let now = (T + 86_400) * 1000;
    const source = new PrometheusSource({ url: prom.url, now: () => now });
    prom.asked.length = 0;
    await source.prepare({ fromSec: T + 1, toSec: T + 3601 });
    now += 1000;
    await source.prepare({ fromSec: T + 2, toSec: T + 3602 });
    assert.equal(prom.asked.length, Object.keys(ISTIO_QUERIES).length);
    assert.equal(prom.asked[0]!.get("step"), "15");
    assert.equal(source.slotsFor({ fromSec: T + 2, toSec: T + 3602 }).length, 241);
  });

  test("a range reaching into the last minute is kept 10 s: new scrapes keep arriving", async () => {
    let now = (T + 30) * 1000;
    const source = new PrometheusSource({ url: prom.url, now: () => now });
    prom.asked.length = 0;
    await source.prepare({ fromSec: T - 60, toSec: T + 30 });
    now += 5000;
    await source.prepare({ fromSec: T - 60, toSec: T + 30 });
    assert.equal(prom.asked.length, Object.keys(ISTIO_QUERIES).length);
    now += 6000;
    await source.prepare({ fromSec: T - 60, toSec: T + 30 });
    assert.equal(prom.asked.length, 2 * Object.keys(ISTIO_QUERIES).length);
  });

  test("keys no cached range uses any more are swept", async () => {
    const source = new PrometheusSource({ url: prom.url, cacheSize: 2, now: () => (T + 86_400) * 1000 });
    for (let i = 0; i < 5; i++) await source.prepare({ fromSec: T + i * 1000, toSec: T + i * 1000 + 60 });
    assert.equal(source.keys.size, 1, "every range had the same one key");
  });

  const failure = async (source: PrometheusSource): Promise<PrometheusError> => {
    const err = await source.prepare({ fromSec: T, toSec: T + 60 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof PrometheusError, `expected a PrometheusError, got ${String(err)}`);
    return err;
  };

  test("unreachable: TRELLIS_PROMETHEUS_UNAVAILABLE naming PROMETHEUS_URL", async () => {
    const closed = new FakePrometheus();
    await closed.start();
    await closed.close();
    const err = await failure(new PrometheusSource({ url: closed.url }));
    assert.equal(err.code, "TRELLIS_PROMETHEUS_UNAVAILABLE");
    assert.match(err.message, new RegExp(`Prometheus at PROMETHEUS_URL=${closed.url}/ is unreachable \\(ECONNREFUSED`));
  });

  test("too slow: TRELLIS_PROMETHEUS_UNAVAILABLE after the timeout", async () => {
    prom.reply = () => undefined; // never answers
    try {
      const err = await failure(new PrometheusSource({ url: prom.url, timeoutMs: 200 }));
      assert.equal(err.code, "TRELLIS_PROMETHEUS_UNAVAILABLE");
      assert.match(err.message, /did not answer within 200 ms/);
    } finally {
      prom.reply = undefined;
    }
  });

  test("not Prometheus, or not a matrix: TRELLIS_PROMETHEUS_BAD_RESPONSE saying what was wrong", async () => {
    const notFound = await failure(new PrometheusSource({ url: `${prom.url}/grafana` }));
    assert.equal(notFound.code, "TRELLIS_PROMETHEUS_BAD_RESPONSE");
    assert.match(notFound.message, /PROMETHEUS_URL=.*\/grafana answered HTTP 404 with something that is not JSON/);
    prom.reply = (res) => res.writeHead(200).end(JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } }));
    try {
      const vector = await failure(new PrometheusSource({ url: prom.url }));
      assert.equal(vector.code, "TRELLIS_PROMETHEUS_BAD_RESPONSE");
      assert.match(vector.message, /not a range-query result \(data\.resultType: /);
      prom.reply = (res) => res.writeHead(422).end(JSON.stringify({ status: "error", errorType: "execution", error: "query processing would load too many samples" }));
      const refused = await failure(new PrometheusSource({ url: prom.url }));
      assert.equal(refused.code, "TRELLIS_PROMETHEUS_BAD_RESPONSE");
      assert.match(refused.message, /refused the query with HTTP 422 \(execution: query processing would load too many samples\)/);
    } finally {
      prom.reply = undefined;
    }
  });

  test("a failed load is not cached: the next prepare asks again", async () => {
    prom.reply = (res) => res.writeHead(503).end(JSON.stringify({ status: "error", errorType: "unavailable", error: "starting up" }));
    const source = new PrometheusSource({ url: prom.url, now: () => (T + 86_400) * 1000 });
    try {
      assert.equal((await failure(source)).code, "TRELLIS_PROMETHEUS_UNAVAILABLE");
    } finally {
      prom.reply = undefined;
    }
    await source.prepare({ fromSec: T, toSec: T + 60 });
    assert.equal(source.slotsFor({ fromSec: T, toSec: T + 60 }).length, 60);
  });
});
