import type { Snapshot } from "@trellis/config";
import { SNAPSHOT_CONTENT_TYPE } from "@trellis/proto";
import type { Snapshot as SnapshotMessage } from "@trellis/proto";

/**
 * Test data for this folder's unit tests: a minimal valid snapshot for proxy `default/reviews-a`
 * and its wire message. Not used by production code.
 */
export function snapshotFixture(version = "0123456789abcdef", revision = 1, proxyId = "default/reviews-a"): Snapshot {
  const [namespace = "default", workload = "reviews-a"] = proxyId.split("/");
  return {
    version,
    revision,
    proxy: { id: `${namespace}/${workload}`, service: "reviews", namespace, labels: { version: "v1" } },
    inbound: {
      listeners: [{ name: "http", port: 9080, targetPort: 9080, protocol: "http" }],
      peerAuthentication: { mode: "PERMISSIVE", portLevel: {}, source: null },
      authorizationPolicies: [],
      jwtRules: [],
      rateLimits: [],
    },
    outbound: { hosts: [] },
    gateways: [],
  };
}

/** The Snapshot message carrying `body` (an object is JSON-encoded), with the body's version unless given. */
export function snapshotMessage(body: unknown, version?: string, contentType = SNAPSHOT_CONTENT_TYPE): SnapshotMessage {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const v = version ?? (body as { version?: string }).version ?? "";
  return { version: v, contentType, body: Buffer.from(text, "utf8") };
}
