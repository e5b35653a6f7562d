import { SnapshotSchema, formatPath } from "@trellis/config";
import type { Snapshot } from "@trellis/config";
import { SNAPSHOT_CONTENT_TYPE } from "@trellis/proto";
import type { Snapshot as SnapshotMessage } from "@trellis/proto";

/**
 * A Snapshot the proxy refuses: unknown content type, not JSON, not a valid SnapshotSchema,
 * or not consistent with its envelope. The message becomes the NACK reason, so it names the
 * offending fields and says what was expected.
 */
export class SnapshotDecodeError extends Error {
  readonly code = "TRELLIS_INVALID_SNAPSHOT";
  override get name(): string {
    return "SnapshotDecodeError";
  }
}

/** Issues listed in a NACK reason at most; the rest are counted. */
const MAX_ISSUES = 10;

/** Validates parsed JSON as a snapshot; throws a SnapshotDecodeError naming each bad field (`outbound.hosts[3].clusters[0].port: …`). */
export function validateSnapshot(json: unknown): Snapshot {
  const r = SnapshotSchema.safeParse(json);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${formatPath(i.path) || "(root)"}: ${i.message}`);
  const more = issues.length > MAX_ISSUES ? `; and ${issues.length - MAX_ISSUES} more` : "";
  throw new SnapshotDecodeError(`snapshot does not match SnapshotSchema: ${issues.slice(0, MAX_ISSUES).join("; ")}${more}`);
}

/**
 * Decodes the body of a Snapshot message: content type, JSON, SnapshotSchema, and the body's
 * version equal to the envelope's (the one the ACK or NACK will echo). `proxyId`, when given,
 * must be the snapshot's `proxy.id`: a snapshot compiled for another proxy is refused.
 */
export function decodeSnapshot(message: SnapshotMessage, proxyId?: string): Snapshot {
  if (message.contentType !== SNAPSHOT_CONTENT_TYPE) {
    throw new SnapshotDecodeError(`unsupported content_type '${message.contentType}': this proxy understands '${SNAPSHOT_CONTENT_TYPE}'`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(message.body).toString("utf8"));
  } catch (err) {
    throw new SnapshotDecodeError(`snapshot body is not valid JSON: ${(err as Error).message}`);
  }
  const snapshot = validateSnapshot(json);
  if (snapshot.version !== message.version) {
    throw new SnapshotDecodeError(`snapshot body has version '${snapshot.version}' but its envelope says '${message.version}'; they must be equal`);
  }
  if (proxyId !== undefined && snapshot.proxy.id !== proxyId) {
    throw new SnapshotDecodeError(`snapshot is for proxy '${snapshot.proxy.id}', not for this proxy '${proxyId}'`);
  }
  return snapshot;
}
