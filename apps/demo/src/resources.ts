/**
 * The demo's mesh configuration, seeded as the first revision: Bookinfo's services in
 * namespace `bookinfo`, reviews 100 % to v1 (subsets v1–v3 ready for a canary), the external
 * bookstore as a ServiceEntry, an ingress Gateway with its Route, STRICT mTLS, a JWT on the
 * ingress's `/api/*`, and authorization policies allowing exactly the real call graph:
 *
 *   ingress → productpage → details, reviews, inventory (TCP), books.example.com (external)
 *   reviews v2/v3 → ratings
 */
export const NAMESPACE = "bookinfo";
export const TRUST_DOMAIN = "cluster.local";
export const JWT_ISSUER = "https://login.bookinfo.demo";
export const INGRESS_SERVICE = "ingress";

/** The revision message of the first seeding. */
export const SEED_MESSAGE = "demo: bookinfo (services, reviews 100 % v1, STRICT mTLS, authorization for the real call graph, ingress with a JWT on /api/*)";

/** Resources holding ports or addresses of one run (ingress listener, bookstore stand-in): rewritten when a run's differ. */
export const PORT_BOUND: ReadonlySet<string> = new Set([`Gateway/bookinfo/bookinfo-gateway`, `Service/bookinfo/ingress`, `ServiceEntry/bookinfo/bookstore`]);

/** Every proxy of the demo: its workload name, Service and version. */
export const WORKLOADS = [
  { workload: "details-v1", service: "details", version: "v1" },
  { workload: "ratings-v1", service: "ratings", version: "v1" },
  { workload: "inventory-v1", service: "inventory", version: "v1" },
  { workload: "reviews-v1", service: "reviews", version: "v1" },
  { workload: "reviews-v2", service: "reviews", version: "v2" },
  { workload: "reviews-v3", service: "reviews", version: "v3" },
  { workload: "productpage-v1", service: "productpage", version: "v1" },
  { workload: "ingress-0", service: "ingress", version: "v1" },
] as const;

const principal = (service: string) => `spiffe://${TRUST_DOMAIN}/ns/${NAMESPACE}/sa/${service}`;
const meta = (name: string, namespace = NAMESPACE) => ({ name, namespace });

export interface DemoResourceOptions {
  /** The ingress gateway's listener port. */
  ingressPort: number;
  /** The JWT issuer's public keys (a JWKS as a JSON string). */
  jwks: string;
  /** Where the external bookstore stand-in listens (a ServiceEntry STATIC endpoint). */
  bookstore: { address: string; port: number };
  /** Synthetic services (`--scale N`): config only, static workloads without sidecars. */
  scale?: number;
}

export function demoResources(o: DemoResourceOptions): unknown[] {
  const service = (name: string, protocol: "http" | "http2" | "grpc" | "tcp", port = 9080) => ({ kind: "Service", metadata: meta(name), spec: { ports: [{ name: protocol, port, protocol }] } });
  const allow = (name: string, from: string[], methods?: string[]) => ({
    kind: "AuthorizationPolicy",
    metadata: meta(`${name}-allow`),
    spec: { selector: { service: name }, action: "ALLOW", rules: [{ from: [{ source: { principals: from.map(principal) } }], ...(methods ? { to: [{ operation: { methods } }] } : {}) }] },
  });
  const synthetic = Array.from({ length: o.scale ?? 0 }, (_, i) => [
    { kind: "Service", metadata: meta(`synthetic-${i + 1}`, "scale"), spec: { ports: [{ name: "http", port: 9080, protocol: "http" }], sidecar: false } },
    { kind: "Workload", metadata: meta(`synthetic-${i + 1}-0`, "scale"), spec: { service: `synthetic-${i + 1}`, address: "127.0.0.1", ports: { http: 9 }, labels: { version: "v1" } } },
  ]).flat();
  return [
    service("productpage", "http"),
    service("details", "http"),
    service("reviews", "grpc"),
    service("ratings", "http2"),
    service("inventory", "tcp", 7000),
    { kind: "Service", metadata: meta(INGRESS_SERVICE), spec: { ports: [{ name: "http", port: o.ingressPort, protocol: "http" }] } },
    {
      kind: "ServiceEntry",
      metadata: meta("bookstore"),
      spec: { hosts: ["books.example.com"], ports: [{ name: "http", number: 80, protocol: "HTTP" }], location: "MESH_EXTERNAL", resolution: "STATIC", endpoints: [{ address: o.bookstore.address, ports: { http: o.bookstore.port } }] },
    },
    {
      kind: "DestinationPolicy",
      metadata: meta("reviews"),
      spec: { host: "reviews", subsets: ["v1", "v2", "v3"].map((v) => ({ name: v, labels: { version: v } })), outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 } },
    },
    {
      kind: "Route",
      metadata: meta("reviews"),
      spec: { hosts: ["reviews"], http: [{ name: "reviews-split", route: [{ destination: { host: "reviews", subset: "v1" }, weight: 100 }, { destination: { host: "reviews", subset: "v2" }, weight: 0 }, { destination: { host: "reviews", subset: "v3" }, weight: 0 }], timeout: "5s", retries: { attempts: 2, perTryTimeout: "2s", retryOn: ["unavailable", "connect-failure"] } }] },
    },
    { kind: "Gateway", metadata: meta("bookinfo-gateway"), spec: { selector: { service: INGRESS_SERVICE }, servers: [{ port: { number: o.ingressPort, name: "http", protocol: "HTTP" }, hosts: ["*"] }] } },
    {
      kind: "Route",
      metadata: meta("bookinfo"),
      spec: {
        hosts: ["localhost", "127.0.0.1", "bookinfo.local", "ingress"],
        gateways: ["bookinfo-gateway"],
        http: [{ name: "productpage", match: [{ path: { exact: "/" } }, { path: { exact: "/productpage" } }, { path: { prefix: "/api/v1/products" } }], route: [{ destination: { host: "productpage", port: 9080 } }] }],
      },
    },
    { kind: "PeerAuthentication", metadata: meta("default"), spec: { mode: "STRICT" } },
    { kind: "RequestAuthentication", metadata: meta("ingress-jwt"), spec: { selector: { service: INGRESS_SERVICE }, jwtRules: [{ issuer: JWT_ISSUER, jwks: o.jwks }] } },
    // The API needs a signed-in user: a request without a valid JWT is refused at the edge.
    { kind: "AuthorizationPolicy", metadata: meta("ingress-api-needs-jwt"), spec: { selector: { service: INGRESS_SERVICE }, action: "DENY", rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }], to: [{ operation: { paths: ["/api/*"] } }] }] } },
    allow("productpage", [INGRESS_SERVICE], ["GET"]),
    allow("details", ["productpage"], ["GET"]),
    allow("reviews", ["productpage"]),
    allow("ratings", ["reviews"], ["GET"]),
    allow("inventory", ["productpage"]),
    ...synthetic,
  ];
}
