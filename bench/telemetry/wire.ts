import { ProxyMessage, TelemetryDelta } from "@trellis/proto";

/**
 * Pre-encoded telemetry messages. A fake proxy's deltas are encoded once, before the measured
 * phases, without their sequence; sending one costs a few bytes of framing (ProxyMessage field 4
 * around TelemetryDelta field 1 + the rest). The load generator shares two cores with the
 * control plane under test, so what it does not spend there, the control plane gets.
 */

/** ProxyMessage.telemetry is field 4, TelemetryDelta.sequence field 1 (telemetry.proto, discovery.proto). */
const PROXY_MESSAGE_TELEMETRY_TAG = (4 << 3) | 2;
const DELTA_SEQUENCE_TAG = (1 << 3) | 0;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A delta's fields other than its sequence, encoded. */
export function encodeDeltaBody(d: TelemetryDelta): Uint8Array {
  return TelemetryDelta.encode({ ...d, sequence: 0 }).finish();
}

/** The ProxyMessage carrying `body` (from encodeDeltaBody) as the delta numbered `sequence`. */
export function telemetryMessage(body: Uint8Array, sequence: number): Buffer {
  const seq = [DELTA_SEQUENCE_TAG, ...varint(sequence)];
  const inner = seq.length + body.length;
  return Buffer.concat([Buffer.from([PROXY_MESSAGE_TELEMETRY_TAG, ...varint(inner), ...seq]), body]);
}

/** Any other ProxyMessage (Hello, ACK), encoded. */
export function encodeProxyMessage(m: ProxyMessage): Buffer {
  return Buffer.from(ProxyMessage.encode(m).finish());
}
