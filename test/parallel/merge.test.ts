// Merging what the workers send back for `cawire latency a b …`: the statistics
// over several captures are those of the union of their latencies, counts add
// up, and listings come in time order with their file.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeLatencyParts, type LatencyPart } from '../../src/analysis/latency.js';
import { LatencyAccumulator } from '../../src/analysis/latency-stats.js';
import { PAIR_KINDS, type PairCounts, type PairKind, type PairRecord, type Unanswered } from '../../src/analysis/pairing.js';
import { newStats } from '../../src/dissect/stats.js';

const zero = (): Record<PairKind, number> => ({ search: 0, handshake: 0, create: 0, read: 0, write: 0, subscribe: 0, echo: 0, connect: 0 });

function counts(pairs: Partial<Record<PairKind, number>>, unanswered: Partial<Record<PairKind, number>> = {}, conflicts = 0): PairCounts {
  return { pairs: { ...zero(), ...pairs }, unanswered: { ...zero(), ...unanswered }, orphanResponses: { ...zero(), read: 1 }, searchConflicts: conflicts };
}

function part(values: [PairKind, string, number[]][], extra: Partial<LatencyPart> = {}): LatencyPart {
  const acc = new LatencyAccumulator();
  for (const [kind, group, ms] of values) for (const v of ms) acc.add(kind, group, v);
  return {
    distributions: acc.distributions(),
    records: [],
    unanswered: [],
    counts: counts({}),
    conflicts: [],
    dissection: { capture: { format: 'pcap', gzip: false, precision: 'us', packets: 0, bytes: 0, skippedBlocks: 0, unsupportedLink: new Map() }, stats: newStats() },
    ...extra,
  };
}

function record(requestTime: number, requestFrame: number, pv: string): PairRecord {
  return { kind: 'read', pv, client: '10.0.0.9:40000', server: '10.0.0.1:5064', circuit: 1, requestTime, responseTime: requestTime + 0.001, latency: 0.001, requestFrame, responseFrame: requestFrame + 1, outcome: 'ECA_NORMAL' };
}

function unanswered(requestTime: number, requestFrame: number, pv: string): Unanswered {
  return { kind: 'search', pv, client: '10.0.0.9:40000', requestTime, requestFrame, reason: 'end-of-capture' };
}

describe('LatencyAccumulator from distributions', () => {
  it('adds many values at once, growing past its first array', () => {
    const acc = new LatencyAccumulator();
    acc.add('read', 'a', 5);
    acc.addValues('read', 'a', Float64Array.from({ length: 200 }, (_, i) => i));
    acc.addValues('read', 'b', [3, 1, 2]);
    const [a, b] = acc.stats();
    expect(a).toMatchObject({ kind: 'read', group: 'a', count: 201, min: 0, max: 199, q50: 99 });
    expect(b).toMatchObject({ kind: 'read', group: 'b', count: 3, min: 1, q50: 2, max: 3, mean: 2, std: 1 });
  });

  it('gives the statistics of the union of its parts: every field, exactly', () => {
    const value = fc.double({ min: 0, max: 1e4, noNaN: true });
    const group = fc.tuple(fc.constantFrom<PairKind>('create', 'read', 'search'), fc.constantFrom('10.0.0.1:5064', '10.0.0.2:5064', ''));
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(group, value), { maxLength: 60 }), { minLength: 1, maxLength: 4 }), (files) => {
        const union = new LatencyAccumulator();
        const perFile = files.map((pairs) => {
          const acc = new LatencyAccumulator();
          for (const [[kind, g], v] of pairs) {
            acc.add(kind, g, v);
            union.add(kind, g, v);
          }
          return acc.distributions();
        });
        const merged = LatencyAccumulator.fromDistributions(...perFile);
        expect(merged.stats()).toEqual(union.stats());
        expect(merged.distributions().map((d) => [d.kind, d.group, [...d.values]])).toEqual(union.distributions().map((d) => [d.kind, d.group, [...d.values]]));
      }),
      { numRuns: 200 },
    );
  });
});

