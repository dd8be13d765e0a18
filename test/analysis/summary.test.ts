import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SummaryAnalysis, type CaptureSummary, type SummaryOptions } from '../../src/analysis/summary.js';
import type { CaptureSource } from '../../src/capture/source.js';
import { runDissection } from '../../src/dissect/run.js';
import { encodeDbr } from '../../protocols/ca/dbr.js';
import { ECA_GETFAIL, ECA_NORMAL } from '../../protocols/ca/eca.js';
import * as enc from '../../src/synth/ca-encode.js';
import { CaptureBuilder } from '../helpers/build.js';
import { HAVE_SHARED, REAL, SHARED } from '../helpers/shared.js';
import type { SynthTruth } from '../../src/synth/capture-stream.js';
import { circuitCapture, putFailCapture, restartCapture, searchCapture, serverCloseCapture, stallCapture } from './report-captures.js';

/** The summary as the CLI makes it: monitor updates tallied from their header words (selection()), or with `everyEvent` from an event each. */
async function summary(source: CaptureSource, opts?: SummaryOptions, everyEvent = false): Promise<CaptureSummary> {
  const analysis = new SummaryAnalysis(opts);
  const result = await runDissection(source, everyEvent ? {} : analysis.selection(), (ev) => analysis.event(ev), { listener: analysis });
  return analysis.finish(result);
}

/** A subscription's updates (the fourth fails with ECA_GETFAIL; each packet is followed by its ACK), an update of a subscription never seen, and the cancel. */
function updatesCapture(): Buffer {
  const b = new CaptureBuilder();
  const s = b.tcp({ ip: '10.0.0.9', port: 40001 }, { ip: '10.0.0.1', port: 5064 });
  s.handshake(0.1);
  s.send('client', 0.2, Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), enc.createChanRequest({ name: 'M:1', cid: 1, version: 13 })]));
  s.send('server', 0.3, Buffer.concat([enc.versionResponse({ version: 13 }), enc.createChanResponse({ data_type: 6, data_count: 1, cid: 1, sid: 9 })]));
  s.send('client', 0.4, enc.eventAddRequest({ data_type: 6, data_count: 1, sid: 9, subscriptionid: 5, mask: 1 }));
  for (let i = 0; i < 6; i++) {
    const status = i === 3 ? ECA_GETFAIL : ECA_NORMAL;
    s.send('server', 0.5 + i, enc.eventAddResponse({ data_type: 6, data_count: 1, status, subscriptionid: 5, payload: encodeDbr(6, [i]) }));
  }
  s.send('server', 7, enc.eventAddResponse({ data_type: 6, data_count: 1, status: ECA_NORMAL, subscriptionid: 77, payload: encodeDbr(6, [7]) }));
  s.send('client', 8, enc.eventCancelRequest({ data_type: 6, data_count: 1, sid: 9, subscriptionid: 5 }));
  s.send('server', 8.5, enc.eventAddResponse({ data_type: 6, data_count: 1, status: ECA_NORMAL, subscriptionid: 5, payload: Buffer.alloc(0) }));
  return b.bytes();
}

/** problem -> [count, detail] for the problems found. */
function found(s: CaptureSummary): Record<string, [number, string]> {
  return Object.fromEntries(s.problems.filter((p) => p.count > 0).map((p) => [p.problem, [p.count, p.detail]]));
}

