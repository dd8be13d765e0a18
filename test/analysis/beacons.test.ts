import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BeaconAnalysis, type BeaconReport } from '../../src/analysis/beacons.js';
import type { CaptureSource } from '../../src/capture/source.js';
import { runDissection } from '../../src/dissect/run.js';
import * as enc from '../../src/synth/ca-encode.js';
import { CaptureBuilder } from '../helpers/build.js';
import { HAVE_SHARED, PUBLIC, REAL } from '../helpers/shared.js';

async function beacons(source: CaptureSource, silence?: number): Promise<BeaconReport> {
  const analysis = new BeaconAnalysis(silence);
  await runDissection(source, {}, (ev) => analysis.event(ev));
  return analysis.finish();
}

const SERVER = { ip: '10.0.0.1', port: 40000 };
const BROADCAST = { ip: '10.0.0.255', port: 5065 };
const REPEATER = { ip: '10.0.0.50', port: 45000 };
const CLIENT = { ip: '10.0.0.50', port: 50000 };

/**
 * One RSRV (10.0.0.1, TCP 5064, address field 0) beaconing every 15 s, with a
 * client host whose caRepeater relays some beacons (address filled in):
 * missed beacons, then a restart with the fast ramp. Frame numbers in comments.
 */
export function restartCapture(): Buffer {
  const b = new CaptureBuilder();
  const direct = (t: number, id: number) => b.udp(t, SERVER, BROADCAST, enc.beacon({ version: 13, server_port: 5064, beacon_id: id }));
  const relayed = (t: number, id: number) => b.udp(t, REPEATER, CLIENT, enc.beacon({ version: 13, server_port: 5064, beacon_id: id, address: '10.0.0.1' }));
  b.udp(0, CLIENT, { ip: '10.0.0.50', port: 5065 }); // 1: the client registers with its repeater (empty datagram)
  direct(0, 100); // 2
  direct(15, 101); // 3
  relayed(15.0001, 101); // 4: copy
  direct(30, 102); // 5
  direct(45, 103); // 6
  direct(60, 104); // 7
  direct(105, 107); // 8: 105 and 106 lost; libca discards a jump of 3
  direct(120, 108); // 9: 60 s since the last accepted one: anomaly
  direct(195, 113); // 10: 4 lost: anomaly
  direct(210, 114); // 11: 15 s is now fast against the average: anomaly
  direct(270, 0); // 12: restart, id 0 (discarded by libca: behind)
  relayed(270.0001, 0); // 13: copy
  direct(270.02, 0); // 14: RSRV sends id 0 twice (duplicate)
  relayed(270.0201, 0); // 15: copy of the second
  direct(270.06, 1); // 16
  direct(270.14, 2); // 17: fast: anomaly
  direct(270.3, 3); // 18: anomaly
  direct(270.62, 4); // 19: anomaly
  relayed(270.63, 3); // 20: a late copy of 18, not a restart
  return b.bytes();
}

describe('beacon analysis', () => {
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
