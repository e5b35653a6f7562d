import { status } from "@grpc/grpc-js";
import { LabelsSchema, NameSchema, PortNumberSchema, ProtocolSchema, formatPath } from "@trellis/config";
import type { Endpoint, SnapshotProxy } from "@trellis/config";
import type { Hello } from "@trellis/proto";
import { z } from "zod";
import { ProtocolError } from "./protocol-error";

const HelloSchema = z.object({
  workload: z
    .string()
    .min(1, "must not be empty")
    .max(253, "must be at most 253 characters")
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.'"),
  service: NameSchema,
  namespace: NameSchema,
  labels: LabelsSchema,
  address: z.string().min(1, "must not be empty: other proxies reach this workload there").max(253),
  ports: z
    .array(z.object({ name: NameSchema, port: PortNumberSchema, protocol: ProtocolSchema }))
    .refine((ps) => new Set(ps.map((p) => p.name)).size === ps.length, "port names must be unique"),
  proxyVersion: z.string().max(64, "must be at most 64 characters"),
  lastVersion: z.string().max(64, "must be at most 64 characters"),
  /** 0 = not set (proto3 default): the workload's own ports are its endpoints' ports. */
  inboundPort: z.number().int().min(0).max(65535, "must be a port number, 1 to 65535 (0 = not set)"),
});

/** A Hello that passed validation, turned into what the registry and the compiler take. */
export interface ValidHello {
  endpoint: Endpoint;
  proxy: SnapshotProxy;
  /** The snapshot version the proxy already holds; empty if none. */
  lastVersion: string;
}

/** Validates a Hello; throws a ProtocolError (INVALID_ARGUMENT) naming every bad field. */
export function parseHello(hello: Hello): ValidHello {
  const r = HelloSchema.safeParse(hello);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `hello.${formatPath(i.path)}: ${i.message}`).join("; ");
    throw new ProtocolError("TRELLIS_INVALID_HELLO", `invalid Hello: ${issues}`, status.INVALID_ARGUMENT);
  }
  const h = r.data;
  const id = `${h.namespace}/${h.workload}`;
  return {
    endpoint: {
      id,
      workload: h.workload,
      service: h.service,
      namespace: h.namespace,
      address: h.address,
      ...(h.inboundPort !== 0 ? { inboundPort: h.inboundPort } : {}),
      ports: h.ports,
      labels: h.labels,
      sidecar: true,
      proxyVersion: h.proxyVersion,
    },
    proxy: { id, service: h.service, namespace: h.namespace, labels: h.labels },
    lastVersion: h.lastVersion,
  };
}
