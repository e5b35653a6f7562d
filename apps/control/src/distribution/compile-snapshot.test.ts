import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SnapshotSchema, parseResource } from "@trellis/config";
import type { Endpoint, Resource, ResourceInput, Snapshot, SnapshotProxy } from "@trellis/config";
import { compileSnapshot } from "./compile-snapshot";
import { SnapshotCompiler } from "./snapshot-compiler";

const r = (input: ResourceInput): Resource => parseResource(input);
const svc = (name: string, namespace = "default", extra: Record<string, unknown> = {}): Resource =>
  r({ kind: "Service", metadata: { name, namespace }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }], ...extra } });

function ep(namespace: string, service: string, workload: string, labels: Record<string, string>, address: string): Endpoint {
  return { id: `${namespace}/${workload}`, workload, service, namespace, address, ports: [{ name: "http", port: 9080, protocol: "http" }], labels, sidecar: true, proxyVersion: "0.1.0" };
}

/** A Bookinfo-like mesh: productpage → reviews (v1/v2/v3) → ratings, details, an external API, a gateway. */
function mesh(): Resource[] {
  return [
    svc("productpage", "default", { egress: ["reviews", "details"] }),
    svc("reviews"),
    svc("ratings"),
    svc("details"),
    svc("shadow"),
    svc("search", "shop"),
    svc("ingress", "trellis-system"),
    r({ kind: "ServiceEntry", metadata: { name: "stripe", namespace: "default" }, spec: { hosts: ["api.stripe.com"], ports: [{ name: "https", number: 443, protocol: "HTTPS" }] } }),
    r({ kind: "Workload", metadata: { name: "reviews-vm", namespace: "default" }, spec: { service: "reviews", address: "10.0.9.9", labels: { version: "v3" }, weight: 5 } }),
    r({ kind: "DestinationPolicy", metadata: { name: "reviews", namespace: "default" }, spec: { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }, { name: "v3", labels: { version: "v3" } }] } }),
    r({
      kind: "Route",
      metadata: { name: "reviews", namespace: "default" },
      spec: {
        hosts: ["reviews"],
        http: [{ route: [{ destination: { host: "reviews", subset: "v1" }, weight: 90 }, { destination: { host: "reviews", subset: "v2" }, weight: 10 }], mirror: { destination: { host: "shadow" } } }],
      },
    }),
    r({ kind: "Route", metadata: { name: "ratings", namespace: "default" }, spec: { hosts: ["ratings"], http: [{ route: [{ destination: { host: "ratings" } }], timeout: "2s" }] } }),
    r({ kind: "Gateway", metadata: { name: "public", namespace: "default" }, spec: { selector: { service: "ingress" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["shop.example.com"] }] } }),
    r({ kind: "Route", metadata: { name: "shop", namespace: "default" }, spec: { hosts: ["shop.example.com"], gateways: ["public"], http: [{ route: [{ destination: { host: "productpage" } }] }] } }),
    // policies
    r({ kind: "AuthorizationPolicy", metadata: { name: "mesh-deny", namespace: "trellis-system" }, spec: { action: "DENY", rules: [{ from: [{ source: { namespaces: ["untrusted"] } }] }] } }),
    r({ kind: "AuthorizationPolicy", metadata: { name: "ns-audit", namespace: "default" }, spec: { action: "AUDIT", rules: [{}] } }),
    r({ kind: "AuthorizationPolicy", metadata: { name: "reviews-allow", namespace: "default" }, spec: { selector: { service: "reviews" }, rules: [{ from: [{ source: { principals: ["spiffe://trellis.local/ns/default/sa/productpage"] } }] }] } }),
    r({ kind: "AuthorizationPolicy", metadata: { name: "reviews-v2-only", namespace: "default" }, spec: { selector: { service: "reviews", matchLabels: { version: "v2" } }, action: "DENY", rules: [{}] } }),
    r({ kind: "AuthorizationPolicy", metadata: { name: "other-ns", namespace: "shop" }, spec: { rules: [{}] } }),
    r({ kind: "AuthorizationPolicy", metadata: { name: "ratings-only", namespace: "default" }, spec: { selector: { service: "ratings" }, rules: [{}] } }),
    r({ kind: "PeerAuthentication", metadata: { name: "mesh", namespace: "trellis-system" }, spec: { mode: "STRICT" } }),
    r({ kind: "PeerAuthentication", metadata: { name: "ns", namespace: "default" }, spec: { mode: "PERMISSIVE" } }),
    r({ kind: "PeerAuthentication", metadata: { name: "reviews", namespace: "default" }, spec: { selector: { service: "reviews" }, mode: "STRICT", portLevel: { "9090": "DISABLE" } } }),
    r({ kind: "RequestAuthentication", metadata: { name: "jwt", namespace: "default" }, spec: { selector: { service: "reviews" }, jwtRules: [{ issuer: "https://auth.example.com", jwksUri: "https://auth.example.com/jwks" }] } }),
    r({ kind: "RateLimitPolicy", metadata: { name: "rl", namespace: "default" }, spec: { selector: { service: "details" }, limits: [{ bucket: { maxTokens: 10, tokensPerFill: 10, fillInterval: "1s" } }] } }),
  ];
}