describe('capture summary', () => {
  it('tallies monitor updates from their header words exactly as from their events', async () => {
    const demo = new URL('../../fixtures/demo.pcap', import.meta.url).pathname;
    for (const source of [demo, updatesCapture(), putFailCapture(), restartCapture(), circuitCapture(), searchCapture(), serverCloseCapture()]) {
      expect(await summary(source)).toEqual(await summary(source, undefined, true));
    }
    expect(new SummaryAnalysis().selection().wants!(1, false)).toBe(false); // the server's EVENT_ADD messages go through declined()
    const s = await summary(updatesCapture());
    expect(s.commands).toEqual([['EventAddResponse', 7], ['CreateChanRequest', 1], ['CreateChanResponse', 1], ['EventAddRequest', 1], ['EventCancelRequest', 1], ['EventCancelResponse', 1], ['VersionRequest', 1], ['VersionResponse', 1]]);
    expect(found(s)).toEqual({ 'ECA errors': [1, 'ECA_GETFAIL x1 (M:1 frame 16)'] });
  });

  it('always checks every problem, each with the command that shows it', async () => {
    const s = await summary(putFailCapture());
    expect(s.problems.map((p) => [p.problem, p.command])).toEqual([
      ['names searched for without a reply', 'cawire searches --unanswered'],
      ['PV names answered by two servers', 'cawire searches --duplicates'],
      ['failed channel creations', 'cawire print --command CreateChFailResponse --format "{frame} {time} {src}:{sport} {pv}"'],
      ['ECA errors', 'cawire print --command ErrorResponse,ReadNotifyResponse,WriteNotifyResponse,EventAddResponse --format "{frame} {pv} {type} {command.status}"'],
      ['beacon anomalies (clients re-search)', 'cawire beacons --timeline'],
      ['IOC restarts', 'cawire circuits'],
      ['circuits cut by a reset', 'cawire circuits --ended-by-rst'],
      ['circuits closed by the server', 'cawire circuits'],
      ['responses slower than 1 s', 'cawire latency --kind all --slower-than 1s'],
      ['zero-window stalls', 'cawire circuits'],
      ['monitor updates held back', 'cawire monitors --stalls'],
      ['circuits with retransmissions above 1%', 'cawire circuits'],
    ]);
  });

  it('failed puts: ECA_PUTFAIL from the ERROR and the WRITE_NOTIFY reply, and the put that took 1.5 s', async () => {
    const s = await summary(putFailCapture());
    expect(found(s)).toEqual({
      'ECA errors': [2, 'ECA_PUTFAIL x2 (P:v frame 10, P:v frame 14)'],
      'responses slower than 1 s': [1, 'write P:v 1.500 s (frames 12->14)'],
    });
    expect(found(await summary(putFailCapture(), { slowSec: 2 }))['responses slower than 2 s']).toBeUndefined();
    expect([s.packets, s.caMessages, s.servers, s.clientHosts, s.pvs, s.circuits]).toEqual([18, 8, ['10.0.0.1:5064'], 1, 1, 1]);
    expect([s.first?.frame, s.last?.frame]).toEqual([4, 14]);
  });

  it('circuits: the refused channel, the two circuits cut by a reset, the two the servers closed', async () => {
    const s = await summary(circuitCapture());
    // frames from tshark: RST from 10.0.0.1:5064 in 42, FIN from 10.0.0.2:5064 in 45; the connection it refused is no circuit
    expect(found(s)).toEqual({
      'failed channel creations': [1, 'A:missing frame 6'],
      // the client sent EVENTS_OFF on its first circuit (report-captures.ts)
      'monitor updates held back': [1, '10.0.0.9:40001 -> 10.0.0.1:5064, 1 subscription: EVENTS_OFF x1'],
      'circuits cut by a reset': [2, '10.0.0.9:40001 -> 10.0.0.1:5064 RST by server after frame 40; 10.0.0.9:40004 -> 10.0.0.2:5064 RST by server'],
      'circuits closed by the server': [
        2,
        'FIN x1, RST x1; #1 10.0.0.9:40001 -> 10.0.0.1:5064 RST at frame 42 (A:one A:two A:missing); #2 10.0.0.9:40002 -> 10.0.0.2:5064 FIN at frame 45 (B:one); 1 connection refused',
      ],
    });
    expect(s.problems.find((p) => p.problem === 'circuits closed by the server')!.frames).toEqual([42, 45]);
    expect(s.problems.find((p) => p.problem === 'IOC restarts')).toMatchObject({ count: 0, detail: '', frames: [] });
    expect(s.servers).toEqual(['10.0.0.1:5064', '10.0.0.2:5064']);
    expect(s.commands.slice(0, 3)).toEqual([
      ['CreateChanRequest', 4],
      ['CreateChanResponse', 3],
      ['EventAddResponse', 3],
    ]);
  });

  it('TCP: a zero-window stall, and a circuit with more retransmissions than the rate allows', async () => {
    const s = await summary(stallCapture());
    expect(found(s)).toEqual({
      'zero-window stalls': [1, '10.0.0.9:50000 -> 10.0.0.1:5064: client window 0 for 2.000 s (frames 6-9, 1 probe)'],
      // the ECHO sent again: 1 of 5 segments (SYN and two ECHOs from the client, SYN-ACK and 160 bytes from the server)
      'circuits with retransmissions above 1%': [1, '10.0.0.9:50000 -> 10.0.0.1:5064 20.0% (1 of 5 segments, first at frame 10)'],
    });
    expect(found(await summary(stallCapture(), { retransPercent: 20 }))['circuits with retransmissions above 20%']).toBeUndefined();
    expect(found(await summary(stallCapture(), { retransPercent: 19.9 }))['circuits with retransmissions above 19.9%']?.[0]).toBe(1);
  });

  it('searches: names nobody answered, and a duplicate PV', async () => {
    const s = await summary(searchCapture());
    expect(found(s)).toEqual({
      'names searched for without a reply': [2, 'GONE:pv x5 from 2 clients (frames 1-8); OK:pv x1 (frame 41)'],
      'PV names answered by two servers': [1, 'DUP:pv: 10.0.0.1:5064 (frame 2), 10.0.0.2:5070 (frame 3)'],
    });
    expect([s.servers, s.clientHosts, s.pvs, s.circuits]).toEqual([['10.0.0.1:5064', '10.0.0.2:5070'], 3, 33, 0]);
  });

  it('beacons: the anomalies of a server that lost beacons and restarted, and the restart (id 114 in frame 11, then 0 in frame 12)', async () => {
    const s = await summary(restartCapture());
    expect(found(s)).toEqual({
      'beacon anomalies (clients re-search)': [6, '10.0.0.1:5064 x6 (first at frame 9)'],
      'IOC restarts': [1, '10.0.0.1:5064 no close seen, up frame 12 (beacon id 114 -> 0): no client had a circuit to it'],
    });
    expect(s.problems.find((p) => p.problem === 'IOC restarts')!.frames).toEqual([11, 12]);
  });

  it('an IOC that closed both its circuits at once (no beacon): when, and which client host came back', async () => {
    const s = await summary(serverCloseCapture());
    // frames from tshark: FIN 22 (5.000 s) and RST 25 from 10.0.0.1:5064, the SYN of 10.0.0.9's next circuit 28 (9.000 s), FIN 35 from 10.0.0.2:5064
    expect(found(s)).toMatchObject({
      'IOC restarts': [
        1,
        '10.0.0.1:5064 down 2023-11-14T22:13:25.000000000Z frame 22 (closed 2 circuits), no beacon seen: 10.0.0.8 not back by the end of the capture, 10.0.0.9 back after 4.000 s (frame 28)',
      ],
      'circuits closed by the server': [
        3,
        'FIN x2, RST x1 (2 going down in IOC restarts); #1 10.0.0.9:40001 -> 10.0.0.1:5064 FIN at frame 22 (R:a); #2 10.0.0.8:40002 -> 10.0.0.1:5064 RST at frame 25 (R:b); #3 10.0.0.9:40003 -> 10.0.0.2:5064 FIN at frame 35 (Q:c); 1 connection refused',
      ],
    });
    expect(s.problems.filter((p) => p.frames).map((p) => [p.problem, p.frames])).toEqual([
      ['IOC restarts', [22, 25, 28]],
      ['circuits closed by the server', [22, 25, 35]],
      ['zero-window stalls', []],
      ['monitor updates held back', []],
      ['circuits with retransmissions above 1%', []],
    ]);
  });

  it('demo.pcap: the IOC restart of its truth file, with the frames and reconnect times the truth gives', async () => {
    const fixtures = new URL('../../fixtures/', import.meta.url).pathname;
    const truth = JSON.parse(readFileSync(join(fixtures, 'demo.truth.json'), 'utf8')) as SynthTruth;
    const [r] = truth.beacons.restarts;
    const ip = (name: string) => truth.clients.find((c) => c.name === name)!.ip;
    const back = r!.clients
      .map((c) => ({ host: ip(c.client), s: (c.backUs! - r!.downUs) / 1e6, frame: c.backFrame }))
      .sort((a, b) => b.s - a.s)
      .map((c, i) => `${c.host} ${i === 0 ? 'back ' : ''}after ${c.s.toFixed(3)} s (frame ${c.frame})`);
    const down = new Date((truth.startTime + r!.downUs / 1e6) * 1000).toISOString().replace('Z', '000000Z');
    const s = await summary(join(fixtures, 'demo.pcap'));
    const row = s.problems.find((p) => p.problem === 'IOC restarts')!;
    expect([row.count, row.detail]).toEqual([
      truth.beacons.restarts.length,
      `10.0.1.1:${r!.portBefore} down ${down} frame ${r!.downFrame} (closed 2 circuits), up frame ${r!.upFrame} (first beacon id 0): ${back.join(', ')}`,
    ]);
    expect(row.frames).toEqual([r!.downFrame, r!.downFrame! + 1, r!.upFrame, ...r!.clients.map((c) => c.backFrame)].sort((a, b) => a! - b!));
  });

  describe.skipIf(!HAVE_SHARED)('real captures', () => {
    it.each([['camonitor_fast.pcap'], ['monitor_cancel.pcap'], ['multi_ioc.pcap'], ['big_waveform.pcap']])('%s: the same summary from header words as from events', async (name) => {
      expect(await summary(join(REAL, name))).toEqual(await summary(join(REAL, name), undefined, true));
    });

    it('slow_consumer: both subscriptions held back by the zero window of the client', async () => {
      const s = await summary(join(SHARED, 'corpus/scenarios/slow_consumer.client.pcap'));
      // slow_consumer.txt: subscriptions 1 (TP:cnt) and 2 (TP:wf) on one circuit 10.9.1.2 -> 10.9.2.2:5064; the client
      // advertised a zero window from frame 2271 until its window update in frame 2310: 38.31 s
      const held = s.problems.find((p) => p.problem === 'monitor updates held back')!;
      expect(held.count).toBe(2);
      expect(held.detail).toMatch(/^10\.9\.1\.2:\d+ -> 10\.9\.2\.2:5064, 2 subscriptions: client window 0 for 38\.31\d s \(frames 2271-2310, /);
      expect(held.frames).toEqual([2271, 2310]);
    });

    it('caput: the failed puts appear with ECA_PUTFAIL, and TEST:nonexistent was never answered', async () => {
      const s = await summary(join(REAL, 'caput.pcap'));
      expect(found(s)).toEqual({
        'names searched for without a reply': [1, 'TEST:nonexistent x6 (frames 225-231)'],
        'ECA errors': [4, 'ECA_PUTFAIL x4 (TEST:disabled frame 247, TEST:disabled frame 268, TEST:ao frame 286, ...)'],
      });
      expect([s.packets, s.caMessages, s.servers, s.clientHosts, s.circuits]).toEqual([390, 354, ['127.0.0.1:5064'], 1, 18]);
      expect(s.commands.find(([type]) => type === 'WriteNotifyResponse')).toEqual(['WriteNotifyResponse', 6]);
    });

    it('search_notfound: the 5 names never answered; the IOC, 4 s old, still doubles its beacon period', async () => {
      const s = await summary(join(REAL, 'search_notfound.pcap'));
      expect(found(s)).toEqual({
        'names searched for without a reply': [5, 'DOES:NOT:EXIST x9 (frames 50-59); NOPE:one x7 (frames 2-19); NOPE:three x7 (frames 2-19); +2 more'],
        'beacon anomalies (clients re-search)': [1, '127.0.0.1:5064 x1 (first at frame 63)'],
      });
    });

    it('multi_ioc: three servers, no problems', async () => {
      const s = await summary(join(REAL, 'multi_ioc.pcap'));
      expect(found(s)).toEqual({});
      expect([s.servers, s.circuits, s.pvs]).toEqual([['127.0.0.1:38231', '127.0.0.1:41233', '127.0.0.1:5064'], 60, 6]);
    });
  });
});
