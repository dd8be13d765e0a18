// A log-linear histogram of numbers (durations in seconds): 16 bins per power of
// two on each side of 0, so a quantile is known within 1/16 of its value (6.25 %,
// the bin's width; the estimate interpolates inside the bin) and kept within
// the exact least and greatest value, which the caller keeps (beside its other
// hot numbers: a float field is a box of its own to reach). Adding a value
// allocates nothing: its bin is read from the bits of the
// float (exponent and the top 4 mantissa bits), and the counts are a typed array
// that grows only to the range of values seen (a few hundred bytes for a
// periodic PV), so a subscription's statistics stay bounded however long the
// capture.

const SUB_BITS = 4;
const SUB = 1 << SUB_BITS;
/** Values below 2^MIN_EXP s (1 µs) share bin 0: capture time stamps are mostly no finer. */
const MIN_EXP = -20;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** which 32-bit word of a float64 holds its sign, exponent and top of the mantissa */
const HI = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;

/** The bin of v >= 0: 0 below 2^MIN_EXP, else 1 + (exponent - MIN_EXP) * 16 + the top 4 bits of the mantissa. */
export function binOf(v: number): number {
  f64[0] = v;
  const hi = u32[HI]!;
  const e = ((hi >>> 20) & 0x7ff) - 1023;
  if (e < MIN_EXP) return 0;
  return 1 + ((e - MIN_EXP) << SUB_BITS) + ((hi >>> (20 - SUB_BITS)) & (SUB - 1));
}

/** The smallest value of a bin of binOf. */
export function binStart(bin: number): number {
  if (bin <= 0) return 0;
  const e = ((bin - 1) >> SUB_BITS) + MIN_EXP;
  return 2 ** e * (1 + ((bin - 1) & (SUB - 1)) / SUB);
}

/** The slot of any number, in the order of the numbers: binOf for v >= 0, -1 - binOf(-v) below 0. */
export const slotOf = (v: number): number => (v >= 0 ? binOf(v) : -1 - binOf(-v));

/**
 * The slot of v in a histogram whose values closer to 0 than `floor` (a power of
 * two, at least 2^-20 s) share slot 0: coarser, so that more values in a row fall
 * in one slot (LogHistogram.addRun).
 */
export const coarseSlotOf = (v: number, floor: number): number => (v < floor && v > -floor ? 0 : slotOf(v));

/** The smallest value of a slot (the slot ends where the next one starts). */
const slotStart = (slot: number): number => (slot >= 0 ? binStart(slot) : -binStart(-slot));

/** The q-quantile of n values known by rank, as latency-stats' quantileSorted takes it (linear between ranks); NaN when empty. */
function rankQuantile(n: number, q: number, atRank: (r: number) => number): number {
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const r = Math.floor(pos);
  const a = atRank(r);
  return r + 1 < n && pos > r ? a + (atRank(r + 1) - a) * (pos - r) : a;
}

const NONE = new Uint32Array(0);

export class LogHistogram {
  /** counts[i]: values in slot `lo + i` */
  private counts = NONE;
  private lo = 0;
  n = 0;

  add(v: number): void {
    this.addRun(slotOf(v), 1);
  }

  /**
   * `count` values of one slot (slotOf). A caller that adds many values in a row
   * counts the run of one slot itself and adds it when the slot changes: the
   * counts, one more cache line to reach, are then seldom touched.
   */
  addRun(slot: number, count: number): void {
    this.n += count;
    const i = slot - this.lo;
    if (i < 0 || i >= this.counts.length) this.grow(slot);
    this.counts[slot - this.lo]! += count;
  }

  /** Widens the counts to hold `slot` (with room on that side). */
  private grow(slot: number): void {
    const old = this.counts;
    // at least twice as wide each time: a few allocations for any range
    const room = Math.max(2 * SUB, old.length);
    const lo = old.length === 0 ? slot - room : Math.min(this.lo, slot - room);
    const end = old.length === 0 ? slot + room : Math.max(this.lo + old.length, slot + room);
    this.counts = new Uint32Array(end - lo);
    if (old.length) this.counts.set(old, this.lo - lo);
    this.lo = lo;
  }

  /** The value of rank r (0: the smallest), interpolated inside its bin and kept within [min, max] (the least and greatest added). */
  atRank(r: number, min: number, max: number): number {
    const counts = this.counts;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      const c = counts[i]!;
      if (r < seen + c) {
        const slot = this.lo + i;
        const a = slotStart(slot);
        const v = a + ((slotStart(slot + 1) - a) * (r - seen + 0.5)) / c;
        return Math.min(max, Math.max(min, v));
      }
      seen += c;
    }
    return max;
  }

  /** The q-quantile (within a bin's width, 1/16 of the value). */
  quantile(q: number, min: number, max: number): number {
    return rankQuantile(this.n, q, (r) => this.atRank(r, min, max));
  }

  /** About how many values are above x: whole bins above it, and the share of x's bin above it (max: the greatest added). */
  countAbove(x: number, max: number): number {
    if (!(x < max)) return 0;
    const counts = this.counts;
    const sx = slotOf(x);
    let above = 0;
    for (let i = counts.length - 1; i >= 0 && this.lo + i >= sx; i--) {
      const slot = this.lo + i;
      if (slot > sx) above += counts[i]!;
      else {
        const a = slotStart(slot);
        const z = slotStart(slot + 1);
        above += Math.round((counts[i]! * (z - x)) / (z - a));
      }
    }
    return above;
  }
}