const endpoints = (): Endpoint[] => [
  ep("default", "reviews", "reviews-v1-a", { version: "v1" }, "10.0.0.1"),
  ep("default", "reviews", "reviews-v2-a", { version: "v2" }, "10.0.0.2"),
  ep("default", "reviews", "reviews-v2-b", { version: "v2" }, "10.0.0.3"),
  ep("default", "ratings", "ratings-a", { version: "v1" }, "10.0.1.1"),
  ep("default", "productpage", "productpage-a", {}, "10.0.2.1"),
];

const proxy = (service: string, labels: Record<string, string> = {}, namespace = "default", workload = `${service}-a`): SnapshotProxy => ({ id: `${namespace}/${workload}`, service, namespace, labels });
const host = (s: Snapshot, name: string) => s.outbound.hosts.find((h) => h.host === name);
const sources = (list: { source: string | null }[]) => list.map((x) => x.source);

describe("compileSnapshot", () => {
  test("includes only the policies that select the workload", () => {
    const v2 = compileSnapshot(mesh(), endpoints(), proxy("reviews", { version: "v2" }), 1);
    assert.deepEqual(sources(v2.inbound.authorizationPolicies), [
      "AuthorizationPolicy/default/ns-audit",
      "AuthorizationPolicy/default/reviews-allow",
      "AuthorizationPolicy/default/reviews-v2-only",
      "AuthorizationPolicy/trellis-system/mesh-deny",
    ]);
    const v1 = compileSnapshot(mesh(), endpoints(), proxy("reviews", { version: "v1" }), 1);
    assert.ok(!sources(v1.inbound.authorizationPolicies).includes("AuthorizationPolicy/default/reviews-v2-only"), "matchLabels must all match");
    assert.deepEqual(sources(v1.inbound.jwtRules), ["RequestAuthentication/default/jwt"]);
    assert.deepEqual(v1.inbound.rateLimits, []);

    const shop = compileSnapshot(mesh(), endpoints(), proxy("search", {}, "shop"), 1);
    assert.deepEqual(sources(shop.inbound.authorizationPolicies), ["AuthorizationPolicy/shop/other-ns", "AuthorizationPolicy/trellis-system/mesh-deny"]);
    assert.deepEqual(shop.inbound.jwtRules, []);
  });

  test("the most specific PeerAuthentication decides the mTLS mode", () => {
    const reviews = compileSnapshot(mesh(), endpoints(), proxy("reviews"), 1).inbound.peerAuthentication;
    assert.deepEqual(reviews, { mode: "STRICT", portLevel: { "9090": "DISABLE" }, source: "PeerAuthentication/default/reviews" });
    const details = compileSnapshot(mesh(), endpoints(), proxy("details"), 1).inbound.peerAuthentication;
    assert.deepEqual(details, { mode: "PERMISSIVE", portLevel: {}, source: "PeerAuthentication/default/ns" });
    const shop = compileSnapshot(mesh(), endpoints(), proxy("search", {}, "shop"), 1).inbound.peerAuthentication;
    assert.equal(shop.source, "PeerAuthentication/trellis-system/mesh");
    assert.equal(shop.mode, "STRICT");
    const none = compileSnapshot([svc("a")], [], proxy("a"), 1).inbound.peerAuthentication;
    assert.deepEqual(none, { mode: "PERMISSIVE", portLevel: {}, source: null });
  });

  test("callers dial a sidecar in plaintext exactly where its own PeerAuthentication DISABLEs mTLS on that port", () => {
    const plaintext = (resources: Resource[], name: string) => {
      const eps = host(compileSnapshot(resources, endpoints(), proxy("details"), 1), name)!.clusters[0]!.endpoints;
      return eps.map((e) => `${e.address}:${e.plaintext === true}`);
    };
    assert.deepEqual(plaintext(mesh(), "reviews.default"), ["10.0.0.1:false", "10.0.0.2:false", "10.0.0.3:false", "10.0.9.9:false"], "STRICT, and DISABLE only on another port");
    const ratingsOff = r({ kind: "PeerAuthentication", metadata: { name: "ratings", namespace: "default" }, spec: { selector: { service: "ratings" }, mode: "DISABLE" } });
    assert.deepEqual(plaintext([...mesh(), ratingsOff], "ratings.default"), ["10.0.1.1:true"]);
    assert.deepEqual(plaintext([...mesh(), ratingsOff], "reviews.default"), ["10.0.0.1:false", "10.0.0.2:false", "10.0.0.3:false", "10.0.9.9:false"]);
    // Port-level on the workload port, for one version only (labels); the static Workload has no sidecar: never mTLS, never marked.
    const v2Off = r({ kind: "PeerAuthentication", metadata: { name: "reviews-v2", namespace: "default" }, spec: { selector: { service: "reviews", matchLabels: { version: "v2" } }, mode: "STRICT", portLevel: { "9080": "DISABLE" } } });
    const resources = [...mesh().filter((x) => !(x.kind === "PeerAuthentication" && x.metadata.name === "reviews")), v2Off];
    assert.deepEqual(plaintext(resources, "reviews.default"), ["10.0.0.1:false", "10.0.0.2:true", "10.0.0.3:true", "10.0.9.9:false"]);
    // The compiler's per-host reuse sees the change.
    const c = new SnapshotCompiler();
    c.update({ revision: 1, resources: mesh(), endpoints: endpoints() });
    const before = c.compile(proxy("details")).version;
    c.update({ revision: 2, resources: [...mesh(), ratingsOff], endpoints: endpoints() });
    const after = c.compile(proxy("details"));
    assert.notEqual(after.version, before);
    assert.equal(after.snapshot().outbound.hosts.find((h) => h.host === "ratings.default")!.clusters[0]!.endpoints[0]!.plaintext, true);
  });

  test("egress restricts outbound hosts to those listed and the hosts their routes send to", () => {
    const pp = compileSnapshot(mesh(), endpoints(), proxy("productpage"), 1);
    assert.deepEqual(pp.outbound.hosts.map((h) => h.host), ["details.default", "reviews.default", "shadow.default"]);
    const all = compileSnapshot(mesh(), endpoints(), proxy("details"), 1);
    assert.deepEqual(all.outbound.hosts.map((h) => h.host), [
      "api.stripe.com",
      "details.default",
      "ingress.trellis-system",
      "productpage.default",
      "ratings.default",
      "reviews.default",
      "search.shop",
      "shadow.default",
    ]);
  });

  test("subsets become clusters of the endpoints carrying the subset labels, static Workloads included", () => {
    const s = compileSnapshot(mesh(), endpoints(), proxy("productpage"), 1);
    const reviews = host(s, "reviews.default");
    assert.ok(reviews);
    const cluster = (name: string) => reviews.clusters.find((c) => c.name === name)?.endpoints.map((e) => e.address);
    assert.deepEqual(cluster("outbound|9080||reviews.default"), ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.9.9"]);
    assert.deepEqual(cluster("outbound|9080|v1|reviews.default"), ["10.0.0.1"]);
    assert.deepEqual(cluster("outbound|9080|v2|reviews.default"), ["10.0.0.2", "10.0.0.3"]);
    assert.deepEqual(cluster("outbound|9080|v3|reviews.default"), ["10.0.9.9"]);
    const vm = reviews.clusters.find((c) => c.subset === "v3")?.endpoints[0];
    assert.deepEqual(vm, { address: "10.0.9.9", port: 9080, labels: { version: "v3" }, weight: 5, sidecar: false });
    assert.equal(reviews.policy?.source, "DestinationPolicy/default/reviews");
  });

  test("route hosts are resolved, and aliases depend on the caller's namespace", () => {
    const fromShop = compileSnapshot(mesh(), endpoints(), proxy("search", {}, "shop"), 1);
    const reviews = host(fromShop, "reviews.default");
    assert.deepEqual(reviews?.aliases, ["reviews.default.svc"]);
    const rule = reviews?.routes[0]?.http[0];
    assert.deepEqual(rule?.route.map((w) => w.destination.host), ["reviews.default", "reviews.default"]);
    assert.equal(rule?.mirror?.destination.host, "shadow.default");
    const fromDefault = compileSnapshot(mesh(), endpoints(), proxy("details"), 1);
    assert.deepEqual(host(fromDefault, "reviews.default")?.aliases, ["reviews", "reviews.default.svc"]);
    assert.deepEqual(host(fromDefault, "api.stripe.com")?.external, { location: "MESH_EXTERNAL", resolution: "DNS" });
  });

  test("a gateway proxy receives its Gateway's servers and the routes bound to it; sidecars do not", () => {
    const gw = compileSnapshot(mesh(), endpoints(), proxy("ingress", {}, "trellis-system"), 1);
    assert.equal(gw.gateways.length, 1);
    assert.equal(gw.gateways[0]?.source, "Gateway/default/public");
    assert.deepEqual(gw.gateways[0]?.routes.map((x) => [x.source, x.hosts, x.http[0]?.route[0]?.destination.host]), [["Route/default/shop", ["shop.example.com"], "productpage.default"]]);
    const sidecar = compileSnapshot(mesh(), endpoints(), proxy("details"), 1);
    assert.deepEqual(sidecar.gateways, []);
    assert.ok(!host(sidecar, "productpage.default")?.routes.length, "a gateway-only route does not apply to mesh traffic");
  });

  test("same input gives the same version, whatever the order of resources and endpoints", () => {
    const a = compileSnapshot(mesh(), endpoints(), proxy("details"), 1);
    const b = compileSnapshot(mesh().reverse(), endpoints().reverse(), proxy("details"), 7);
    assert.match(a.version, /^[0-9a-f]{16}$/);
    assert.equal(a.version, b.version, "revision is not part of the version");
    assert.deepEqual({ ...a, revision: 0 }, { ...b, revision: 0 });
    const moved = endpoints().map((e) => (e.workload === "ratings-a" ? { ...e, address: "10.0.1.2" } : e));
    assert.notEqual(compileSnapshot(mesh(), moved, proxy("details"), 1).version, a.version);
  });

  test("an edit to a route of a service outside a proxy's egress leaves its version unchanged", () => {
    const edited = mesh().map((x) =>
      x.kind === "Route" && x.metadata.name === "ratings" ? r({ kind: "Route", metadata: { name: "ratings", namespace: "default" }, spec: { hosts: ["ratings"], http: [{ route: [{ destination: { host: "ratings" } }], timeout: "5s" }] } }) : x,
    );
    const before = compileSnapshot(mesh(), endpoints(), proxy("productpage"), 1);
    const after = compileSnapshot(edited, endpoints(), proxy("productpage"), 2);
    assert.equal(after.version, before.version);
    const unrestricted = [compileSnapshot(mesh(), endpoints(), proxy("details"), 1), compileSnapshot(edited, endpoints(), proxy("details"), 2)];
    assert.notEqual(unrestricted[0]?.version, unrestricted[1]?.version);
  });

  test("snapshots validate against SnapshotSchema", () => {
    for (const p of [proxy("productpage"), proxy("reviews", { version: "v2" }), proxy("ingress", {}, "trellis-system"), proxy("search", {}, "shop"), proxy("unknown")]) {
      const s = compileSnapshot(mesh(), endpoints(), p, 3);
      const parsed = SnapshotSchema.safeParse(JSON.parse(JSON.stringify(s)));
      assert.ok(parsed.success, parsed.success ? "" : parsed.error.message);
    }
  });

  test("endpoints of a proxy that reported an inbound port carry that port on every Service port", () => {
    const twoPorts = svc("reviews", "default", { ports: [{ name: "http", port: 9080, protocol: "http" }, { name: "grpc", port: 9090, targetPort: 7070, protocol: "grpc" }] });
    const eps = [{ ...ep("default", "reviews", "reviews-v1-a", { version: "v1" }, "10.0.0.1"), inboundPort: 15006 }, ep("default", "reviews", "reviews-v2-a", { version: "v2" }, "10.0.0.2")];
    const s = compileSnapshot([twoPorts, svc("details")], eps, proxy("details"), 1);
    const ports = (cluster: string) => host(s, "reviews.default")?.clusters.find((c) => c.name === cluster)?.endpoints.map((e) => `${e.address}:${e.port}`);
    assert.deepEqual(ports("outbound|9080||reviews.default"), ["10.0.0.1:15006", "10.0.0.2:9080"]);
    assert.deepEqual(ports("outbound|9090||reviews.default"), ["10.0.0.1:15006", "10.0.0.2:7070"], "without an inbound port: the workload's port, else the target port");
    // The cached compiler notices a changed inbound port even though nothing else changed.
    const c = new SnapshotCompiler();
    c.update({ revision: 1, resources: [twoPorts, svc("details")], endpoints: eps });
    assert.equal(c.compile(proxy("details")).version, s.version);
    const moved = eps.map((e) => (e.inboundPort ? { ...e, inboundPort: 16006 } : e));
    c.update({ revision: 1, resources: [twoPorts, svc("details")], endpoints: moved });
    const again = c.compile(proxy("details"));
    assert.equal(again.version, compileSnapshot([twoPorts, svc("details")], moved, proxy("details"), 1).version);
    assert.notEqual(again.version, s.version);
    assert.equal(again.snapshot().outbound.hosts.find((h) => h.host === "reviews.default")?.clusters[0]?.endpoints[0]?.port, 16006);
  });

  test("tracing carries the proxy's own Service's sampling rate, the default when unset, and changes the version", () => {
    const sampled = mesh().map((x) => (x.kind === "Service" && x.metadata.name === "reviews" ? svc("reviews", "default", { traceSampling: 100 }) : x));
    assert.deepEqual(compileSnapshot(sampled, endpoints(), proxy("reviews", { version: "v2" }), 1).tracing, { samplingPercent: 100 });
    assert.deepEqual(compileSnapshot(sampled, endpoints(), proxy("details"), 1).tracing, { samplingPercent: 1 }, "Service default");
    assert.deepEqual(compileSnapshot([], [ep("default", "lonely", "lonely-a", {}, "10.1.1.1")], proxy("lonely"), 1).tracing, { samplingPercent: 1 }, "no Service defined");
    assert.notEqual(compileSnapshot(sampled, endpoints(), proxy("reviews"), 1).version, compileSnapshot(mesh(), endpoints(), proxy("reviews"), 1).version);
    assert.equal(compileSnapshot(sampled, endpoints(), proxy("details"), 1).version, compileSnapshot(mesh(), endpoints(), proxy("details"), 1).version, "another Service's rate is not this proxy's business");
    const c = new SnapshotCompiler();
    c.update({ revision: 1, resources: sampled, endpoints: endpoints() });
    assert.deepEqual(c.compile(proxy("reviews")).snapshot().tracing, { samplingPercent: 100 });
  });

  test("the trust bundle rides in every snapshot; a new bundle (a root rotation) changes every version, and nothing else does", () => {
    const PEM = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;
    const one = { trustDomain: "cluster.local", bundlePem: PEM("AAAA") };
    const two = { trustDomain: "cluster.local", bundlePem: PEM("BBBB") + PEM("AAAA") };
    const plain = compileSnapshot(mesh(), endpoints(), proxy("details"), 1);
    const withOne = compileSnapshot(mesh(), endpoints(), proxy("details"), 1, one);
    assert.equal(plain.trust, undefined);
    assert.deepEqual(withOne.trust, one);
    assert.notEqual(withOne.version, plain.version);
    assert.notEqual(compileSnapshot(mesh(), endpoints(), proxy("details"), 1, two).version, withOne.version);
    assert.equal(compileSnapshot(mesh(), endpoints(), proxy("details"), 2, one).version, withOne.version, "a revision alone does not move it");
    // The cached compiler: a bundle change alone is an update (every proxy recompiles), with the same results.
    const c = new SnapshotCompiler();
    c.update({ revision: 1, resources: mesh(), endpoints: endpoints(), trust: one });
    assert.equal(c.compile(proxy("details")).version, withOne.version);
    assert.deepEqual(c.compile(proxy("details")).snapshot(), JSON.parse(JSON.stringify(withOne)));
    assert.equal(c.update({ revision: 1, resources: mesh(), endpoints: endpoints(), trust: one }), false);
    assert.equal(c.update({ revision: 1, resources: mesh(), endpoints: endpoints(), trust: two }), true);
    assert.equal(c.stats.indexBuilds, 1, "the mesh index is kept");
    assert.equal(c.compile(proxy("details")).version, compileSnapshot(mesh(), endpoints(), proxy("details"), 1, two).version);
    assert.deepEqual(SnapshotSchema.parse(c.compile(proxy("details")).snapshot()).trust, two, "the proxy's schema accepts it");
  });

  test("a workload whose Service is not defined gets listeners from its registered ports", () => {
    const s = compileSnapshot([], [ep("default", "lonely", "lonely-a", {}, "10.1.1.1")], proxy("lonely"), 1);
    assert.deepEqual(s.inbound.listeners, [{ name: "http", port: 9080, targetPort: 9080, protocol: "http" }]);
  });
});

describe("SnapshotCompiler", () => {
  test("gives the same versions and bodies as compileSnapshot", () => {
    const c = new SnapshotCompiler();
    c.update({ revision: 4, resources: mesh(), endpoints: endpoints() });
    for (const p of [proxy("productpage"), proxy("reviews", { version: "v2" }), proxy("ingress", {}, "trellis-system"), proxy("search", {}, "shop")]) {
      const pure = compileSnapshot(mesh(), endpoints(), p, 4);
      const cached = c.compile(p);
      assert.equal(cached.version, pure.version);
      assert.deepEqual(cached.snapshot(), JSON.parse(JSON.stringify(pure)));
    }
  });

  test("shares the outbound part between proxies of a namespace and keeps caches for unchanged inputs", () => {
    const c = new SnapshotCompiler();
    c.update({ revision: 1, resources: mesh(), endpoints: endpoints() });
    for (let i = 0; i < 50; i++) c.compile(proxy("details", {}, "default", `details-${i}`));
    assert.deepEqual(c.stats, { indexBuilds: 1, hostBuilds: 8, outboundBuilds: 1 });
    assert.equal(c.update({ revision: 1, resources: mesh(), endpoints: endpoints().reverse() }), false);
    assert.equal(c.update({ revision: 2, resources: mesh(), endpoints: endpoints() }), true);
    assert.equal(c.stats.indexBuilds, 2);
  });

  test("across revisions rebuilds only the host whose inputs changed, with results equal to compileSnapshot", () => {
    const proxies = [proxy("productpage"), proxy("reviews", { version: "v2" }), proxy("details"), proxy("ingress", {}, "trellis-system"), proxy("search", {}, "shop")];
    const check = (c: SnapshotCompiler, resources: Resource[], eps: Endpoint[], revision: number) => {
      for (const p of proxies) {
        const pure = compileSnapshot(resources, eps, p, revision);
        const cached = c.compile(p);
        assert.equal(cached.version, pure.version);
        assert.equal(cached.body().toString("utf8"), JSON.stringify(JSON.parse(cached.body().toString("utf8"))));
        assert.deepEqual(cached.snapshot(), JSON.parse(JSON.stringify(pure)));
      }
    };
    const c = new SnapshotCompiler();
    const rev1 = mesh();
    c.update({ revision: 1, resources: rev1, endpoints: endpoints() });
    check(c, rev1, endpoints(), 1);
    const first = { ...c.stats };

    // Revision 2 edits the ratings Route only; every other resource is the same object, as the store hands them out.
    const ratingsRoute = r({ kind: "Route", metadata: { name: "ratings", namespace: "default" }, spec: { hosts: ["ratings"], http: [{ route: [{ destination: { host: "ratings" } }], timeout: "5s" }] } });
    const rev2 = rev1.map((x) => (x.kind === "Route" && x.metadata.name === "ratings" ? ratingsRoute : x));
    c.update({ revision: 2, resources: rev2, endpoints: endpoints() });
    check(c, rev2, endpoints(), 2);
    // ratings.default is seen by callers in its own namespace and from elsewhere: 2 variants, nothing else rebuilt.
    assert.equal(c.stats.hostBuilds - first.hostBuilds, 2, "only ratings.default is rebuilt");
    // productpage's egress excludes ratings: its outbound part is reused; the unrestricted ones (one per namespace) are rebuilt.
    assert.equal(c.stats.outboundBuilds - first.outboundBuilds, 3);
    const second = { ...c.stats };

    // Revision 3: a new endpoint of reviews (same config) rebuilds reviews.default only.
    const eps3 = [...endpoints(), ep("default", "reviews", "reviews-v1-b", { version: "v1" }, "10.0.0.4")];
    c.update({ revision: 2, resources: rev2, endpoints: eps3 });
    check(c, rev2, eps3, 2);
    assert.equal(c.stats.hostBuilds - second.hostBuilds, 2, "only reviews.default is rebuilt");
    assert.equal(c.stats.outboundBuilds - second.outboundBuilds, 4, "productpage's egress includes reviews");

    // Revision 4: a new Service changes host resolution; everything is rebuilt, still equal to compileSnapshot.
    const rev4 = [...rev2, svc("extra")];
    c.update({ revision: 4, resources: rev4, endpoints: eps3 });
    check(c, rev4, eps3, 4);
    assert.ok(c.stats.hostBuilds - second.hostBuilds - 2 >= 9, "a change of host resolution rebuilds every host");
  });

  test("at mesh scale (1000 services, 2000 proxies) each host is compiled once per variant, each outbound part once per namespace", (t) => {
    const resources: Resource[] = [];
    const eps: Endpoint[] = [];
    for (let i = 0; i < 1000; i++) {
      const ns = `ns${i % 10}`;
      const name = `svc${i}`;
      resources.push(
        r({ kind: "Service", metadata: { name, namespace: ns }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }], ...(i % 100 === 0 ? { egress: [`svc${i + 1}.ns${(i + 1) % 10}`] } : {}) } }),
        r({ kind: "DestinationPolicy", metadata: { name, namespace: ns }, spec: { host: name, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] } }),
        r({ kind: "Route", metadata: { name, namespace: ns }, spec: { hosts: [name], http: [{ route: [{ destination: { host: name, subset: "v1" }, weight: 90 }, { destination: { host: name, subset: "v2" }, weight: 10 }] }] } }),
      );
      for (const v of ["v1", "v2"]) eps.push(ep(ns, name, `${name}-${v}`, { version: v }, `10.${i >> 8}.${i & 255}.${v === "v1" ? 1 : 2}`));
    }
    const c = new SnapshotCompiler();
    const started = performance.now();
    c.update({ revision: 1, resources, endpoints: eps });
    const versions = new Set(eps.map((e) => c.compile({ id: e.id, service: e.service, namespace: e.namespace, labels: e.labels }).version));
    t.diagnostic(`compiled 2000 proxies in ${Math.round(performance.now() - started)} ms`);
    assert.equal(versions.size, 2000, "every proxy has its own identity, hence its own version");
    assert.equal(c.stats.indexBuilds, 1);
    assert.ok(c.stats.hostBuilds <= 2000, `host entries compiled ${c.stats.hostBuilds} times; expected at most one per host and variant (own namespace or not)`);
    assert.equal(c.stats.outboundBuilds, 10 + 10, "one per namespace plus one per egress-restricted Service");
  });
});
