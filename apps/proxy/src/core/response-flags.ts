import type { ResponseFlag } from "./errors";

/**
 * Envoy's order of response flags (its ResponseFlagUtils table), so the same set of flags
 * always prints the same way whatever order the layers set them in: one metric series per
 * set, not one per permutation. RBAC is Trellis's own and goes last.
 */
const ORDER: readonly ResponseFlag[] = ["UH", "UT", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "DC", "URX", "RBAC"];
const BIT = new Map<ResponseFlag, number>(ORDER.map((f, i) => [f, 1 << i]));

/** Printed sets by bits: the few combinations a proxy sees are formatted once each. */
const printed = new Map<number, string>([[0, "-"]]);

/**
 * The response flags of one request: a bit per flag. A Set per request cost a hash table on
 * every request's path (and a sort per print); the bits cost a number, and the printed form
 * (`-`, `UH`, `UH,URX`, in Envoy's order) is looked up by value.
 */
export class ResponseFlags implements Iterable<ResponseFlag> {
  private bits_ = 0;

  add(flag: ResponseFlag): this {
    this.bits_ |= BIT.get(flag) ?? 0;
    return this;
  }

  has(flag: ResponseFlag): boolean {
    return (this.bits_ & (BIT.get(flag) ?? 0)) !== 0;
  }

  /** The set as a number (one bit per flag): equal sets, equal numbers. */
  get bits(): number {
    return this.bits_;
  }

  get size(): number {
    let n = 0;
    for (let b = this.bits_; b !== 0; b &= b - 1) n++;
    return n;
  }

  /** The flags in Envoy's order. */
  *[Symbol.iterator](): Iterator<ResponseFlag> {
    for (let i = 0; i < ORDER.length; i++) if (this.bits_ & (1 << i)) yield ORDER[i]!;
  }

  /** `-` when there are none, else the flags in Envoy's order joined by `,` (`UH,URX`), as in the access log and the `response_flags` label. */
  format(): string {
    let s = printed.get(this.bits_);
    if (s === undefined) {
      s = [...this].join(",");
      printed.set(this.bits_, s);
    }
    return s;
  }
}
