// Latency statistics per group: count, mean, std, min, 25%, 50%, 75%, max in
// milliseconds, as pandas' describe() gives them. Two ways to the same numbers:
// - LatencyAccumulator: streaming, keeps each group's latencies in a growing
//   Float64Array (8 bytes a pair), so quantiles are exact at any size;
// - danfoStats: danfo.js groupby().agg() on a DataFrame, for modest record counts
//   (danfo.js has no quantiles: those come from the accumulator's sorted values).
// std is the sample standard deviation (n - 1), NaN for a single value (pandas);
// quantiles interpolate linearly between the two nearest ranks (numpy's default,
// pandas' quantile()).

import type { PairKind } from './pairing.js';
import { PAIR_KINDS } from './pairing.js';

export interface LatencyStats {
  kind: PairKind;
  /** the server, client, PV or circuit the row describes */
  group: string;
  count: number;
  /** milliseconds */
  mean: number;
  std: number;
  min: number;
  q25: number;
  q50: number;
  q75: number;
  max: number;
}

/** One group's latencies in milliseconds, sorted ascending. */
export interface LatencyDistribution {
  kind: PairKind;
  group: string;
  values: Float64Array;
}

/** Milliseconds of a latency in seconds, via whole nanoseconds so 0.007 s gives exactly 7. */
export function millis(seconds: number): number {
  return Math.round(seconds * 1e9) / 1e6;
}

/** Quantile q (0..1) of sorted values, linear interpolation between ranks. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Middle value of sorted numbers (mean of the two middle ones for an even count). */
export const median = (sorted: ArrayLike<number>): number => quantileSorted(sorted, 0.5);

const groupId = (kind: PairKind, group: string): string => `${kind}\u0000${group}`;

/** Numbers inside names compare as numbers: 10.0.0.9:5064 before 10.0.0.10:5064, circuit 9 before 11. Made on first use: ICU costs milliseconds at start-up. */
let groupOrder: Intl.Collator | undefined;

/** Kind order (search … connect), then group name: the order of every row and series. */
function byKindThenGroup(a: { kind: PairKind; group: string }, b: { kind: PairKind; group: string }): number {
  return PAIR_KINDS.indexOf(a.kind) - PAIR_KINDS.indexOf(b.kind) || (groupOrder ??= new Intl.Collator('en', { numeric: true })).compare(a.group, b.group);
}

interface Group {
  kind: PairKind;
  group: string;
  values: Float64Array;
  n: number;
}

export class LatencyAccumulator {
  /** by kind, then group (two levels: no key string to build per value) */
  private readonly groups = new Map<PairKind, Map<string, Group>>();
  private sorted?: LatencyDistribution[];

  /** An accumulator holding the union of these distributions (one capture's each, say): merged groups, same statistics as adding every value. */
  static fromDistributions(...lists: Iterable<LatencyDistribution>[]): LatencyAccumulator {
    const acc = new LatencyAccumulator();
    for (const list of lists) for (const d of list) acc.addValues(d.kind, d.group, d.values);
    return acc;
  }

  add(kind: PairKind, group: string, ms: number): void {
    const g = this.group(kind, group, 1);
    g.values[g.n++] = ms;
    this.sorted = undefined;
  }

  /** Adds many latencies (ms) of one group at once. */
  addValues(kind: PairKind, group: string, ms: ArrayLike<number>): void {
    const g = this.group(kind, group, ms.length);
    g.values.set(ms, g.n);
    g.n += ms.length;
    this.sorted = undefined;
  }

  /** The group, with room for `more` values. */
  private group(kind: PairKind, group: string, more: number): Group {
    let byGroup = this.groups.get(kind);
    if (!byGroup) this.groups.set(kind, (byGroup = new Map()));
    let g = byGroup.get(group);
    if (!g) byGroup.set(group, (g = { kind, group, values: new Float64Array(Math.max(64, more)), n: 0 }));
    if (g.n + more > g.values.length) {
      const grown = new Float64Array(Math.max(g.values.length * 2, g.n + more));
      grown.set(g.values.subarray(0, g.n));
      g.values = grown;
    }
    return g;
  }

  /** Every group's latencies, sorted (the arrays are views of the accumulator's storage). */
  distributions(): LatencyDistribution[] {
    this.sorted ??= [...this.groups.values()]
      .flatMap((byGroup) => [...byGroup.values()])
      .map((g) => ({ kind: g.kind, group: g.group, values: g.values.subarray(0, g.n).sort() }))
      .sort(byKindThenGroup);
    return this.sorted;
  }

  stats(): LatencyStats[] {
    return this.distributions().map(({ kind, group, values }) => {
        const n = values.length;
        let sum = 0;
        for (const v of values) sum += v;
        const mean = sum / n;
        let squares = 0;
        for (const v of values) squares += (v - mean) * (v - mean);
      return { kind, group, count: n, mean, std: n > 1 ? Math.sqrt(squares / (n - 1)) : NaN, ...quartiles(values), min: values[0]!, max: values[n - 1]! };
    });
  }
}

function quartiles(sorted: ArrayLike<number>): Pick<LatencyStats, 'q25' | 'q50' | 'q75'> {
  return { q25: quantileSorted(sorted, 0.25), q50: quantileSorted(sorted, 0.5), q75: quantileSorted(sorted, 0.75) };
}

/** The columns danfoStats groups: one entry per pair. */
export interface LatencyColumns {
  kind: PairKind[];
  group: string[];
  latencyMs: number[];
}

/**
 * Statistics from danfo.js: groupby(kind, group).agg(count, mean, std, min, max)
 * on a DataFrame of the pairs; quartiles from the sorted distributions.
 */
export async function danfoStats(columns: LatencyColumns, distributions: readonly LatencyDistribution[]): Promise<LatencyStats[]> {
  const dfd = await loadDanfo();
  const df = new dfd.DataFrame({ kind: columns.kind, group: columns.group, latency_ms: columns.latencyMs });
  const agg = df.groupby(['kind', 'group']).agg({ latency_ms: ['count', 'mean', 'std', 'min', 'max'] });
  const rows = dfd.toJSON(agg, { format: 'column' }) as Record<string, number | string>[];
  const sorted = new Map(distributions.map((d) => [groupId(d.kind, d.group), d.values]));
  return rows
    .map((row): LatencyStats => {
      const kind = row.kind as PairKind;
      const group = String(row.group);
      const count = Number(row.latency_ms_count);
      return {
        kind,
        group,
        count,
        mean: Number(row.latency_ms_mean),
        std: count > 1 ? Number(row.latency_ms_std) : NaN, // danfo.js says 0 for one value
        min: Number(row.latency_ms_min),
        ...quartiles(sorted.get(groupId(kind, group)) ?? []),
        max: Number(row.latency_ms_max),
      };
    })
    .sort(byKindThenGroup);
}

/** danfo.js, loaded on first use (about 1 s and 140 MB), with the tfjs banner silenced. */
export async function loadDanfo(): Promise<typeof import('danfojs')> {
  const dfd = await import('danfojs');
  dfd.tensorflow.enableProdMode();
  return dfd;
}
