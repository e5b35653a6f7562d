import { z } from "zod";
import { HostSchema, LabelsSchema, NameSchema, PortNumberSchema, ProtocolSchema } from "./common";
import { AuthzRuleSchema } from "./resources/authorization-policy";
import { DestinationPolicySpecSchema } from "./resources/destination-policy";
import { GatewayServerSchema } from "./resources/gateway";
import { MtlsModeSchema } from "./resources/peer-authentication";
import { RateLimitSchema } from "./resources/rate-limit-policy";
import { JwtRuleSchema } from "./resources/request-authentication";
import { HttpRouteRuleSchema, TcpRouteRuleSchema } from "./resources/route";

/**
 * The configuration one proxy receives from the control plane: everything it needs to serve,
 * compiled from the mesh resources and the live endpoints, and nothing it does not need.
 * Carried as JSON in the `Snapshot.body` of the ConfigDiscovery stream; the proxy validates
 * it with `SnapshotSchema` before swapping it in, so the schema is strict and self-contained:
 * host references are already resolved to the `host` of an outbound entry, subsets already
 * turned into clusters with their endpoints, and policy selection already done.
 */

/** The key of the resource a piece of the snapshot came from, `Kind/namespace/name` (see resourceKey). */
export const SourceKeySchema = z.string().regex(/^[A-Za-z]+\/[a-z0-9-]+\/[a-z0-9-]+$/, "must be a resource key `Kind/namespace/name`");

/** Who the snapshot is for. */
export const SnapshotProxySchema = z
  .object({
    /** The proxy's id, `namespace/workload`. */
    id: z.string().min(1),
    /** The Service its workload belongs to. */
    service: NameSchema,
    /** Its namespace. */
    namespace: NameSchema,
    /** Its workload labels, as given in its Hello. */
    labels: LabelsSchema,
  })
  .strict();

/** One inbound listener: a port of the proxy's Service. */
export const InboundListenerSchema = z
  .object({
    /** Service port name. */
    name: NameSchema,
    /** The port callers address. */
    port: PortNumberSchema,
    /** The port the local application listens on. */
    targetPort: PortNumberSchema,
    /** Application protocol; decides HTTP handling versus L4 forwarding. */
    protocol: ProtocolSchema,
  })
  .strict();

/** The effective mTLS mode of the proxy's inbound side. */
export const EffectivePeerAuthenticationSchema = z
  .object({
    /** Mode on every port not listed in portLevel. PERMISSIVE when no PeerAuthentication applies. */
    mode: MtlsModeSchema,
    /** Port number → mode, overriding `mode` on that port. */
    portLevel: z.record(z.string().regex(/^\d+$/, "keys are port numbers"), MtlsModeSchema),
    /** The PeerAuthentication that decided (the most specific: workload, then namespace, then mesh); null: the mesh default. */
    source: SourceKeySchema.nullable(),
  })
  .strict();

/** An AuthorizationPolicy that selects this proxy's workload. */
export const SnapshotAuthorizationPolicySchema = z
  .object({
    /** The policy's resource key, reported when it denies or audits a request. */
    source: SourceKeySchema,
    /** DENY is checked first; then, if any ALLOW exists, a request must match one; AUDIT only logs. */
    action: z.enum(["ALLOW", "DENY", "AUDIT"]),
    /** Rules (OR); an ALLOW with no rules allows nothing. */
    rules: z.array(AuthzRuleSchema),
  })
  .strict();

/** A JWT issuer accepted on the proxy's inbound side, from a RequestAuthentication selecting it. */
export const SnapshotJwtRuleSchema = z
  .object({
    /** The RequestAuthentication it came from. */
    source: SourceKeySchema,
    /** The issuer rule. */
    rule: JwtRuleSchema,
  })
  .strict();

/** An inbound rate limit, from a RateLimitPolicy selecting the proxy's workload. */
export const SnapshotRateLimitSchema = z
  .object({
    /** The RateLimitPolicy it came from. */
    source: SourceKeySchema,
    /** The limit; a request must pass every matching one. */
    limit: RateLimitSchema,
  })
  .strict();

/** Everything about traffic arriving at the proxy's workload. */
export const InboundSchema = z
  .object({
    /** One listener per port of the proxy's Service (from its Hello ports if the Service is not defined). */
    listeners: z.array(InboundListenerSchema),
    /** Effective mTLS mode. */
    peerAuthentication: EffectivePeerAuthenticationSchema,
    /** Every AuthorizationPolicy selecting this workload (mesh-wide, namespace-wide or by selector), ordered by source. */
    authorizationPolicies: z.array(SnapshotAuthorizationPolicySchema),
    /** Accepted JWT issuers from every RequestAuthentication selecting this workload. */
    jwtRules: z.array(SnapshotJwtRuleSchema),
    /** Rate limits from every RateLimitPolicy selecting this workload. */
    rateLimits: z.array(SnapshotRateLimitSchema),
  })
  .strict();

