// Seeded randomness for synthetic traffic: a small deterministic PRNG and the
// delay distributions the scenario draws latencies from. Nothing here reads
// Math.random, so a seed always gives the same capture.

/** mulberry32: 32-bit state, full period, good enough for traffic shapes. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** uniform integer in [0, 2^32) */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** uniform in [0, 1) */
  next(): number {
    return this.u32() / 0x100000000;
  }

  /** uniform integer in [min, max] */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** standard normal (Box-Muller; one value per call keeps the stream simple) */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]: log stays finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** exponential with the given mean */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** An independent stream derived from this one (for per-entity randomness). */
  fork(): Random {
    return new Random(this.u32());
  }
}

/** A delay distribution in nanoseconds, given by its median. */
export type Distribution =
  | { kind: 'fixed'; medianNs: number }
  | { kind: 'exponential'; medianNs: number }
  | { kind: 'lognormal'; medianNs: number; sigma: number };

/** A sample of `d` in nanoseconds. */
export function sample(d: Distribution, random: Random): number {
  switch (d.kind) {
    case 'fixed':
      return d.medianNs;
    case 'exponential':
      return random.exponential(d.medianNs / Math.LN2);
    case 'lognormal':
      return d.medianNs * Math.exp(d.sigma * random.normal());
  }
}

/** `d` as the command line writes it: '2000us', 'exp:2000us', 'lognormal:5000us:0.5'. */
export function formatDistribution(d: Distribution): string {
  const median = `${d.medianNs / 1e3}us`;
  switch (d.kind) {
    case 'fixed':
      return median;
    case 'exponential':
      return `exp:${median}`;
    case 'lognormal':
      return `lognormal:${median}:${d.sigma}`;
  }
}
