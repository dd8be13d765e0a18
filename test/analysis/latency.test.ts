import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { latency, recordsToDataFrame, type LatencyResult } from '../../src/analysis/latency.js';
import { LatencyAccumulator, danfoStats, millis, quantileSorted, type LatencyStats } from '../../src/analysis/latency-stats.js';
import { EPOCH } from '../helpers/build.js';
import { twoServerScenario } from './ca-scenario.js';

const corpus = new URL('../../../shared/corpus/real/', import.meta.url);
const real = (name: string): string => new URL(name, corpus).pathname;

/** Compares statistics: exact where the values are exact, to 1e-9 ms elsewhere. */
function expectStats(actual: LatencyStats[], expected: LatencyStats[]): void {
  expect(actual.map((s) => [s.kind, s.group, s.count, s.min, s.max])).toEqual(expected.map((s) => [s.kind, s.group, s.count, s.min, s.max]));
  actual.forEach((s, i) => {
    const e = expected[i]!;
    for (const k of ['mean', 'std', 'q25', 'q50', 'q75'] as const) {
      if (Number.isNaN(e[k])) expect(s[k], k).toBeNaN();
      else expect(s[k], `${s.group} ${k}`).toBeCloseTo(e[k], 9);
    }
  });
}

const A = '10.0.0.1:5064';
const B = '10.0.0.2:5064';
// B answers CreateChan after 5, 7, 5, 7, 5, 7 ms: sorted 5 5 5 7 7 7
const CREATE_STATS: LatencyStats[] = [
  { kind: 'create', group: A, count: 6, mean: 2, std: 0, min: 2, q25: 2, q50: 2, q75: 2, max: 2 },
  { kind: 'create', group: B, count: 6, mean: 6, std: Math.sqrt(6 / 5), min: 5, q25: 5, q50: 6, q75: 7, max: 7 },
];

