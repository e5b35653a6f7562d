import { createHash } from "node:crypto";
import { clusterName, SnapshotSchema } from "@trellis/config";
import type { DestinationPolicySpec, OutboundHost, Snapshot, SnapshotRoute } from "@trellis/config";

/**
 * Builds snapshots for data-plane tests by hand, in the shape the control plane's compiler
 * produces (clusters per port and subset, endpoints carrying labels), validated by the same
 * SnapshotSchema the proxy checks. The end-to-end tests use the real control plane instead.
 */
export interface TestEndpoint {
  address?: string;
  port: number;
  labels?: Record<string, string>;
  sidecar?: boolean;
  weight?: number;
  /** The endpoint's PeerAuthentication is DISABLE: callers dial it without TLS. */
  plaintext?: boolean;
}

export interface TestHost {
  name: string;
  namespace?: string;
  ports: Array<{ name?: string; port: number; protocol: "http" | "http2" | "grpc" | "tcp" }>;
  endpoints: TestEndpoint[];
  routes?: Array<Omit<SnapshotRoute, "tcp" | "http"> & Partial<Pick<SnapshotRoute, "tcp" | "http">>>;
  policy?: DestinationPolicySpec;
  external?: boolean;
}

export function host(h: TestHost): OutboundHost {
  const ns = h.namespace ?? "default";
  const canonical = h.external ? h.name : `${h.name}.${ns}`;
  const clusters: OutboundHost["clusters"] = [];
  for (const p of h.ports) {
    const eps = h.endpoints.map((e) => ({ address: e.address ?? "127.0.0.1", port: e.port, labels: e.labels ?? {}, weight: e.weight ?? 1, sidecar: e.sidecar ?? false, ...(e.plaintext ? { plaintext: true } : {}) }));
    clusters.push({ name: clusterName(p.port, undefined, canonical), port: p.port, endpoints: eps });
    for (const s of h.policy?.subsets ?? []) {
      clusters.push({ name: clusterName(p.port, s.name, canonical), port: p.port, subset: s.name, endpoints: eps.filter((e) => Object.entries(s.labels).every(([k, v]) => e.labels[k] === v)) });
    }
  }
  return {
    host: canonical,
    aliases: h.external ? [] : [h.name, `${h.name}.${ns}.svc`],
    kind: h.external ? "external" : "service",
    ...(h.external ? { external: { location: "MESH_EXTERNAL" as const, resolution: "STATIC" as const } } : {}),
    ports: h.ports.map((p) => ({ name: p.name ?? p.protocol, port: p.port, protocol: p.protocol })),
    routes: (h.routes ?? []).map((r) => ({ source: r.source, http: r.http ?? [], tcp: r.tcp ?? [] })),
    ...(h.policy ? { policy: { source: `DestinationPolicy/${ns}/${h.name}`, spec: h.policy } } : {}),
    clusters,
  };
}

export interface TestSnapshot {
  service: string;
  namespace?: string;
  labels?: Record<string, string>;
  listeners?: Snapshot["inbound"]["listeners"];
  hosts?: OutboundHost[];
  rateLimits?: Snapshot["inbound"]["rateLimits"];
  authorizationPolicies?: Snapshot["inbound"]["authorizationPolicies"];
  jwtRules?: Snapshot["inbound"]["jwtRules"];
  peerAuthentication?: Snapshot["inbound"]["peerAuthentication"];
  gateways?: Snapshot["gateways"];
  revision?: number;
}

/** A validated snapshot; the version is a hash of the content, as the control plane's is. */
export function snapshot(s: TestSnapshot): Snapshot {
  const ns = s.namespace ?? "default";
  const body = {
    revision: s.revision ?? 1,
    proxy: { id: `${ns}/${s.service}-0`, service: s.service, namespace: ns, labels: s.labels ?? {} },
    inbound: { listeners: s.listeners ?? [], peerAuthentication: s.peerAuthentication ?? { mode: "PERMISSIVE" as const, portLevel: {}, source: null }, authorizationPolicies: s.authorizationPolicies ?? [], jwtRules: s.jwtRules ?? [], rateLimits: s.rateLimits ?? [] },
    outbound: { hosts: [...(s.hosts ?? [])].sort((a, b) => a.host.localeCompare(b.host)) },
    gateways: s.gateways ?? [],
  };
  const version = createHash("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 16);
  return SnapshotSchema.parse({ version, ...body });
}
