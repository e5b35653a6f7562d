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
    /**
     * Percent of requests, 0–100, that start a sampled trace at this Service's proxies
     * (default DEFAULT_TRACE_SAMPLING_PERCENT). Requests that arrive with a sampling decision
     * keep it, so one trace is never cut in two by services with different rates.
     */
    traceSampling: z.number().min(0, "must be 0 to 100").max(100, "must be 0 to 100").optional(),
  })
  .strict();
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;

/** Service `traceSampling` when unset: 1 % of requests, Istio's default sampling rate. */
export const DEFAULT_TRACE_SAMPLING_PERCENT = 1;