describe('quantiles and the streaming accumulator', () => {
  it('interpolates quantiles linearly between ranks, as numpy and pandas', () => {
    const sorted = [1, 2, 3, 4];
    expect([0, 0.25, 0.5, 0.75, 1].map((q) => quantileSorted(sorted, q))).toEqual([1, 1.75, 2.5, 3.25, 4]);
    expect(quantileSorted([10], 0.25)).toBe(10);
    expect(quantileSorted([], 0.5)).toBeNaN();
    // numpy.quantile([0.1, 0.5, 0.7, 2.0, 9.0], [0.25, 0.5, 0.75]) -> 0.5, 0.7, 2.0
    expect([0.25, 0.5, 0.75].map((q) => quantileSorted([0.1, 0.5, 0.7, 2, 9], q))).toEqual([0.5, 0.7, 2]);
  });

  it('converts seconds to milliseconds through whole nanoseconds', () => {
    expect([0.007, 0.0049, 1.083e-3, 71e-6].map(millis)).toEqual([7, 4.9, 1.083, 0.071]);
    expect([0.0049 * 1000, 71e-6 * 1000]).toEqual([4.8999999999999995, 0.07100000000000001]); // why millis() exists
  });

  it('gives count, mean, sample std, min, quartiles and max per kind and group, in kind then group order', () => {
    const acc = new LatencyAccumulator();
    for (const v of [4, 1, 3, 2]) acc.add('read', 'b', v);
    acc.add('create', 'z', 0.5);
    for (let i = 0; i < 1000; i++) acc.add('create', 'a', i % 10); // grows its array past the first 64 slots
    expectStats(acc.stats(), [
      { kind: 'create', group: 'a', count: 1000, mean: 4.5, std: Math.sqrt((100 * 82.5) / 999), min: 0, q25: 2, q50: 4.5, q75: 7, max: 9 },
      { kind: 'create', group: 'z', count: 1, mean: 0.5, std: NaN, min: 0.5, q25: 0.5, q50: 0.5, q75: 0.5, max: 0.5 },
      { kind: 'read', group: 'b', count: 4, mean: 2.5, std: Math.sqrt(5 / 3), min: 1, q25: 1.75, q50: 2.5, q75: 3.25, max: 4 },
    ]);
    expect([...acc.distributions()[2]!.values]).toEqual([1, 2, 3, 4]);
  });

  it('agrees with danfo.js groupby on any latencies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('s1', 's2', 's3'), fc.double({ min: 0, max: 5000, noNaN: true })), { minLength: 1, maxLength: 60 }),
        async (pairs) => {
          const acc = new LatencyAccumulator();
          for (const [group, ms] of pairs) acc.add('create', group, ms);
          const columns = { kind: pairs.map(() => 'create' as const), group: pairs.map(([g]) => g), latencyMs: pairs.map(([, ms]) => ms) };
          const fromDanfo = await danfoStats(columns, acc.distributions());
          expect(fromDanfo.map((s) => [s.group, s.count, s.min, s.max, s.q25, s.q50, s.q75])).toEqual(acc.stats().map((s) => [s.group, s.count, s.min, s.max, s.q25, s.q50, s.q75]));
          fromDanfo.forEach((s, i) => {
            const e = acc.stats()[i]!;
            expect(s.mean).toBeCloseTo(e.mean, 6);
            if (s.count > 1) expect(s.std).toBeCloseTo(e.std, 6);
            else expect(s.std).toBeNaN();
          });
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('latency() on a capture with injected latencies', async () => {
  const capture = twoServerScenario();
  const result = await latency(capture);

  it('describes CreateChan per server with danfo.js: the injected values', () => {
    expect(result.statsEngine).toBe('danfo');
    expectStats(result.stats, CREATE_STATS);
    expect(result.records).toHaveLength(12);
    expect(result.recordsComplete).toBe(true);
    expect(result.unanswered).toEqual([]);
  });

  it('gives the same statistics from the streaming accumulator', async () => {
    const streamed = await latency(capture, { statsEngine: 'stream' });
    expect(streamed.statsEngine).toBe('stream');
    expectStats(streamed.stats, CREATE_STATS);
  });

  it('groups by client, PV or circuit', async () => {
    const byPv = await latency(capture, { by: 'pv', kinds: ['write', 'read'] });
    expect(byPv.stats.map((s) => [s.kind, s.group, s.count, s.max])).toEqual([
      ...[0, 1, 2, 3, 4, 5].map((i) => ['read', `A:pv${i}`, 1, 3]),
      ...[0, 1, 2, 3, 4, 5].map((i) => ['read', `B:pv${i}`, 1, 6]),
      ...[0, 1, 2, 3, 4, 5].map((i) => ['write', `A:pv${i}`, 1, 4]),
    ]);
    const byClient = await latency(capture, { by: 'client' });
    expect(byClient.stats.map((s) => [s.group, s.min])).toContainEqual(['10.0.1.2:41001', 7]);
    const byCircuit = await latency(capture, { by: 'circuit', kinds: ['echo'] });
    // circuits are numbered as they open: A's clients got the odd numbers
    expect(byCircuit.stats.map((s) => s.group)).toEqual(['1', '3', '5', '7', '9', '11']);
    expect(byCircuit.stats.every((s) => s.count === 1 && s.max === 0.5)).toBe(true);
  });

  it('describes every kind with kinds = all of them', async () => {
    const all = await latency(capture, { kinds: ['search', 'handshake', 'create', 'read', 'write', 'subscribe', 'echo', 'connect'] });
    // µs shown: the handshake comes from TcpCircuit's float times, exact only to ~0.24 µs at this epoch
    const us = (ms: number) => Number(ms.toFixed(3));
    expect(all.stats.map((s) => `${s.kind} ${s.group} ${s.count} ${us(s.min)}..${us(s.max)}`)).toEqual([
      `search ${A} 6 1..1`,
      `search ${B} 6 1..1`,
      `handshake ${A} 6 0.01..0.01`,
      `handshake ${B} 6 0.01..0.01`,
      `create ${A} 6 2..2`,
      `create ${B} 6 5..7`,
      `read ${A} 6 3..3`,
      `read ${B} 6 6..6`,
      `write ${A} 6 4..4`,
      `subscribe ${A} 6 1.5..1.5`,
      `echo ${A} 6 0.5..0.5`,
      `connect ${A} 6 102..102`,
      `connect ${B} 6 105..107`,
    ]);
  });

  it('pairs subscriptions from the first update of each, the others declined: the same as from every update', async () => {
    const kinds = ['search', 'handshake', 'create', 'read', 'write', 'subscribe', 'echo', 'connect'] as const;
    const demo = new URL('../../fixtures/demo.pcap', import.meta.url).pathname;
    for (const source of [capture, demo]) {
      const declined = await latency(source, { kinds });
      // wants everything: every update is an event and declined() is never asked
      const everyEvent = await latency(source, { kinds, dissect: { wants: () => true } });
      expect(declined.records.length).toBeGreaterThan(0);
      expect(declined.records).toEqual(everyEvent.records);
      expect(declined.stats).toEqual(everyEvent.stats);
      expect(declined.unanswered).toEqual(everyEvent.unanswered);
      expect(declined.counts).toEqual(everyEvent.counts);
    }
  });

  it('keeps only the requests sent in [since, until)', async () => {
    const window = await latency(capture, { since: EPOCH + 1, until: EPOCH + 3.2 });
    // A clients start at 1, 2, 3 (CreateChan at +0.1 s), B clients at 1.5, 2.5
    expect(window.records.map((r) => r.pv)).toEqual(['A:pv1', 'B:pv1', 'A:pv2', 'B:pv2', 'A:pv3']);
    expect(window.stats.map((s) => [s.group, s.count])).toEqual([
      [A, 3],
      [B, 2],
    ]);
  });

  it('releases the records past keepRecords and takes the statistics from the accumulator', async () => {
    const seen: string[] = [];
    const capped = await latency(capture, { keepRecords: 5, onRecord: (r) => seen.push(r.pv!) });
    expect(capped.recordsComplete).toBe(false);
    expect(capped.records).toEqual([]);
    expect(capped.statsEngine).toBe('stream');
    expectStats(capped.stats, CREATE_STATS);
    expect(seen).toHaveLength(12);
    await expect(capped.toDataFrame()).rejects.toThrow('more than 5 pairs: the records were not kept');
  });

  it('gives the records as a danfo.js DataFrame', async () => {
    const df = await result.toDataFrame();
    expect(df.shape).toEqual([12, 11]);
    expect(df.columns).toEqual(['kind', 'pv', 'client', 'server', 'circuit', 'request_time', 'response_time', 'latency_ms', 'request_frame', 'response_frame', 'outcome']);
    expect(df['latency_ms'].values).toEqual([2, 5, 2, 7, 2, 5, 2, 7, 2, 5, 2, 7]);
    expect(df['request_time'].values[0]).toBe(EPOCH + 0.1);
    const empty = await recordsToDataFrame([]);
    expect(empty.shape).toEqual([0, 11]);
  });
});

describe.skipIf(!existsSync(corpus))('latency() on the real captures', () => {
  const row = (r: LatencyResult) => r.stats.map((s) => [s.group, s.count, s.min, s.max]);

  it('caget_basic: 16 channels created, none unanswered, the .txt minimum and maximum', async () => {
    const r = await latency(real('caget_basic.pcap'));
    expect(row(r)).toEqual([['127.0.0.1:5064', 16, 0.067, 1.083]]);
    expect(r.stats[0]!.q50).toBeCloseTo((0.091 + 0.092) / 2, 12);
    expect(r.unanswered).toEqual([]);
  });

  it('multi_ioc: 40 channels per server, three servers', async () => {
    const r = await latency(real('multi_ioc.pcap'));
    expect(row(r)).toEqual([
      ['127.0.0.1:5064', 40, 0.028, 0.071],
      ['127.0.0.1:38231', 40, 0.027, 0.862],
      ['127.0.0.1:41233', 40, 0.026, 0.076],
    ]);
  });

  it('search_notfound: 5 searches unanswered, 2 answered', async () => {
    const r = await latency(real('search_notfound.pcap'), { kinds: ['search'] });
    expect(r.unanswered.map((u) => u.pv)).toEqual(['NOPE:one', 'NOPE:two', 'NOPE:three', 'NOPE:cainfo', 'DOES:NOT:EXIST']);
    expect(row(r)).toEqual([['127.0.0.1:5064', 2, 0.057, 0.059]]);
  });

  it('caput: the failed puts are WriteNotify pairs with ECA_PUTFAIL', async () => {
    const r = await latency(real('caput.pcap'), { kinds: ['write'] });
    expect(r.records.filter((x) => x.outcome === 'ECA_PUTFAIL').map((x) => x.pv)).toEqual(['TEST:disabled', 'TEST:ao']);
    expect(row(r)).toEqual([['127.0.0.1:5064', 6, 0.031, 0.07]]);
  });
});
