import { z } from "zod";
import { LabelsSchema, NameSchema, PortNumberSchema, ProtocolSchema } from "./common";

/**
 * A live endpoint: one workload whose proxy said hello on the config stream (or a static
 * Workload resource). The registry keeps these; the snapshot compiler turns them into
 * cluster members.
 */
export const EndpointSchema = z
  .object({
    /** `namespace/workload`, unique in the mesh. */
    id: z.string().min(1),
    /** The workload (instance) name, e.g. `reviews-v2-7f9c`. */
    workload: z.string().min(1).max(253),
    /** The Service it belongs to. */
    service: NameSchema,
    /** Its namespace. */
    namespace: NameSchema,
    /** Address where the workload's proxy (inbound side) is reached. */
    address: z.string().min(1),
    /**
     * Port of the workload's proxy's inbound listener, when it has one that takes mesh traffic
     * for every Service port (the destination port travels in the request). Cluster endpoints
     * of this workload then carry this port instead of the workload's own ports. Absent: peers
     * connect to the workload's ports (no sidecar, or a proxy that did not say).
     */
    inboundPort: PortNumberSchema.optional(),
    /** Ports the workload serves. */
    ports: z.array(z.object({ /** Port name. */ name: z.string(), /** Port. */ port: PortNumberSchema, /** Protocol. */ protocol: ProtocolSchema }).strict()),
    /** Labels (`version: v2`) used by subsets. */
    labels: LabelsSchema,
    /** Whether a Trellis sidecar fronts this workload. */
    sidecar: z.boolean(),
    /** Version of the proxy that registered it; empty for static workloads. */
    proxyVersion: z.string(),
  })
  .strict();
export type Endpoint = z.infer<typeof EndpointSchema>;
