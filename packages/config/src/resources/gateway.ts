import { z } from "zod";
import { NameSchema, PortNumberSchema } from "../common";

/** One listener of a gateway. */
export const GatewayServerSchema = z
  .object({
    /** The port the gateway listens on. */
    port: z
      .object({
        /** Listener port. */
        number: PortNumberSchema,
        /** Listener name. */
        name: NameSchema,
        /** HTTP, HTTPS, HTTP2, GRPC, TLS or TCP. */
        protocol: z.enum(["HTTP", "HTTPS", "HTTP2", "GRPC", "TLS", "TCP"]),
      })
      .strict(),
    /** Host names served (`shop.example.com`, `*.example.com`, `*`). */
    hosts: z.array(z.string().regex(/^(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/, "must be a host name, '*.domain' or '*'")).min(1, "at least one host"),
    /** TLS termination for HTTPS/TLS ports. */
    tls: z
      .object({
        /** SIMPLE (server TLS), MUTUAL (client certificates required) or PASSTHROUGH (SNI routing, no termination). */
        mode: z.enum(["SIMPLE", "MUTUAL", "PASSTHROUGH"]),
        /** Name of the secret holding the certificate and key (never inlined). */
        credentialName: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** An ingress or egress listener run by a proxy in gateway mode (Istio Gateway). */
export const GatewaySpecSchema = z
  .object({
    /** The gateway proxies that run this listener, by their Service. */
    selector: z.object({ /** The gateway proxy's Service. */ service: NameSchema }).strict(),
    /** Listeners. */
    servers: z.array(GatewayServerSchema).min(1, "at least one server"),
  })
  .strict();
export type GatewaySpec = z.infer<typeof GatewaySpecSchema>;
