import { z } from "zod";
import { HostSchema, LabelsSchema, NameSchema, PortNumberSchema } from "../common";

/** A host outside (or not registered in) the mesh that workloads may call (Istio ServiceEntry). */
export const ServiceEntrySpecSchema = z
  .object({
    /** Host names (`api.stripe.com`). */
    hosts: z.array(HostSchema).min(1, "at least one host"),
    /** Ports the hosts are called on. */
    ports: z
      .array(
        z
          .object({
            /** Port name. */
            name: NameSchema,
            /** Port number. */
            number: PortNumberSchema,
            /** HTTP, HTTPS, HTTP2, GRPC, TLS or TCP. */
            protocol: z.enum(["HTTP", "HTTPS", "HTTP2", "GRPC", "TLS", "TCP"]),
          })
          .strict(),
      )
      .min(1, "at least one port"),
    /** MESH_EXTERNAL (outside the mesh, no mTLS) or MESH_INTERNAL. */
    location: z.enum(["MESH_EXTERNAL", "MESH_INTERNAL"]).default("MESH_EXTERNAL"),
    /** DNS (resolve the host), STATIC (use `endpoints`) or NONE (forward to the original address). */
    resolution: z.enum(["DNS", "STATIC", "NONE"]).default("DNS"),
    /** Endpoints for STATIC resolution. */
    endpoints: z
      .array(
        z
          .object({
            /** IP address or host name. */
            address: z.string().min(1),
            /** Port name → port, when it differs. */
            ports: z.record(z.string(), PortNumberSchema).optional(),
            /** Labels, for subsets. */
            labels: LabelsSchema.optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict()
  .refine((s) => s.resolution !== "STATIC" || (s.endpoints?.length ?? 0) > 0, { message: "STATIC resolution needs endpoints", path: ["endpoints"] });
export type ServiceEntrySpec = z.infer<typeof ServiceEntrySpecSchema>;
