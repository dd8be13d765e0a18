import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeDbr } from '../../protocols/ca/dbr.js';
import { ECA_NORMAL } from '../../protocols/ca/eca.js';
import { EPICS_EPOCH_UNIX } from '../../protocols/ca/time.js';
import { MonitorAnalysis, type MonitorOptions, type MonitorRow } from '../../src/analysis/monitors.js';
import { runAnalysis } from '../../src/analysis/runner.js';
import type { CaptureSource } from '../../src/capture/source.js';
import * as enc from '../../src/synth/ca-encode.js';
import type { TcpSession } from '../../src/synth/tcp-session.js';
import { CaptureBuilder, EPOCH } from '../helpers/build.js';
import { HAVE_SHARED, REAL, SHARED, SKIP_REASON } from '../helpers/shared.js';

const SLOW = join(SHARED, 'corpus/scenarios/slow_consumer.client.pcap');

async function monitors(source: CaptureSource, o: MonitorOptions = {}, pv?: string[]): Promise<MonitorRow[]> {
  const a = new MonitorAnalysis({ ...o, pv });
  const { part } = await runAnalysis([source], { selection: () => a.selection(), started: (c) => a.started(c), event: (ev) => a.event(ev), circuitEnded: (c) => a.circuitEnded(c), finish: () => a.finish() }, {});
  return part;
}

const DBR_SHORT = 1;
const DBR_DOUBLE = 6;
const DBR_TIME_LONG = 19;

/** A circuit that creates channels `names` (cid = sid = index + 1) and subscribes to each (subscription id = index + 1). */
function subscribe(c: TcpSession, t: number, names: [string, number][]): void {
  c.handshake(t);
  c.send('client', t + 0.001, Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), ...names.map(([name], i) => enc.createChanRequest({ name, cid: i + 1, version: 13 }))]));
  c.send('server', t + 0.002, Buffer.concat([enc.versionResponse({ version: 13 }), ...names.map(([, type], i) => enc.createChanResponse({ data_type: type, data_count: 1, cid: i + 1, sid: i + 1 }))]));
  c.send('client', t + 0.003, Buffer.concat(names.map(([, type], i) => enc.eventAddRequest({ data_type: type, data_count: 1, sid: i + 1, subscriptionid: i + 1, mask: 5 }))));
}

/** One update of subscription `id` at capture time t (seconds after EPOCH), time-stamped `lag` seconds earlier by the IOC. */
function update(c: TcpSession, t: number, id: number, type: number, v: number, lag = 0.002): void {
  const stamp = EPOCH + t - lag;
  const sec = Math.floor(stamp);
  const meta = { status: 0, severity: 0, secPastEpoch: sec - EPICS_EPOCH_UNIX, nsec: Math.round((stamp - sec) * 1e9) };
  c.send('server', t, enc.eventAddResponse({ data_type: type, data_count: 1, status: ECA_NORMAL, subscriptionid: id, payload: encodeDbr(type, [v], meta) }));
}

/**
 * Counters with known faults, 10 updates a second:
 * circuit 1: SEQ:drop (DBR_TIME_LONG) 1..10, 14..20, 20, 25..27: missing 11-13 and 21-24, one repeat;
 *            one update 0.5 s late by its time stamp;
 *            SEQ:wrap (DBR_SHORT) 32766, 32767, -32768, -32767, -32768, -32767: a wrap-around, then one step back;
 * circuit 2: EV:a and EV:b (DBR_DOUBLE, step 2): EVENTS_OFF for 3 s stops both (cause: events off), then both
 *            silent 2 s (cause: the server silent on every subscription), then EV:b alone silent 2 s (none seen).
 */
function sequenceCapture(): Buffer {
  const b = new CaptureBuilder({ precision: 'ns' });
  const c1 = b.tcp({ ip: '10.0.0.9', port: 40001 }, { ip: '10.0.0.1', port: 5064 });
  const c2 = b.tcp({ ip: '10.0.0.9', port: 40002 }, { ip: '10.0.0.2', port: 5064 });
  subscribe(c1, 0, [['SEQ:drop', DBR_TIME_LONG], ['SEQ:wrap', DBR_SHORT]]);
  subscribe(c2, 0.01, [['EV:a', DBR_DOUBLE], ['EV:b', DBR_DOUBLE]]);
  const drop = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 19, 20, 20, 25, 26, 27];
  const wrap = [32766, 32767, -32768, -32767, -32768, -32767];
  let t = 0.1;
  drop.forEach((v, i) => update(c1, (t = 0.1 + i * 0.1), 1, DBR_TIME_LONG, v, i === 5 ? 0.502 : 0.002));
  wrap.forEach((v, i) => update(c1, 0.15 + i * 0.1, 2, DBR_SHORT, v));
  // circuit 2: updates every 0.1 s from 0.2 s, except in [2, 5) (events off), (5, 7) (both silent), EV:b in [8, 10)
  let k = 0;
  for (t = 0.2; t < 12; t = Math.round((t + 0.1) * 1000) / 1000) {
    if ((t >= 2 && t < 5) || (t > 5 && t < 7)) continue;
    k++;
    if (t === 5) c2.send('client', 4.95, enc.eventsOnRequest());
    update(c2, t, 1, DBR_DOUBLE, 2 * k);
    if (!(t >= 8 && t < 10)) update(c2, t + 0.001, 2, DBR_DOUBLE, 2 * k);
    if (t === 1.9) c2.send('client', 1.95, enc.eventsOffRequest());
  }
  return b.bytes();
}

