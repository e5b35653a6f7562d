import { z } from "zod";
import type { Endpoint, Resource } from "@trellis/config";
import type { LiveWindow } from "../telemetry/live/live-window";
import type { RequestSignals, SlotSource, Sums, TcpSignals, TimeRange } from "../telemetry/live/window-query";

/**
 * The traffic graph's domain types (Kiali's types/Graph.ts): what the API returns and what the
 * appenders in this folder build, one concern each.
 */

/** service: one node per Service; workload: per workload; app: per (service, version), boxed by service. */
export const GraphKindSchema = z.enum(["service", "workload", "app"]);
export type GraphKind = z.infer<typeof GraphKindSchema>;

export const HealthThresholdsSchema = z
  .object({
    /** Error rate (0..1) above which a node or edge is degraded; default 0 (any error). */
    degraded: z.number().min(0).max(1).default(0),
    /** Error rate (0..1) at or above which it is failing; default 0.1 (Kiali's). */
    failure: z.number().min(0).max(1).default(0.1),
  })
  .strict()
  .refine((t) => t.failure >= t.degraded, { message: "failure threshold must be at least the degraded threshold", path: ["failure"] });
export type HealthThresholds = z.infer<typeof HealthThresholdsSchema>;

export const GraphQuerySchema = z
  .object({
    kind: GraphKindSchema.default("service"),
    /** Only traffic from or to these namespaces (and their idle services); empty = all. */
    namespaces: z.array(z.string().min(1).max(63)).max(100).default([]),
    /** Window length, seconds (1 s to 24 h). */
    windowSec: z.number().int().min(1).max(86_400).default(60),
    /** End of the window, epoch ms (replay); default: now. */
    until: z.number().int().positive().optional(),
    /** Show services that had no traffic in the window. */
    includeIdle: z.boolean().default(true),
    health: HealthThresholdsSchema.default({ degraded: 0, failure: 0.1 }),
  })
  .strict();
export type GraphQuery = z.infer<typeof GraphQuerySchema>;

export type Health = "healthy" | "degraded" | "failure" | "idle";

/** Kiali-style badges: config that shapes traffic at or to a node. */
export type Badge = "split" | "fault" | "timeout" | "retry" | "mirror" | "circuit-breaker" | "authorization" | "missing-sidecar";

export interface GraphNode {
  id: string;
  /** service, workload, app (service + version), box (groups an app's versions), external (ServiceEntry host), unknown (callers without a sidecar). */
  type: "service" | "workload" | "app" | "box" | "external" | "unknown";
  label: string;
  namespace: string;
  service?: string;
  workload?: string;
  version?: string;
  /** Compound parent (the app box). */
  parent?: string;
  health: Health;
  badges: Badge[];
  /** Requests into and out of the node in the window. */
  inbound: RequestSignals | null;
  outbound: RequestSignals | null;
  /** No traffic in the window; shown because the config has it. */
  idle: boolean;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  protocol: "http" | "grpc" | "tcp";
  /** HTTP/gRPC edges. */
  traffic: RequestSignals | null;
  /** TCP edges. */
  tcp: TcpSignals | null;
  health: Health;
  /** Routes that carried the traffic (names). */
  routes: string[];
}

export interface Graph {
  kind: GraphKind;
  /** The window the figures cover, epoch ms. */
  from: number;
  to: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Wall time spent building, ms. */
  buildMs: number;
}

/** What appenders read and write. */
export interface GraphContext {
  query: GraphQuery;
  range: TimeRange;
  seconds: number;
  window: LiveWindow | SlotSource;
  resources: readonly Resource[];
  endpoints: readonly Endpoint[];
  nodes: Map<string, GraphNode>;
  /** Edge sums while building, keyed like the edges. */
  edgeSums: Map<string, { edge: GraphEdge; sums: Sums }>;
}

/** One step of the pipeline (Kiali's appenders). */
export type Appender = (ctx: GraphContext) => void;
