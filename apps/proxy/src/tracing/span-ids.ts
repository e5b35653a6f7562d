import { randomFillSync } from "node:crypto";

/**
 * Random trace and span ids as lower-case hex. Ids come from a 4 KiB pool of random bytes
 * refilled as it runs out: one getrandom call per ~170 spans instead of one per id, which
 * keeps a sampled request's cost in the tens of nanoseconds. Ids need to be unique, not
 * secret, but the pool is crypto-grade anyway so no caller can predict another's ids.
 */
const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

function hex(bytes: number): string {
  for (;;) {
    if (offset + bytes > pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const id = pool.toString("hex", offset, offset + bytes);
    offset += bytes;
    // All zeros is the "invalid" id of both W3C and B3; draw again (probability 2^-64).
    if (!ALL_ZERO.test(id)) return id;
  }
}

const ALL_ZERO = /^0+$/;

/** 32 hex digits (128 bits), never all zeros. */
export function newTraceId(): string {
  return hex(16);
}

/** 16 hex digits (64 bits), never all zeros. */
export function newSpanId(): string {
  return hex(8);
}