/** Protocols of outbound ports: Service protocols plus ServiceEntry's HTTPS and TLS (lower-cased). */
export const OutboundProtocolSchema = z.enum(["http", "http2", "grpc", "tcp", "https", "tls"]);

/** One port of an outbound host. */
export const OutboundPortSchema = z
  .object({
    /** Port name. */
    name: NameSchema,
    /** The port callers address. */
    port: PortNumberSchema,
    /** Protocol on this port. */
    protocol: OutboundProtocolSchema,
  })
  .strict();

/** One member of a cluster. */
export const ClusterEndpointSchema = z
  .object({
    /** IP address or host name (for DNS-resolved external hosts, the host itself). */
    address: z.string().min(1),
    /** The port on the endpoint. */
    port: PortNumberSchema,
    /** The endpoint's labels. */
    labels: LabelsSchema,
    /** Relative load-balancing weight. */
    weight: z.number().int().min(1).max(1000),
    /** Whether a Trellis sidecar fronts it, so mesh mTLS can be used towards it. */
    sidecar: z.boolean(),
    /**
     * True when the workload's PeerAuthentication DISABLEs mTLS on this port: callers' sidecars
     * dial it without TLS. Otherwise a caller with a workload identity reaches a sidecar
     * endpoint over mTLS and checks that it presents its service's SPIFFE ID.
     */
    plaintext: z.boolean().optional(),
  })
  .strict();

/** The endpoints traffic to one (host, port, subset) is balanced over (an Envoy cluster). */
export const ClusterSchema = z
  .object({
    /** `outbound|<port>|<subset>|<host>`, subset empty for the whole host (see clusterName). */
    name: z.string().min(1),
    /** The host port. */
    port: PortNumberSchema,
    /** The DestinationPolicy subset; absent: every endpoint of the host. */
    subset: NameSchema.optional(),
    /** Members: endpoints of the host carrying all of the subset's labels. */
    endpoints: z.array(ClusterEndpointSchema),
  })
  .strict();

/** Route rules of one Route resource that apply to a host, destination hosts already resolved. */
export const SnapshotRouteSchema = z
  .object({
    /** The Route it came from. */
    source: SourceKeySchema,
    /** HTTP rules in order; every `destination.host` / `mirror.destination.host` is an outbound `host`. */
    http: z.array(HttpRouteRuleSchema),
    /** TCP rules in order, hosts resolved likewise. */
    tcp: z.array(TcpRouteRuleSchema),
  })
  .strict();

/** One host the proxy's workload may call, with how to route to it and where its endpoints are. */
export const OutboundHostSchema = z
  .object({
    /** Canonical name: `name.namespace` for a Service, the host as written for a ServiceEntry. */
    host: HostSchema,
    /** Other names callers use for it: `name` (same namespace only) and `name.namespace.svc`. */
    aliases: z.array(HostSchema),
    /** A mesh Service or an external (ServiceEntry) host. */
    kind: z.enum(["service", "external"]),
    /** For external hosts: where it lives and how its address is found. */
    external: z
      .object({
        /** MESH_EXTERNAL (no mesh mTLS) or MESH_INTERNAL. */
        location: z.enum(["MESH_EXTERNAL", "MESH_INTERNAL"]),
        /** DNS: connect to the host name; STATIC: to the cluster endpoints; NONE: to the original destination address. */
        resolution: z.enum(["DNS", "STATIC", "NONE"]),
      })
      .strict()
      .optional(),
    /** Ports and their protocols. */
    ports: z.array(OutboundPortSchema),
    /** Routes whose hosts include this one, ordered by source; first matching rule wins. None: straight to the host. */
    routes: z.array(SnapshotRouteSchema),
    /** The DestinationPolicy for this host (the caller's namespace, then the host's, then the root namespace). */
    policy: z.object({ /** The DestinationPolicy it came from. */ source: SourceKeySchema, /** Its spec. */ spec: DestinationPolicySpecSchema }).strict().optional(),
    /** One cluster per port for the whole host plus one per port and subset. */
    clusters: z.array(ClusterSchema),
  })
  .strict()
  .refine((h) => (h.kind === "external") === (h.external !== undefined), { message: "external is set exactly on external hosts", path: ["external"] });

