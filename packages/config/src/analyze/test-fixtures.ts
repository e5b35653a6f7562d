import { parseResource, resourceKey } from "../resource";
import type { Resource } from "../resource";
import type { Finding } from "./types";

/**
 * Test helpers: a realistic, valid bookinfo mesh that every analyzer must accept, and small
 * builders to break it one field at a time. Not imported by production code.
 */

const ns = "bookinfo";
const http9080 = { ports: [{ name: "http", port: 9080, protocol: "http" }] };

/** Parses inputs (filling defaults) so tests see what analyze sees in production. */
export function parse(...inputs: unknown[]): Resource[] {
  return inputs.map((i) => parseResource(i));
}

/** The bookinfo mesh: every kind, all valid. */
export function bookinfo(): Resource[] {
  return parse(
    { kind: "Service", metadata: { name: "productpage", namespace: ns }, spec: http9080 },
    { kind: "Service", metadata: { name: "reviews", namespace: ns }, spec: http9080 },
    { kind: "Service", metadata: { name: "ratings", namespace: ns }, spec: http9080 },
    { kind: "Service", metadata: { name: "details", namespace: ns }, spec: { ...http9080, egress: ["reviews", "www.googleapis.com"] } },
    { kind: "Service", metadata: { name: "ingress-gateway", namespace: ns }, spec: { ports: [{ name: "http", port: 80, protocol: "http" }] } },
    { kind: "Workload", metadata: { name: "details-vm", namespace: ns }, spec: { service: "details", address: "10.0.0.7", sidecar: true, labels: { version: "v1" } } },
    {
      kind: "DestinationPolicy",
      metadata: { name: "reviews", namespace: ns },
      spec: {
        host: "reviews",
        subsets: [
          { name: "v1", labels: { version: "v1" } },
          { name: "v2", labels: { version: "v2" } },
          { name: "v3", labels: { version: "v3" } },
        ],
        tls: { mode: "ISTIO_MUTUAL" },
        outlierDetection: {},
      },
    },
    {
      kind: "Route",
      metadata: { name: "reviews", namespace: ns },
      spec: {
        hosts: ["reviews"],
        http: [
          { name: "jason", match: [{ headers: { "end-user": { exact: "jason" } } }], route: [{ destination: { host: "reviews", subset: "v2" } }] },
          {
            name: "canary",
            route: [
              { destination: { host: "reviews", subset: "v1" }, weight: 90 },
              { destination: { host: "reviews.bookinfo", subset: "v3" }, weight: 10 },
            ],
            timeout: "10s",
            retries: { attempts: 2, perTryTimeout: "3s" },
            mirror: { destination: { host: "reviews", subset: "v2" }, percentage: 5 },
          },
        ],
      },
    },
    {
      kind: "Route",
      metadata: { name: "ratings", namespace: ns },
      spec: {
        hosts: ["ratings"],
        http: [
          { match: [{ path: { regex: "^/ratings/[0-9]+$" }, method: "GET" }], route: [{ destination: { host: "ratings" } }] },
          { match: [{ path: { prefix: "/" } }], route: [{ destination: { host: "ratings" } }], fault: { abort: { httpStatus: 503, percentage: 1 } } },
        ],
      },
    },
    {
      kind: "Route",
      metadata: { name: "bookinfo", namespace: ns },
      spec: {
        hosts: ["bookinfo.example.com"],
        gateways: ["bookinfo-gateway"],
        http: [
          { match: [{ path: { exact: "/productpage" } }, { path: { prefix: "/static/" } }], route: [{ destination: { host: "productpage", port: 9080 } }] },
          { match: [{ path: { prefix: "/api/v1/products" } }], route: [{ destination: { host: "productpage" } }] },
        ],
      },
    },
    { kind: "Route", metadata: { name: "googleapis", namespace: ns }, spec: { hosts: ["www.googleapis.com"], http: [{ route: [{ destination: { host: "www.googleapis.com" } }], timeout: "5s" }] } },
    {
      kind: "Gateway",
      metadata: { name: "bookinfo-gateway", namespace: ns },
      spec: { selector: { service: "ingress-gateway" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["bookinfo.example.com"] }] },
    },
    {
      kind: "ServiceEntry",
      metadata: { name: "googleapis", namespace: ns },
      spec: { hosts: ["*.googleapis.com"], ports: [{ name: "https", number: 443, protocol: "HTTPS" }] },
    },
    { kind: "PeerAuthentication", metadata: { name: "default", namespace: "trellis-system" }, spec: { mode: "STRICT" } },
    { kind: "PeerAuthentication", metadata: { name: "default", namespace: ns }, spec: { mode: "STRICT" } },
    {
      kind: "AuthorizationPolicy",
      metadata: { name: "reviews-viewer", namespace: ns },
      spec: {
        selector: { service: "reviews" },
        action: "ALLOW",
        rules: [
          {
            from: [{ source: { principals: ["spiffe://cluster.local/ns/bookinfo/sa/productpage"], namespaces: ["bookinfo"] } }],
            to: [{ operation: { methods: ["GET"], paths: ["/reviews/*"] } }],
          },
        ],
      },
    },
    {
      kind: "RequestAuthentication",
      metadata: { name: "productpage-jwt", namespace: ns },
      spec: { selector: { service: "productpage" }, jwtRules: [{ issuer: "https://auth.example.com", jwksUri: "https://auth.example.com/.well-known/jwks.json" }] },
    },
    {
      kind: "AuthorizationPolicy",
      metadata: { name: "productpage-jwt", namespace: ns },
      spec: {
        selector: { service: "productpage" },
        rules: [{ from: [{ source: { principals: ["spiffe://cluster.local/ns/bookinfo/sa/ingress-gateway"] } }], when: [{ key: "request.auth.claims[iss]", values: ["https://auth.example.com"] }] }],
      },
    },
    {
      kind: "RateLimitPolicy",
      metadata: { name: "ratings", namespace: ns },
      spec: { selector: { service: "ratings" }, limits: [{ match: { path: { regex: "^/ratings/[0-9]+$" } }, bucket: { maxTokens: 100, tokensPerFill: 10, fillInterval: "1s" } }] },
    },
  );
}

/** Replaces the resource with the same key (or appends it). */
export function withResource(mesh: readonly Resource[], input: unknown): Resource[] {
  const r = parseResource(input);
  const key = resourceKey(r);
  const i = mesh.findIndex((m) => resourceKey(m) === key);
  return i < 0 ? [...mesh, r] : mesh.map((m, j) => (j === i ? r : m));
}

/** The resource with this key, for tests that edit one field (a deep copy). */
export function get(mesh: readonly Resource[], key: string): Record<string, any> {
  const r = mesh.find((m) => resourceKey(m) === key);
  if (!r) throw new Error(`no resource ${key} in the fixture`);
  return structuredClone(r) as Record<string, any>;
}

/** Findings reduced to what tests assert on. */
export function brief(findings: readonly Finding[]): { code: string; severity: string; resource: string; path: string }[] {
  return findings.map(({ code, severity, resource, path }) => ({ code, severity, resource, path }));
}
