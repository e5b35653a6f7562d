import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DestinationPolicySpec, Snapshot } from "@trellis/config";
import { echo, startHttpApp } from "./helpers/apps";
import { HttpClient, inParallel, servedBy, sleep, tally } from "./helpers/client";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";
import type { TestEndpoint } from "./helpers/snapshot";

type LbKind = NonNullable<DestinationPolicySpec["loadBalancer"]>;

describe("load balancing across three sidecar-fronted endpoints", () => {
  const t = new Teardown();
  let endpoints: TestEndpoint[];
  let client: TestProxy;
  let http: HttpClient;

  /** One host per algorithm over the same endpoints (each host is its own cluster with its own balancer). */
  const snap = (eps: TestEndpoint[]): Snapshot =>
    snapshot({
      service: "productpage",
      hosts: (
        [
          ["rr", { kind: "ROUND_ROBIN" }],
          ["lr", { kind: "LEAST_REQUEST" }],
          ["rand", { kind: "RANDOM" }],
          ["hash", { kind: "CONSISTENT_HASH", hashHeader: "x-user" }],
        ] as Array<[string, LbKind]>
      ).map(([name, lb]) => host({ name, ports: [{ port: 9080, protocol: "http" }], endpoints: eps, policy: { host: `${name}.default`, subsets: [], loadBalancer: lb } })),
    });

  before(async () => {
    endpoints = [];
    for (const name of ["a", "b", "c"]) {
      // "a" is slow on /slow: least-request must notice its requests piling up.
      const app = t.track(await startHttpApp(name, (req, res, body) => {
        if (name === "a" && req.url === "/slow") setTimeout(() => echo(name, req, res, body), 200);
        else echo(name, req, res, body);
      }));
      const sidecar = t.track(await startSidecar(name, app.port));
      endpoints.push({ port: sidecar.inboundPort, sidecar: true });
    }
    client = t.track(await startProxy({ app: "productpage" }, snap(endpoints)));
    http = t.track(new HttpClient(Number(new URL(client.outbound).port)));
  });
  after(() => t.stop());

  it("ROUND_ROBIN spreads evenly, whatever the latency", async () => {
    const replies = await inParallel(300, 10, () => http.request("rr:9080", "/slow"));
    assert.deepEqual(tally(replies.map(servedBy)), { a: 100, b: 100, c: 100 });
  });

  it("LEAST_REQUEST keeps away from the endpoint whose requests pile up", async () => {
    const replies = await inParallel(300, 10, () => http.request("lr:9080", "/slow"));
    const counts = tally(replies.map(servedBy));
    assert.ok(replies.every((r) => r.status === 200));
    // Typically under 10; the margin is for a loaded CI machine, where the fast ones slow down too.
    assert.ok((counts.a ?? 0) < 50, `the slow endpoint got ${counts.a} of 300 (round robin would give it 100): ${JSON.stringify(counts)}`);
    assert.ok((counts.b ?? 0) > 100 && (counts.c ?? 0) > 100, JSON.stringify(counts));
  });

  it("RANDOM spreads roughly evenly", async () => {
    const counts = tally((await inParallel(600, 10, () => http.request("rand:9080", "/"))).map(servedBy));
    // Binomial(600, 1/3): sd ≈ 11.5; ±60 is over 5 sd.
    for (const name of ["a", "b", "c"]) assert.ok(Math.abs((counts[name] ?? 0) - 200) < 60, JSON.stringify(counts));
  });

  it("RANDOM follows the data plane's injected random source", async () => {
    const draws = [0.1, 0.5, 0.9, 0.4, 0.0];
    let n = 0;
    const seeded = await startProxy({ app: "productpage" }, snap(endpoints), { random: () => draws[n++ % draws.length]! });
    const seededHttp = new HttpClient(seeded.dp.ports.outbound);
    try {
      const got: Array<string | undefined> = [];
      for (let i = 0; i < 5; i++) got.push(servedBy(await seededHttp.request("rand:9080", "/")));
      assert.deepEqual(got, ["a", "b", "c", "b", "a"]);
    } finally {
      seededHttp.close();
      await seeded.stop();
    }
  });

  it("CONSISTENT_HASH keeps each key on one endpoint, and only the keys of a removed endpoint move", async () => {
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const order = [...users, ...users, ...users].sort(() => Math.random() - 0.5);
    const replies = await inParallel(order.length, 10, (i) => http.request("hash:9080", "/", { headers: { "x-user": order[i]! } }));
    const owner = new Map<string, Set<string | undefined>>();
    replies.forEach((r, i) => {
      const set = owner.get(order[i]!) ?? new Set();
      set.add(servedBy(r));
      owner.set(order[i]!, set);
    });
    for (const [user, set] of owner) assert.equal(set.size, 1, `${user} reached ${[...set].join(", ")}`);
    const before = new Map([...owner].map(([u, s]) => [u, [...s][0]!]));
    assert.equal(new Set(before.values()).size, 3, "the keys spread over all three endpoints");

    // Endpoint c leaves: its keys move, the others stay where they were.
    client.dp.apply(snap(endpoints.slice(0, 2)));
    try {
      for (const user of users) {
        const now = servedBy(await http.request("hash:9080", "/", { headers: { "x-user": user } }));
        if (before.get(user) === "c") assert.notEqual(now, "c");
        else assert.equal(now, before.get(user), `${user} moved from ${before.get(user)} to ${now}`);
      }
    } finally {
      client.dp.apply(snap(endpoints));
      await sleep(10);
    }
  });
});
