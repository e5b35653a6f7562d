import { z } from "zod";
import { WorkloadSelectorSchema } from "../common";

/** mTLS mode on a workload's inbound side. */
export const MtlsModeSchema = z.enum(["STRICT", "PERMISSIVE", "DISABLE"]);
export type MtlsMode = z.infer<typeof MtlsModeSchema>;

/** Whether inbound traffic must be mutual TLS (Istio PeerAuthentication). */
export const PeerAuthenticationSpecSchema = z
  .object({
    /** Workloads governed; absent: the whole namespace (or mesh-wide, in the root namespace). */
    selector: WorkloadSelectorSchema.optional(),
    /** STRICT (mTLS only), PERMISSIVE (mTLS or plain text) or DISABLE (plain text). */
    mode: MtlsModeSchema,
    /** Per-port overrides: port number → mode. */
    portLevel: z.record(z.string().regex(/^\d+$/, "keys are port numbers"), MtlsModeSchema).optional(),
  })
  .strict();
export type PeerAuthenticationSpec = z.infer<typeof PeerAuthenticationSpecSchema>;
