import { z } from "zod";
import { HostSchema, NameSchema, PortNumberSchema, ProtocolSchema } from "../common";

/** One port a Service exposes. */
export const ServicePortSchema = z
  .object({
    /** Port name, unique within the Service (`http`, `grpc-api`). */
    name: NameSchema,
    /** The port callers address (`reviews:9080`). */
    port: PortNumberSchema,
    /** Application protocol on this port; decides HTTP routing versus L4 forwarding. */
    protocol: ProtocolSchema,
    /** The port the application listens on inside its workload; defaults to `port`. */
    targetPort: PortNumberSchema.optional(),
  })
  .strict();

/** A named set of workloads reachable as one host (Istio/Kubernetes Service). */
export const ServiceSpecSchema = z
  .object({
    /** The ports the Service exposes; at least one. */
    ports: z.array(ServicePortSchema).min(1, "a Service needs at least one port"),
    /**
     * Whether this Service's workloads run a Trellis sidecar. `false` marks plain workloads
     * (VMs, legacy pods) that cannot terminate mesh mTLS.
     */
    sidecar: z.boolean().default(true),
    /**
     * The hosts this Service's workloads call (Istio's Sidecar egress hosts). When set, their
     * proxies receive only these hosts' routes, clusters and endpoints; when absent, every host.
     */
    egress: z.array(HostSchema).optional(),
    /** Fraction of requests traced, 0–100 (used by telemetry; default 1). */
    traceSampling: z.number().min(0).max(100).optional(),
  })
  .strict();
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;