/** Everything about traffic leaving the proxy's workload. */
export const OutboundSchema = z
  .object({
    /** Hosts ordered by `host`: every Service and ServiceEntry host, or with Service `egress` set, those and the hosts their routes send to. */
    hosts: z.array(OutboundHostSchema),
  })
  .strict();

/** Routes bound to a gateway (Route `gateways` naming it), destination hosts resolved. */
export const GatewayRouteSchema = z
  .object({
    /** The Route it came from. */
    source: SourceKeySchema,
    /** The hosts (Host / SNI) the route serves on the gateway, as written. */
    hosts: z.array(HostSchema),
    /** HTTP rules in order; destinations are outbound `host`s. */
    http: z.array(HttpRouteRuleSchema),
    /** TCP rules in order. */
    tcp: z.array(TcpRouteRuleSchema),
  })
  .strict();

/** A Gateway this proxy runs (gateway mode): its listeners and the routes bound to it. */
export const SnapshotGatewaySchema = z
  .object({
    /** The Gateway resource. */
    source: SourceKeySchema,
    /** Its listeners. */
    servers: z.array(GatewayServerSchema),
    /** Routes bound to it, ordered by source. */
    routes: z.array(GatewayRouteSchema),
  })
  .strict();

/** How the proxy traces the requests it handles (its own Service's settings). */
export const SnapshotTracingSchema = z
  .object({
    /**
     * Percent of requests, 0–100, that start a sampled trace here: the Service's
     * `traceSampling`. Applies only to requests that arrive without a sampling decision; a
     * decision made upstream (traceparent flags, B3 sampled) is always followed.
     */
    samplingPercent: z.number().min(0, "must be 0 to 100").max(100, "must be 0 to 100"),
  })
  .strict();

/** The mesh's trust: whose certificates a proxy accepts (its peers', the control plane's). */
export const SnapshotTrustSchema = z
  .object({
    /** SPIFFE trust domain: peers are spiffe://<trustDomain>/ns/<namespace>/sa/<service>. */
    trustDomain: z.string().regex(/^[a-z0-9._-]{1,255}$/, "must be a trust domain (lower-case letters, digits, '.', '-', '_')"),
    /** The roots to trust now, PEM: the active root and, during a rotation's overlap, the previous one. */
    bundlePem: z.string().regex(/-----BEGIN CERTIFICATE-----/, "must hold at least one PEM certificate"),
  })
  .strict();

/** The whole configuration of one proxy. */
export const SnapshotSchema = z
  .object({
    /**
     * First 16 hex digits of a SHA-256 over the canonical JSON of the content (everything but
     * `version` and `revision`): an unchanged configuration keeps its version across revisions.
     */
    version: z.string().regex(/^[0-9a-f]{16}$/, "must be 16 lower-case hex digits"),
    /** The config revision this snapshot was compiled from (informational; not part of the version). */
    revision: z.number().int().min(0),
    /** Who it is for. */
    proxy: SnapshotProxySchema,
    /** Inbound listeners and the policies guarding them. */
    inbound: InboundSchema,
    /** Hosts the workload may call. */
    outbound: OutboundSchema,
    /** Gateways whose selector names this proxy's Service (empty for a sidecar). */
    gateways: z.array(SnapshotGatewaySchema),
    /**
     * Tracing settings. Optional so a snapshot kept on disk by an older proxy still loads;
     * absent, the proxy starts no traces of its own but still continues sampled ones.
     */
    tracing: SnapshotTracingSchema.optional(),
    /** The trust bundle, so a root rotation reaches every proxy with its next snapshot; absent when the control plane runs no CA. */
    trust: SnapshotTrustSchema.optional(),
  })
  .strict();
export type Snapshot = z.infer<typeof SnapshotSchema>;
export type SnapshotTrust = z.infer<typeof SnapshotTrustSchema>;
export type SnapshotTracing = z.infer<typeof SnapshotTracingSchema>;
export type SnapshotProxy = z.infer<typeof SnapshotProxySchema>;
export type Inbound = z.infer<typeof InboundSchema>;
export type Outbound = z.infer<typeof OutboundSchema>;
export type OutboundHost = z.infer<typeof OutboundHostSchema>;
export type Cluster = z.infer<typeof ClusterSchema>;
export type ClusterEndpoint = z.infer<typeof ClusterEndpointSchema>;
export type SnapshotRoute = z.infer<typeof SnapshotRouteSchema>;
export type SnapshotGateway = z.infer<typeof SnapshotGatewaySchema>;

/** The cluster name for a host port and optional subset, Istio's `outbound|9080|v2|reviews.default`. */
export function clusterName(port: number, subset: string | undefined, host: string): string {
  return `outbound|${port}|${subset ?? ""}|${host}`;
}
