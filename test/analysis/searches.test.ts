import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SearchAnalysis, peakInWindow, topCounts, type SearchReport } from '../../src/analysis/searches.js';
import type { CaptureSource } from '../../src/capture/source.js';
import { runDissection } from '../../src/dissect/run.js';
import { HAVE_SHARED, REAL } from '../helpers/shared.js';
import { searchCapture } from './report-captures.js';

/** The report as the CLI makes it (no TCP message whole), or with `everyEvent` from an event each. */
async function searches(source: CaptureSource, everyEvent = false): Promise<SearchReport> {
  const analysis = new SearchAnalysis();
  await runDissection(source, everyEvent ? {} : analysis.selection(), (ev) => analysis.event(ev));
  return analysis.finish();
}

const ms = (seconds: readonly number[]) => seconds.map((s) => Number((s * 1000).toFixed(3)));

describe('search analysis', () => {
  it('gives the same report without the TCP messages made into objects', async () => {
    const demo = new URL('../../fixtures/demo.pcap', import.meta.url).pathname;
    for (const source of [demo, searchCapture()]) {
      const report = await searches(source);
      expect(report).toEqual(await searches(source, true));
      expect(report.names.length).toBeGreaterThan(0);
    }
  });

  it('counts searches per name, with the servers that answered and how fast', async () => {
    const r = await searches(searchCapture());
    expect(r.names).toHaveLength(33);
    expect(
      r.names.slice(0, 3).map((n) => [n.name, n.searches, n.clients.size, n.first.frame, n.last.frame, [...n.servers.values()].map((s) => [s.server, s.replies, s.firstReply.frame, ms(s.latencies)])]),
    ).toEqual([
      ['GONE:pv', 5, 2, 1, 8, []],
      ['OK:pv', 3, 2, 1, 41, [['10.0.0.1:5064', 2, 2, [1, 1.5]]]],
      [
        'DUP:pv',
        1,
        1,
        1,
        1,
        [
          ['10.0.0.1:5064', 1, 2, [1]],
          ['10.0.0.2:5070', 1, 3, [2]],
        ],
      ],
    ]);
    expect(r.duplicates.map((n) => n.name)).toEqual(['DUP:pv']);
  });

  it('lists each client that never got a reply for a name, with its back-off; a stray reply changes nothing', async () => {
    const r = await searches(searchCapture());
    expect(r.unanswered.map((u) => [u.name, u.client, u.searches, u.first.frame, u.last.frame, ms(u.intervals), u.nameAnswered])).toEqual([
      ['GONE:pv', '10.0.0.9:50000', 3, 1, 5, [32, 64], false],
      ['GONE:pv', '10.0.0.8:50001', 2, 6, 8, [30], false],
      ['OK:pv', '10.0.0.8:50001', 1, 41, 41, [], true],
    ]);
  });

  it('gives each client its rate, its busiest second and its most searched names', async () => {
    const r = await searches(searchCapture());
    expect(r.clients.map((c) => [c.client, c.searches, c.names.size, c.first.frame, c.last.frame, Number(c.rate!.toFixed(2)), c.peak])).toEqual([
      ['10.0.0.7:50002', 30, 30, 9, 38, 103.45, 30],
      ['10.0.0.9:50000', 5, 3, 1, 5, 52.08, 5],
      ['10.0.0.8:50001', 4, 2, 6, 41, 1.6, 3],
    ]);
    expect(topCounts(r.clients[1]!.names, 2)).toEqual([
      ['GONE:pv', 3],
      ['DUP:pv', 1],
    ]);
  });

  it('finds the storms: stretches where a 1 s window holds more searches than the rate', async () => {
    const r = await searches(searchCapture());
    // The burst (frames 9-38) is the storm; the window opening at frame 28 (2.19 s, 12 searches)
    // still holds the lone search of frame 41 (3 s), so the storm reaches it.
    expect(r.storms(10).map((s) => [s.first.frame, s.last.frame, s.searches, s.peak, [...s.clients].sort(), s.names.size])).toEqual([
      [9, 41, 31, 30, ['10.0.0.7:50002', '10.0.0.8:50001'], 31],
    ]);
    // at 5 per second the first half second (8 searches) is a storm of its own
    expect(r.storms(5).map((s) => [s.first.frame, s.last.frame, s.searches, s.peak])).toEqual([
      [1, 8, 8, 8],
      [9, 41, 31, 30],
    ]);
    expect(r.storms(30)).toEqual([]);
  });

  it('peakInWindow counts the events of the busiest window [t, t + width)', () => {
    expect(peakInWindow([], 1)).toBe(0);
    expect(peakInWindow([0, 0.5, 0.999, 1, 1.2, 5], 1)).toBe(4);
  });

  describe.skipIf(!HAVE_SHARED)('real captures', () => {
    it('search_notfound: the 5 names never answered, with their search counts and libca back-off', async () => {
      const r = await searches(join(REAL, 'search_notfound.pcap'));
      expect(r.unanswered.map((u) => [u.name, u.client, u.searches, u.first.frame, u.last.frame, u.intervals.map((s) => Number(s.toFixed(3)))])).toEqual([
        ['DOES:NOT:EXIST', '127.0.0.1:57164', 9, 50, 59, [0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096]],
        ['NOPE:one', '127.0.0.1:54035', 7, 2, 19, [0.032, 0.064, 0.128, 0.256, 0.512, 1.024]],
        ['NOPE:three', '127.0.0.1:54035', 7, 2, 19, [0.032, 0.064, 0.128, 0.256, 0.512, 1.024]],
        ['NOPE:two', '127.0.0.1:54035', 7, 2, 19, [0.032, 0.064, 0.128, 0.256, 0.512, 1.024]],
        ['NOPE:cainfo', '127.0.0.1:43988', 6, 27, 42, [0.032, 0.064, 0.128, 0.256, 0.512]],
      ]);
      expect(r.names.filter((n) => n.servers.size > 0).map((n) => [n.name, [...n.servers.keys()]])).toEqual([
        ['TEST:ai', ['127.0.0.1:5064']],
        ['TEST:bi', ['127.0.0.1:5064']],
      ]);
    });

    it('caget_basic: every searched name answered by its server, once per search', async () => {
      const r = await searches(join(REAL, 'caget_basic.pcap'));
      expect(r.unanswered).toEqual([]);
      expect(r.duplicates).toEqual([]);
      expect(r.names.map((n) => [n.name, n.searches, [...n.servers.values()].map((s) => [s.server, s.replies])])).toEqual([
        ['TEST:ai', 3, [['127.0.0.1:5064', 3]]],
        ['TEST:ao', 2, [['127.0.0.1:5064', 2]]],
        ['TEST:bi', 2, [['127.0.0.1:5064', 2]]],
        ['TEST:longin', 2, [['127.0.0.1:5064', 2]]],
        ['TEST:longstr', 2, [['127.0.0.1:5064', 2]]],
        ['TEST:mbbi', 2, [['127.0.0.1:5064', 2]]],
        ['TEST:stringin', 2, [['127.0.0.1:5064', 2]]],
        ['TEST:calc10', 1, [['127.0.0.1:5064', 1]]],
      ]);
    });

    it('multi_ioc: each IOC answers its own names, from the TCP port in its replies', async () => {
      const r = await searches(join(REAL, 'multi_ioc.pcap'));
      expect(r.unanswered).toEqual([]);
      expect(r.names.map((n) => [n.name, n.searches, n.clients.size, [...n.servers.values()].map((s) => [s.server, s.replies])])).toEqual([
        ['IOC1:ai', 20, 20, [['127.0.0.1:5064', 20]]],
        ['IOC1:mbbi', 20, 20, [['127.0.0.1:5064', 20]]],
        ['IOC2:ai', 20, 20, [['127.0.0.1:41233', 20]]],
        ['IOC2:mbbi', 20, 20, [['127.0.0.1:41233', 20]]],
        ['IOC3:ai', 20, 20, [['127.0.0.1:38231', 20]]],
        ['IOC3:mbbi', 20, 20, [['127.0.0.1:38231', 20]]],
      ]);
      expect(r.clients).toHaveLength(20);
      expect(r.clients.every((c) => c.searches === 6 && c.peak === 6 && c.rate === undefined)).toBe(true);
    });
  });
});
