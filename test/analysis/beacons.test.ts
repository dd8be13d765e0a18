import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BeaconAnalysis, type BeaconReport } from '../../src/analysis/beacons.js';
import type { CaptureSource } from '../../src/capture/source.js';
import { runDissection } from '../../src/dissect/run.js';
import * as enc from '../../src/synth/ca-encode.js';
import { CaptureBuilder } from '../helpers/build.js';
import { HAVE_SHARED, PUBLIC, REAL } from '../helpers/shared.js';
import { restartCapture } from './report-captures.js';

/** The report as the CLI makes it (TCP messages declined, only their times read), or with `everyEvent` from an event each. */
async function beacons(source: CaptureSource, silence?: number, everyEvent = false): Promise<BeaconReport> {
  const analysis = new BeaconAnalysis(silence);
  await runDissection(source, everyEvent ? {} : analysis.selection(), (ev) => analysis.event(ev));
  return analysis.finish();
}

const BROADCAST = { ip: '10.0.0.255', port: 5065 };

describe('beacon analysis', () => {
  it('reads the capture span from declined TCP messages exactly as from their events', async () => {
    const demo = new URL('../../fixtures/demo.pcap', import.meta.url).pathname;
    for (const source of [demo, restartCapture()]) {
      const report = await beacons(source, 1);
      expect(report).toEqual(await beacons(source, 1, true));
      expect(report.servers.length).toBeGreaterThan(0);
    }
  });

  it('finds the missed beacons, the restart, the silences and the anomalies where they were put', async () => {
    const r = await beacons(restartCapture());
    expect(r.servers).toHaveLength(1);
    const s = r.servers[0]!;
    expect(s).toMatchObject({ server: '10.0.0.1:5064', version: 13, beacons: 15, copies: 4, missed: 6 });
    expect(r.copies).toBe(4);
    expect([s.first.frame, s.last.frame]).toEqual([2, 19]);
    expect(s.gaps.map((g) => [g.at.frame, g.missed])).toEqual([
      [8, 2],
      [10, 4],
    ]);
    expect(s.restarts.map((g) => g.at.frame)).toEqual([12]);
    expect(s.silences.map((x) => [x.from.frame, x.to?.frame, x.seconds])).toEqual([
      [7, 8, 45],
      [9, 10, 75],
      [11, 12, 60],
    ]);
    expect(s.anomalies.map((a) => a.at.frame)).toEqual([9, 10, 11, 17, 18, 19]);
    expect(s.intervals.map((x) => Number(x.toFixed(4)))).toEqual([0.02, 0.04, 0.08, 0.16, 0.32, 15, 15, 15, 15, 15, 15, 45, 60, 75]);
  });

  it('applies the libca rule beacon by beacon (notes 9.1)', async () => {
    const r = await beacons(restartCapture());
    const rows = r.timeline.map((b) => [b.at.frame, b.id, b.verdict, b.missing, b.anomaly, b.copies]);
    expect(rows).toEqual([
      [2, 100, 'first', false, false, 0],
      [3, 101, 'accepted', false, false, 1],
      [5, 102, 'accepted', false, false, 0],
      [6, 103, 'accepted', false, false, 0],
      [7, 104, 'accepted', false, false, 0],
      [8, 107, 'skip', false, false, 0],
      [9, 108, 'accepted', true, true, 0],
      [10, 113, 'accepted', true, true, 0],
      [11, 114, 'accepted', false, true, 0],
      [12, 0, 'behind', false, false, 1],
      [14, 0, 'duplicate', false, false, 1],
      [16, 1, 'accepted', true, false, 0],
      [17, 2, 'accepted', false, true, 0],
      [18, 3, 'accepted', false, true, 1],
      [19, 4, 'accepted', false, true, 0],
    ]);
    // periods from the last accepted beacon; the estimate is the average before this beacon
    const at = (frame: number) => r.timeline.find((b) => b.at.frame === frame)!;
    expect([at(9).period, at(9).estimate]).toEqual([60, 15]);
    expect([at(10).period, at(10).estimate]).toEqual([75, 20.625]);
    expect([at(11).period, at(11).estimate]).toEqual([15, 27.421875]);
    expect(at(16).period).toBeCloseTo(60.06, 6);
    expect(at(16).estimate).toBeCloseTo(25.869140625, 9);
  });

  it('flags the second beacon of a server that appeared while the capture ran, and skips sequence checks before V4.10', async () => {
    const b = new CaptureBuilder();
    const a = { ip: '10.0.0.1', port: 40000 };
    b.udp(0, a, BROADCAST, enc.beacon({ version: 13, server_port: 5064, beacon_id: 5 })); // 1
    b.udp(15, a, BROADCAST, enc.beacon({ version: 13, server_port: 5064, beacon_id: 6 })); // 2: running 0 s at its first beacon
    // address field filled by the sender, port 0 = 5064
    b.udp(50, { ip: '10.0.0.2', port: 40001 }, BROADCAST, enc.beacon({ version: 13, server_port: 0, beacon_id: 0, address: '10.0.0.3' })); // 3
    b.udp(65, { ip: '10.0.0.2', port: 40001 }, BROADCAST, enc.beacon({ version: 13, server_port: 0, beacon_id: 1, address: '10.0.0.3' })); // 4
    const old = { ip: '10.0.0.4', port: 40002 };
    b.udp(65.5, old, BROADCAST, enc.beacon({ version: 8, server_port: 5064, beacon_id: 0 })); // 5
    b.udp(80.5, old, BROADCAST, enc.beacon({ version: 8, server_port: 5064, beacon_id: 0 })); // 6
    b.udp(95.5, old, BROADCAST, enc.beacon({ version: 8, server_port: 5064, beacon_id: 0 })); // 7
    const r = await beacons(b.bytes());
    expect(r.timeline.map((x) => [x.at.frame, x.server, x.verdict, x.anomaly])).toEqual([
      [1, '10.0.0.1:5064', 'first', false],
      [2, '10.0.0.1:5064', 'accepted', false],
      [3, '10.0.0.3:5064', 'first', false],
      [4, '10.0.0.3:5064', 'accepted', true],
      [5, '10.0.0.4:5064', 'first', false],
      [6, '10.0.0.4:5064', 'accepted', true],
      [7, '10.0.0.4:5064', 'accepted', false],
    ]);
    // 10.0.0.1 went quiet after frame 2 until the end of the capture (80.5 s later)
    const quiet = r.servers.find((s) => s.server === '10.0.0.1:5064')!;
    expect(quiet.silences.map((x) => [x.from.frame, x.to, x.seconds])).toEqual([[2, undefined, 80.5]]);
    expect((await beacons(b.bytes(), 100)).servers.flatMap((s) => s.silences)).toEqual([]);
  });

  describe.skipIf(!HAVE_SHARED)('real captures', () => {
    it('cabeacon.cap: 8 beacons of a starting server (ids 0-7, doubling periods), anomalies from the 4th on', async () => {
      const r = await beacons(join(PUBLIC, 'cabeacon.cap'));
      expect(r.servers.map((s) => [s.server, s.beacons, s.copies, s.missed, s.restarts.length, s.anomalies.map((a) => a.at.frame)])).toEqual([
        ['10.0.1.11:5064', 8, 0, 0, 0, [4, 5, 6, 7, 8]],
      ]);
      expect(r.timeline.map((b) => b.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(r.timeline.map((b) => b.missing)).toEqual([false, false, true, true, true, true, true, true]);
    });

    it('search_notfound: the relayed copy of beacon 9 (frame 64) is merged into the direct one (frame 63)', async () => {
      const r = await beacons(join(REAL, 'search_notfound.pcap'));
      expect(r.timeline.map((b) => [b.at.frame, b.id, b.copies, b.anomaly])).toEqual([
        [1, 6, 0, false],
        [18, 7, 0, false],
        [53, 8, 0, false],
        [63, 9, 1, true],
      ]);
      expect(r.servers.map((s) => [s.server, s.beacons, s.copies])).toEqual([['127.0.0.1:5064', 4, 1]]);
    });

    it('multi_ioc: one server per IOC, keyed by the TCP port its beacons announce', async () => {
      const r = await beacons(join(REAL, 'multi_ioc.pcap'));
      expect(r.servers.map((s) => [s.server, s.beacons])).toEqual([
        ['127.0.0.1:41233', 2],
        ['127.0.0.1:38231', 2],
        ['127.0.0.1:5064', 1],
      ]);
    });
  });
});