describe('monitors', () => {
  it('--sequence finds missing ranges, repeats, steps back and wrap-arounds', async () => {
    const rows = await monitors(sequenceCapture(), { sequence: true }, ['SEQ:*']);
    const byPv = new Map(rows.map((r) => [r.pv, r]));
    const drop = byPv.get('SEQ:drop')!;
    expect(drop.updates).toBe(21);
    expect(drop.sequence).toMatchObject({ missing: [[11, 13], [21, 24]], missingValues: 7, repeats: 1, stepsBack: 0, wraps: 0, offStep: 0, skipped: 0 });
    const wrap = byPv.get('SEQ:wrap')!;
    expect(wrap.sequence).toMatchObject({ missing: [], repeats: 0, stepsBack: 1, wraps: 1, skipped: 0, });
    expect(wrap.sequence!.stepBackFrames).toHaveLength(1);
    expect(wrap.lag).toBeUndefined(); // DBR_SHORT carries no time stamp
  });

  it('--sequence-step follows a counter that steps by 2', async () => {
    const [a] = await monitors(sequenceCapture(), { sequence: true, sequenceStep: 2 }, ['EV:a']);
    expect(a!.sequence).toMatchObject({ missing: [], missingValues: 0, repeats: 0, stepsBack: 0, wraps: 0 });
    const [odd] = await monitors(sequenceCapture(), { sequence: true }, ['EV:a']);
    expect(odd!.sequence!.missingValues).toBe(a!.updates - 1); // step 1: every other value is missing
  });

  it('measures lag from DBR_TIME stamps, the smallest as the offset', async () => {
    const [drop] = await monitors(sequenceCapture(), { lag: true }, ['SEQ:drop']);
    const [none] = await monitors(sequenceCapture(), {}, ['SEQ:drop']);
    expect(none!.lag).toBeUndefined(); // without --lag no time stamp is read
    // every update 2 ms behind its time stamp but one 502 ms: offset 2 ms, lag 0 but the one of 0.5 s
    expect(drop!.lag!.offsetS).toBeCloseTo(0.002, 5);
    expect(drop!.lag!.medianS).toBeCloseTo(0, 5);
    expect(drop!.lag!.maxS).toBeCloseTo(0.5, 5);
  });

  it('gives each stall its cause: EVENTS_OFF, the server silent on the circuit, none seen', async () => {
    const rows = await monitors(sequenceCapture(), {}, ['EV:*']);
    const [a, b] = rows;
    expect(a!.stalls.map((s) => [s.cause, Number(s.durationS.toFixed(3))])).toEqual([
      ['events off', 3.1],
      ['server silent', 2],
    ]);
    expect(b!.stalls.map((s) => [s.cause, Number(s.durationS.toFixed(3))])).toEqual([
      ['events off', 3.1],
      ['server silent', 2],
      ['none seen', 2.1],
    ]);
    // an absolute threshold: gaps over 2.05 s only
    const [a2] = await monitors(sequenceCapture(), { gap: { seconds: 2.05 } }, ['EV:a']);
    expect(a2!.stalls.map((s) => s.cause)).toEqual(['events off']);
  });

  describe.skipIf(!HAVE_SHARED)(`slow_consumer and camonitor_fast (${SKIP_REASON})`, () => {
    it('slow_consumer: TP:cnt 300 updates, TP:wf 53; the longest gaps, their frames and the zero window', async () => {
      const rows = await monitors(SLOW, { sequence: true, lag: true });
      // slow_consumer.txt: "Updates of subscription 1: 300; the longest time between two: 38.410 s (frames 2215 -> 2313)",
      // "Updates of subscription 2: 53; the longest time between two: 38.559 s (frames 2211 -> 2313)"
      expect(rows.map((r) => [r.pv, r.subscriptionId, r.updates, Number(r.longestGapS!.toFixed(3)), r.longestGapFrames])).toEqual([
        ['TP:cnt', 1, 300, 38.41, [2215, 2313]],
        ['TP:wf', 2, 53, 38.559, [2211, 2313]],
      ]);
      // the client advertised a zero window from frame 2271 to 2310 (tshark): each subscription's one stall is that
      for (const r of rows) {
        expect(r.stalls).toHaveLength(1);
        expect(r.stalls[0]).toMatchObject({ startFrame: r.longestGapFrames![0], endFrame: 2313, cause: 'zero window' });
      }
      // "TP:cnt values 245..474 never sent (the update in frame 3627 jumps from 244 to 475)"
      const cnt = rows[0]!;
      expect(cnt.sequence).toMatchObject({ missing: [[245, 474]], missingValues: 230, repeats: 0, stepsBack: 0, wraps: 0 });
      // queued at the IOC for up to the stall: the largest lag is about the 38 s the zero window lasted
      expect(cnt.lag!.maxS).toBeGreaterThan(38);
      expect(cnt.lag!.maxS).toBeLessThan(38.6);
    });

    it('camonitor_fast: about 100, 10, 10 and 1 updates a second', async () => {
      const rows = await monitors(join(REAL, 'camonitor_fast.pcap'));
      // camonitor_fast.txt: TEST:calc100 998, TEST:calc10 101, TEST:sine 101, TEST:ai 11 updates; ~100 Hz, 10 Hz, 10 Hz, 1 Hz
      expect(rows.map((r) => [r.pv, r.updates, Math.round(r.rateHz), r.intervalRate.median, r.stallCount])).toEqual([
        ['TEST:calc100', 998, 100, 100, 0],
        ['TEST:calc10', 101, 10, 10, 0],
        ['TEST:sine', 101, 10, 10, 0],
        ['TEST:ai', 11, 1, 1, 0],
      ]);
      const pv = await monitors(join(REAL, 'camonitor_fast.pcap'), { by: 'pv' });
      expect(pv.map((r) => [r.pv, r.subscriptions, r.updates])).toEqual(rows.map((r) => [r.pv, 1, r.updates]));
    });
  });
});
