import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startHttpApp } from "./helpers/apps";
import { eventually } from "./helpers/client";
import type { TestServer } from "./helpers/apps";
import { applyResources, spawnControlPlane, trpcQuery, waitForProxyStatus } from "./helpers/control-plane";
import type { ControlProcess } from "./helpers/control-plane";
import { createTestDatabase } from "./helpers/pg";
import type { TestDatabase } from "./helpers/pg";
import { spawnProxy } from "./helpers/proxy-process";
import type { ProxyProcess } from "./helpers/proxy-process";

// Distributed tracing end to end: a real control plane on Postgres, three services each
// behind a real trellis-proxy sidecar, apps that call the next service through their
// sidecar and copy the trace headers (as Istio asks of apps). Spans go to the control
// plane's /v1/traces over OTLP; the traces API must give each request back as one tree.

const TRACE_HEADERS = ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"];

interface Hop {
  name: string;
  headers: http.IncomingHttpHeaders;
  next?: Hop;
}

function request(port: number, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/chain", headers: { host, ...headers } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** An app that answers with what it received and, when it has a next service, what that one answered (called through its sidecar). */
function chainApp(name: string, next: { host: string; outbound: () => number } | undefined): Promise<TestServer> {
  return startHttpApp(name, (req, res) => {
    const hop: Hop = { name, headers: req.headers };
    if (!next) return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(hop));
    const forward: Record<string, string> = {};
    for (const h of TRACE_HEADERS) if (typeof req.headers[h] === "string") forward[h] = req.headers[h];
    request(next.outbound(), next.host, forward).then(
      (r) => {
        hop.next = JSON.parse(r.body) as Hop;
        res.writeHead(r.status, { "content-type": "application/json" }).end(JSON.stringify(hop));
      },
      (err: Error) => res.writeHead(502).end(err.message),
    );
  });
}


interface Summary {
  traceId: string;
  rootService: string;
  spanCount: number;
  services: string[];
  error: boolean;
}
interface SpanNode {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  instance: string | null;
  operation: string;
  kind: string;
  orphan: boolean;
  attributes: Record<string, unknown>;
  children: SpanNode[];
}
interface Tree {
  traceId: string;
  spanCount: number;
  services: string[];
  roots: SpanNode[];
}

/** The chain under `node`, following first children: `service/kind` per hop. */
function chainOf(node: SpanNode | undefined): string[] {
  const out: string[] = [];
  for (let n = node; n; n = n.children[0]) {
    assert.ok(n.children.length <= 1, `${n.service}/${n.kind} has ${n.children.length} children`);
    out.push(`${n.service}/${n.kind}`);
  }
  return out;
}

const svc = (name: string) => ({ kind: "Service", metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }], traceSampling: 100 } });

