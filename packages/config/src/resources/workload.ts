import { z } from "zod";
import { LabelsSchema, NameSchema, PortNumberSchema } from "../common";

/**
 * One running instance (proxy + app), declared statically (Istio WorkloadEntry). Workloads
 * with a sidecar also register themselves over the config stream; declare here the ones that
 * cannot (VMs, a database without a proxy).
 */
export const WorkloadSpecSchema = z
  .object({
    /** The Service (in this namespace) the workload belongs to. */
    service: NameSchema,
    /** IP address or host name where the workload (or its proxy's inbound port) is reached. */
    address: z.string().min(1, "must not be empty"),
    /** Service port name → the port on this workload, when it differs from the Service's targetPort. */
    ports: z.record(z.string(), PortNumberSchema).optional(),
    /** Labels such as `version: v2`; DestinationPolicy subsets select on them. */
    labels: LabelsSchema.default({}),
    /** The identity the workload runs as; defaults to its Service name. */
    serviceAccount: NameSchema.optional(),
    /** Whether the workload runs a Trellis sidecar (mTLS-capable). */
    sidecar: z.boolean().default(false),
    /** Relative load-balancing weight (1–1000). */
    weight: z.number().int().min(1).max(1000).default(1),
  })
  .strict();
export type WorkloadSpec = z.infer<typeof WorkloadSpecSchema>;
