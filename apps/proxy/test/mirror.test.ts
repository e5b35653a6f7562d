import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startHttpApp, startScriptedApp } from "./helpers/apps";
import type { ScriptedApp, TestServer } from "./helpers/apps";
import { HttpClient, inParallel, sleep, until } from "./helpers/client";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

const v1 = { destination: { host: "reviews.default", subset: "v1" } };
const v2 = { host: "reviews.default", subset: "v2" };

describe("traffic mirroring through sidecars", () => {
  const t = new Teardown();
  let primary: TestServer;
  let shadow: ScriptedApp;
  let client: TestProxy;
  let http: HttpClient;

  before(async () => {
    primary = t.track(await startHttpApp("primary"));
    shadow = t.track(await startScriptedApp("shadow"));
    const s1 = t.track(await startSidecar("reviews", primary.port, { version: "v1" }));
    const s2 = t.track(await startSidecar("reviews", shadow.port, { version: "v2" }));
    const snap = snapshot({
      service: "productpage",
      hosts: [
        host({
          name: "reviews",
          ports: [{ port: 9080, protocol: "http" }],
          endpoints: [
            { port: s1.inboundPort, sidecar: true, labels: { version: "v1" } },
            { port: s2.inboundPort, sidecar: true, labels: { version: "v2" } },
          ],
          policy: { host: "reviews.default", subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] },
          routes: [
            {
              source: "Route/default/reviews",
              http: [
                { name: "share", match: [{ path: { prefix: "/share" } }], route: [v1], mirror: { destination: v2, percentage: 30 } },
                { name: "all", route: [v1], mirror: { destination: v2, percentage: 100 } },
              ],
            },
          ],
        }),
      ],
    });
    client = t.track(await startProxy({ app: "productpage" }, snap));
    http = t.track(new HttpClient(client.dp.ports.outbound));
  });
  after(() => t.stop());

  const copiesOf = (key: string) => shadow.seen.filter((s) => s.headers["x-key"] === key);

  it("a copy reaches the mirror with host <host>-shadow, same path, headers and body", async () => {
    const body = "m".repeat(5_000);
    const res = await http.request("reviews:9080", "/all/1?q=1", { method: "POST", body, headers: { "x-key": "copy-1", "x-custom": "kept" } });
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { name: string }).name, "primary");
    await until(() => copiesOf("copy-1").length === 1, "the mirrored copy");
    const copy = copiesOf("copy-1")[0]!;
    assert.equal(copy.headers.host, "reviews-shadow:9080");
    assert.equal(copy.method, "POST");
    assert.equal(copy.path, "/all/1?q=1");
    assert.equal(copy.headers["x-custom"], "kept");
    assert.equal(copy.bodyBytes, body.length);
    assert.equal(primary.seen.findLast((s) => s.headers["x-key"] === "copy-1")?.headers.host, "reviews:9080", "the primary keeps its host");
  });

  it("mirrors the configured share of requests", async () => {
    const replies = await inParallel(400, 20, (i) => http.request("reviews:9080", `/share/${i}`, { headers: { "x-key": "share" } }));
    assert.ok(replies.every((r) => r.status === 200));
    await sleep(100);
    const copies = copiesOf("share").length;
    // Binomial(400, 0.3): sd ≈ 9.2.
    assert.ok(copies > 80 && copies < 160, `${copies} of 400 mirrored`);
  });

  it("a slow mirror never delays the primary response", async () => {
    const replies = await inParallel(40, 20, (i) => http.request("reviews:9080", `/all/slow/${i}`, { headers: { "x-key": "slow", "x-script": "slow1500" } }));
    assert.ok(replies.every((r) => r.status === 200));
    const worst = Math.max(...replies.map((r) => r.ms));
    assert.ok(worst < 1000, `the slowest primary took ${worst} ms while the mirror takes 1500`);
    await until(() => copiesOf("slow").length === 40, "every slow copy to arrive");
  });

  it("a failing mirror (500s, dropped connections) never affects the primary", async () => {
    for (const script of ["500", "reset"]) {
      const replies = await inParallel(20, 10, (i) => http.request("reviews:9080", `/all/fail/${script}/${i}`, { headers: { "x-key": `fail-${script}`, "x-script": script } }));
      assert.deepEqual(replies.map((r) => r.status), new Array(20).fill(200), `mirror answering ${script}`);
      assert.ok(replies.every((r) => (JSON.parse(r.body) as { name: string }).name === "primary"));
      await until(() => copiesOf(`fail-${script}`).length === 20, `the ${script} copies`);
    }
    const line = client.accessLog.lines.findLast((l) => (l.path as string).startsWith("/all/fail/reset/"))!;
    assert.equal(line.response_flags, "-", "the primary's log line does not carry the mirror's failure");
  });
});