describe("distributed tracing across three services behind real sidecars", () => {
  let db: TestDatabase;
  let cp: ControlProcess;
  const apps: TestServer[] = [];
  const proxies: Record<string, ProxyProcess> = {};
  const dataDir = mkdtempSync(path.join(tmpdir(), "trellis-tracing-"));

  before(async () => {
    db = await createTestDatabase();
    cp = await spawnControlPlane({ DATABASE_URL: db.url });
    await applyResources(cp.api, [svc("a"), svc("b"), svc("c")], "three traced services");
    const c = await chainApp("c", undefined);
    const b = await chainApp("b", { host: "c:9080", outbound: () => proxies["b"]!.outbound });
    const a = await chainApp("a", { host: "b:9080", outbound: () => proxies["a"]!.outbound });
    apps.push(a, b, c);
    for (const [name, app] of [["a", a], ["b", b], ["c", c]] as const) {
      proxies[name] = await spawnProxy(["--service", name, "--workload", `${name}-v1`, "--version", "v1", "--app-port", String(app.port), "--control-plane", cp.grpcTarget, "--otlp-endpoint", `${cp.api}/v1/traces`, "--data-dir", path.join(dataDir, name)]);
    }
    for (const name of ["a", "b", "c"]) await waitForProxyStatus(cp.api, `default/${name}-v1`, (s) => s.state === "SYNCED");
  });
  after(async () => {
    for (const p of Object.values(proxies)) await p.stop();
    await cp?.stop();
    for (const app of apps) await app.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a trace spanning three services comes back whole, as one tree with the right parents", async () => {
    // Real traffic: a caller outside the mesh calls a's inbound side; a calls b calls c.
    const hops: Hop[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await eventually("the chain to answer", async () => {
        const res = await request(proxies["a"]!.inbound, "a:9080");
        return res.status === 200 ? res : undefined;
      });
      hops.push(JSON.parse(r.body) as Hop);
    }
    // Every hop saw the same trace, each with a different parent (the proxy span just before it).
    const traceIds = hops.map((h) => /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(String(h.headers.traceparent))?.[1]);
    assert.equal(new Set(traceIds).size, 3, "three requests, three traces");
    for (const h of hops) {
      const ids = [h, h.next!, h.next!.next!].map((x) => String(x.headers.traceparent).split("-")[1]);
      assert.equal(new Set(ids).size, 1, "a, b and c saw one trace id");
    }

    const traceId = traceIds[0]!;
    const summary = await eventually("the whole trace in traces.search", async () => {
      const found = await trpcQuery<Summary[]>(cp.api, "traces.search", { service: "c", limit: 10 });
      const t = found.find((x) => x.traceId === traceId);
      return t && t.spanCount === 5 ? t : undefined;
    });
    assert.deepEqual({ ...summary, traceId: undefined }, { ...summary, traceId: undefined, rootService: "a", spanCount: 5, services: ["a", "b", "c"], error: false });
    const all = await eventually("all three traces", async () => {
      const found = await trpcQuery<Summary[]>(cp.api, "traces.search", { service: "a", operation: "a.default:9080/*" });
      return traceIds.every((id) => found.some((t) => t.traceId === id && t.spanCount === 5)) ? found : undefined;
    });
    assert.ok(all.length >= 3);

    const tree = await trpcQuery<Tree>(cp.api, "traces.get", { traceId });
    assert.equal(tree.spanCount, 5);
    assert.equal(tree.roots.length, 1, "one root, no orphans");
    // Server span of a (the caller is outside the mesh), then client → server per call, like Envoy in Istio.
    assert.deepEqual(chainOf(tree.roots[0]), ["a/server", "a/client", "b/server", "b/client", "c/server"]);
    const [aIn, aOut, bIn, bOut, cIn] = (() => {
      const out: SpanNode[] = [];
      for (let n: SpanNode | undefined = tree.roots[0]; n; n = n.children[0]) out.push(n);
      return out as [SpanNode, SpanNode, SpanNode, SpanNode, SpanNode];
    })();
    assert.equal(aIn.parentSpanId, null);
    assert.equal(bOut.children[0]!.parentSpanId, bOut.spanId);
    // What each app saw as its parent is its own sidecar's inbound span.
    const hop = hops[0]!;
    assert.equal(String(hop.headers.traceparent).split("-")[2], aIn.spanId);
    assert.equal(String(hop.next!.headers.traceparent).split("-")[2], bIn.spanId);
    assert.equal(String(hop.next!.next!.headers.traceparent).split("-")[2], cIn.spanId);
    // The attributes the issue asks for: method, route, status, peer, response flags, retries; and who the span is.
    assert.equal(aOut.operation, "b.default:9080/*");
    assert.equal(aOut.instance, "a-v1");
    assert.deepEqual(
      { m: aOut.attributes["http.request.method"], s: aOut.attributes["http.response.status_code"], r: aOut.attributes["trellis.route"], f: aOut.attributes["trellis.response_flags"], retries: aOut.attributes["http.request.resend_count"], peer: aOut.attributes["trellis.peer.workload"], port: aOut.attributes["network.peer.port"] },
      { m: "GET", s: 200, r: "default", f: "-", retries: 0, peer: "b-v1", port: proxies["b"]!.inbound },
    );
    assert.equal(bIn.attributes["trellis.peer.workload"], "a-v1", "the server span names its caller");
    assert.equal(cIn.attributes["trellis.upstream_cluster"], "inbound|9080||");
  });

  it("B3 single and B3 multi are continued across the proxies, in the caller's format plus traceparent", async () => {
    const single = { trace: "463ac35c9f6413ad48485a3953bb6124", span: "a2fb4a1d1a96d312" };
    const r1 = await request(proxies["b"]!.inbound, "b:9080", { b3: `${single.trace}-${single.span}-1` });
    assert.equal(r1.status, 200);
    const c1 = (JSON.parse(r1.body) as Hop).next!;
    assert.match(String(c1.headers.b3), new RegExp(`^${single.trace}-[0-9a-f]{16}-1-[0-9a-f]{16}$`), "c got B3 single");
    assert.equal(String(c1.headers.traceparent).split("-")[1], single.trace, "and traceparent");

    const multi = { trace: "e457b5a2e4d86bd1", span: "05e3ac9a4f6e3b90" };
    const r2 = await request(proxies["b"]!.inbound, "b:9080", { "x-b3-traceid": multi.trace, "x-b3-spanid": multi.span, "x-b3-sampled": "1" });
    const c2 = (JSON.parse(r2.body) as Hop).next!;
    assert.equal(c2.headers["x-b3-traceid"], multi.trace, "a 64-bit B3 trace id stays 64-bit");
    assert.equal(c2.headers["x-b3-sampled"], "1");
    assert.equal(String(c2.headers.traceparent).split("-")[1], `0000000000000000${multi.trace}`);

    for (const [traceId, parent] of [
      [single.trace, single.span],
      [`0000000000000000${multi.trace}`, multi.span],
    ] as const) {
      const tree = await eventually(`trace ${traceId}`, async () => {
        const t = await trpcQuery<Tree>(cp.api, "traces.get", { traceId });
        return t.spanCount === 3 ? t : undefined;
      });
      // The caller's span was not sent to us: b's server span hangs off it, as an orphan.
      assert.equal(tree.roots.length, 1);
      assert.equal(tree.roots[0]!.parentSpanId, parent);
      assert.equal(tree.roots[0]!.orphan, true);
      assert.deepEqual(chainOf(tree.roots[0]), ["b/server", "b/client", "c/server"]);
    }
  });

  it("a caller's decision not to sample is kept: nothing is recorded, the decision travels on", async () => {
    const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const r = await request(proxies["a"]!.inbound, "a:9080", { traceparent: `00-${trace}-00f067aa0ba902b7-00` });
    const c = (JSON.parse(r.body) as Hop).next!.next!;
    assert.equal(c.headers.traceparent, `00-${trace}-00f067aa0ba902b7-00`);
    await new Promise((res) => setTimeout(res, 2500)); // two export periods
    await assert.rejects(trpcQuery(cp.api, "traces.get", { traceId: trace }), /NOT_FOUND/);
    const stats = await (await fetch(`http://127.0.0.1:${proxies["a"]!.admin}/stats`)).json();
    assert.ok((stats as Record<string, number>)["tracing.spans_exported"]! >= 6);
    assert.equal((stats as Record<string, number>)["tracing.spans_dropped"], 0);
  });
});