describe('mergeLatencyParts', () => {
  it('describes the union of the files, kind then group order, as one run would', () => {
    const a = part([
      ['read', '10.0.0.10:5064', [1, 2, 3]],
      ['create', '10.0.0.9:5064', [0.5]],
    ]);
    const b = part([
      ['read', '10.0.0.10:5064', [4, 5]],
      ['read', '10.0.0.2:5064', [7]],
    ]);
    const merged = mergeLatencyParts(['a.pcap', 'b.pcap'], [a, b]);
    expect(merged.stats.map((s) => [s.kind, s.group, s.count, s.min, s.q25, s.q50, s.q75, s.max, s.mean])).toEqual([
      ['create', '10.0.0.9:5064', 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
      ['read', '10.0.0.2:5064', 1, 7, 7, 7, 7, 7, 7],
      ['read', '10.0.0.10:5064', 5, 1, 2, 3, 4, 5, 3],
    ]);
    expect(merged.stats[2]!.std).toBeCloseTo(Math.sqrt(2.5), 12);
    expect([...merged.distributions[2]!.values]).toEqual([1, 2, 3, 4, 5]);
  });

  it('sums the counts and keeps every file\'s conflicts, in file order, with the file', () => {
    const conflict = (pv: string) => ({ pv, client: '10.0.0.9:40000', servers: ['10.0.0.1:5064', '10.0.0.2:5064'], frame: 7 });
    const a = part([], { counts: counts({ read: 3, search: 1 }, { search: 2 }, 1), conflicts: [conflict('A')] });
    const b = part([], { counts: counts({ read: 4 }, { search: 1, create: 1 }, 2), conflicts: [conflict('B1'), conflict('B2')] });
    const merged = mergeLatencyParts(['a.pcap', 'b.pcap'], [a, b]);
    expect(merged.counts).toEqual({
      pairs: { ...zero(), read: 7, search: 1 },
      unanswered: { ...zero(), search: 3, create: 1 },
      orphanResponses: { ...zero(), read: 2 },
      searchConflicts: 3,
    });
    expect(merged.conflicts.map((c) => [c.file, c.pv])).toEqual([
      ['a.pcap', 'A'],
      ['b.pcap', 'B1'],
      ['b.pcap', 'B2'],
    ]);
    expect(PAIR_KINDS.every((k) => merged.counts.pairs[k] === a.counts.pairs[k] + b.counts.pairs[k])).toBe(true);
  });

  it('lists records and unanswered requests by request time, then file order, then frame; ties keep each file\'s order', () => {
    const a = part([], {
      records: [record(10.5, 9, 'a3'), record(10, 4, 'a1'), record(10, 2, 'a0'), record(11, 1, 'a4')],
      unanswered: [unanswered(3, 5, 'ua1'), unanswered(3, 5, 'ua2'), unanswered(1, 1, 'ua0')],
    });
    const b = part([], {
      records: [record(10, 1, 'b0'), record(10.5, 3, 'b1')],
      unanswered: [unanswered(3, 2, 'ub0'), unanswered(2, 9, 'ub1')],
    });
    const merged = mergeLatencyParts(['a.pcap', 'b.pcap'], [a, b]);
    expect(merged.records.map((r) => `${r.file}:${r.pv}`)).toEqual(['a.pcap:a0', 'a.pcap:a1', 'b.pcap:b0', 'a.pcap:a3', 'b.pcap:b1', 'a.pcap:a4']);
    expect(merged.unanswered.map((u) => `${u.file}:${u.pv}`)).toEqual(['a.pcap:ua0', 'b.pcap:ub1', 'a.pcap:ua1', 'a.pcap:ua2', 'b.pcap:ub0']);
    expect(merged.records[0]).toEqual({ ...record(10, 2, 'a0'), file: 'a.pcap' });
  });
});
