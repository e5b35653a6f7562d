/**
 * Canary weights as the editor's handles move them: integers that always total 100.
 *
 * Moving one handle sets that destination's weight (limited to what the locked ones leave)
 * and spreads the rest over the other unlocked destinations in proportion to their current
 * weights (evenly when they are all 0); rounding by largest remainder, so the total stays
 * exactly 100. Locked destinations never change.
 */

function spread(amount: number, current: readonly number[]): number[] {
  if (current.length === 0) return [];
  const sum = current.reduce((s, w) => s + w, 0);
  const exact = current.map((w) => (sum > 0 ? (amount * w) / sum : amount / current.length));
  const out = exact.map(Math.floor);
  let left = amount - out.reduce((s, w) => s + w, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i]!++;
    left--;
  }
  return out;
}

/** The weights after destination `i` is moved to `value`. */
export function setWeight(weights: readonly number[], locked: readonly boolean[], i: number, value: number): number[] {
  const lockedSum = weights.reduce((s, w, j) => s + (j !== i && locked[j] ? w : 0), 0);
  const others = weights.map((_, j) => j).filter((j) => j !== i && !locked[j]);
  const room = Math.max(0, 100 - lockedSum);
  // With nobody to take the rest, the moved one takes all that is left.
  const v = others.length === 0 ? room : Math.min(room, Math.max(0, Math.round(value)));
  const rest = spread(room - v, others.map((j) => weights[j]!));
  const out = [...weights];
  out[i] = v;
  others.forEach((j, k) => (out[j] = rest[k]!));
  return out;
}

/** Every unlocked destination gets an equal part of what the locked ones leave. */
export function distributeEvenly(weights: readonly number[], locked: readonly boolean[]): number[] {
  const lockedSum = weights.reduce((s, w, j) => s + (locked[j] ? w : 0), 0);
  const free = weights.map((_, j) => j).filter((j) => !locked[j]);
  const parts = spread(Math.max(0, 100 - lockedSum), free.map(() => 1));
  const out = [...weights];
  free.forEach((j, k) => (out[j] = parts[k]!));
  return out;
}
