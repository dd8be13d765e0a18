// cawire compare's verdict per request/response pair, one-way delay over time,
// the time window, and matching by stream offset where the two captures cut the
// TCP byte stream differently: on twopoint_lossy (against its .txt facts) and on
// synth --vantage worlds (against their truth).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/source.js';
import { pairsReport } from '../../src/compare/pairs.js';
import { compareReport } from '../../src/compare/report.js';
import { runCompare, type CompareRunOptions } from '../../src/compare/run.js';
import { DelayTimeline } from '../../src/compare/timeline.js';
import { CaptureWriter } from '../../src/synth/capture-writer.js';
import type { VantageOptions } from '../../src/synth/vantage.js';
import { vantageWorld } from '../helpers/vantage-world.js';
import { HAVE_SHARED, SHARED, SKIP_REASON } from '../helpers/shared.js';

const PORTS = new Set([5064]);
const FILTER = { serverPorts: PORTS, repeaterPort: 5065, nat: false };
const tmp = mkdtempSync(join(tmpdir(), 'cawire-verdict-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function compare(a: string, b: string, o: Partial<CompareRunOptions> = {}) {
  const run = await runCompare([a, b], { filter: FILTER, pairs: true, ...o });
  return { run, report: compareReport(run, PORTS, 5064), pairs: pairsReport(run.verdicts!, run.pairsSeen![0], run.pairsSeen![1]) };
}

/** A world without loss (unless `o` says), 6 s at 400 packets/s. */
const world = (name: string, o: Partial<VantageOptions> = {}) => vantageWorld(tmp, name, { scenario: { seed: 5, durationNs: 6e9, rate: 400 }, loss: 0, ...o });

describe.skipIf(!HAVE_SHARED)(`pair verdict on twopoint_lossy ${HAVE_SHARED ? '' : SKIP_REASON}`, () => {
  const S = join(SHARED, 'corpus/scenarios');
  const A = join(S, 'twopoint_lossy.client.pcap');
  const B = join(S, 'twopoint_lossy.server.pcap');

  it('matches every create, read and subscribe at both points, and its legs add up to what the client waited', async () => {
    const { run, pairs } = await compare(A, B);
    // The .txt: CreateChan 126/126, ReadNotify 126/126, EventAdd requests 3 (caput without callback: no write pairs), both captures alike.
    expect(Object.fromEntries(pairs.by_kind.map((k) => [k.kind, k.pairs]))).toEqual({ create: 126, read: 126, subscribe: 3 });
    expect(pairs.only_a).toBe(0);
    expect(pairs.only_b).toBe(0);
    for (const v of run.verdicts!) {
      expect(Math.abs(v.toServer + v.atServer + v.toClient - v.total)).toBeLessThan(1e-9);
      expect(v.atServer).toBeGreaterThanOrEqual(0);
      // A leg is a trip through the router (the .txt's delays: up 0.001..0.069 ms, down 0.001..10.171 ms),
      // or a trip repaired by a retransmission, at least TCP's least timeout (200 ms) later.
      const up = v.toServer * 1e3;
      const down = v.toClient * 1e3;
      expect((up >= 0.0005 && up <= 0.0695) || up >= 200).toBe(true);
      expect((down >= 0.0005 && down <= 10.1715) || down >= 200).toBe(true);
    }
  });

  it('puts every pair slower than 100 ms on the network, with its frames in both captures', async () => {
    const { run } = await compare(A, B);
    const slow = run.verdicts!.filter((v) => v.total > 0.1);
    expect(slow.length).toBeGreaterThan(0);
    for (const v of slow) {
      expect(v.toServer + v.toClient).toBeGreaterThan(0.1);
      expect(v.atServer).toBeLessThan(0.01);
      expect(v.a.requestFrame).toBeGreaterThan(0);
      expect(v.b.responseFrame).toBeGreaterThan(v.b.requestFrame);
    }
  });

  it('--interval: the intervals add up to each direction\'s packets and losses', async () => {
    const timeline = new DelayTimeline();
    const { run, report } = await compare(A, B, { onDelay: (d, t, raw) => timeline.delay(d, t, raw), onLost: (d, t) => timeline.lost(d, t) });
    const rows = timeline.rows(1, report.captures[0]!.first_s, run.originSec, run.offset.offset);
    for (const dir of ['client_to_server', 'server_to_client'] as const) {
      const mine = rows.filter((r) => r.direction === dir);
      expect(mine.reduce((n, r) => n + r.packets, 0)).toBe(report[dir].packets);
      expect(mine.reduce((n, r) => n + r.lost_packets, 0)).toBe(report[dir].lost_packets);
      expect(Math.max(...mine.filter((r) => r.packets).map((r) => r.owd_ms.max))).toBe(report[dir].owd_ms.max);
    }
    // The capture lasts about 27 s: one row per second and direction at most.
    expect(rows.length).toBeLessThanOrEqual(2 * 28);
  });
});

describe('pair verdict and windows against synth --vantage truth', () => {
  const w = world('verdict');

  it('times the way to the server as the world did (2 ms), the way back within its delays', async () => {
    const { run, pairs, report } = await compare(w.a, w.b, { clockOffset: 0.3 });
    expect(report.client_to_server.lost_packets).toBe(0);
    expect(pairs.matched).toBeGreaterThan(10);
    expect(pairs.only_a).toBe(0);
    // The synthetic client acts on a search reply before it reaches A (one timeline, delays added after): A's
    // dissector learns that IOC's port after the circuit began. Every pair only B has is on such a circuit.
    const atA = new Set(run.verdicts!.map((v) => v.b));
    const onlyB = run.pairsSeen![1].pairs.filter((p) => !atA.has(p));
    expect(onlyB).toHaveLength(pairs.only_b);
    for (const p of onlyB) expect(p.server.endsWith(':5064')).toBe(false);
    const down = w.truth.server_to_client.owd_ms;
    for (const v of run.verdicts!) {
      expect(Math.abs(v.toServer * 1e3 - w.truth.client_to_server.owd_ms.p50)).toBeLessThanOrEqual(0.001);
      expect(v.toClient * 1e3).toBeGreaterThanOrEqual(down.min - 0.001);
      expect(v.toClient * 1e3).toBeLessThanOrEqual(down.max + 0.001);
    }
  });

  it('a window compares the packets in it and counts no loss at its edges', async () => {
    const whole = await compare(w.a, w.b, { clockOffset: 0.3 });
    const { report } = await compare(w.a, w.b, { clockOffset: 0.3, spec: { since: { afterFirst: 1.5 }, until: { afterFirst: 4 } } });
    expect(report.client_to_server.packets).toBeGreaterThan(0);
    expect(report.server_to_client.packets).toBeLessThan(whole.report.server_to_client.packets * 0.6);
    expect(report.client_to_server.lost_packets + report.server_to_client.lost_packets).toBe(0);
  });
});

/**
 * A copy of a capture (Ethernet, IPv4) with every TCP segment of more than 200
 * payload bytes split in two at the same time, as a middlebox that resegments
 * (or TSO on the other side) would leave it.
 */
async function splitSegments(path: string, out: string): Promise<number> {
  const writer = new CaptureWriter({ format: 'pcap', precision: 'ns' });
  let split = 0;
  await readCapture(path, {
    packet: (_f, _l, sec, nsec, data, off, capLen) => {
      const frame = Buffer.from(data.subarray(off, off + capLen));
      const ip = 14;
      const ihl = (frame[ip]! & 15) * 4;
      const total = frame.readUInt16BE(ip + 2);
      const tcp = ip + ihl;
      const dataOff = frame[ip + 9] === 6 ? (frame[tcp + 12]! >> 4) * 4 : 0;
      const payLen = total - ihl - dataOff;
      if (frame[ip + 9] !== 6 || payLen <= 200) {
        writer.writePacket(sec, nsec, frame);
        return;
      }
      split++;
      const cut = Math.floor(payLen / 2);
      const head = tcp + dataOff;
      const seq = frame.readUInt32BE(tcp + 4);
      for (const [from, to] of [
        [0, cut],
        [cut, payLen],
      ] as const) {
        const piece = Buffer.concat([frame.subarray(0, head), frame.subarray(head + from, head + to)]);
        piece.writeUInt16BE(ihl + dataOff + (to - from), ip + 2);
        piece.writeUInt32BE((seq + from) >>> 0, tcp + 4);
        writer.writePacket(sec, nsec, piece);
      }
    },
  });
  writeFileSync(out, writer.toBuffer());
  return split;
}

describe('matching by stream offset where the captures cut the byte stream differently', () => {
  const w = world('reseg', { loss: 0.02, scenario: { seed: 9, durationNs: 6e9, rate: 400 } });

  it('B resegmented: every piece matches the segment A sent, losses as the world made them', async () => {
    const b = join(tmp, 'reseg.split.server.pcap');
    expect(await splitSegments(w.b, b)).toBeGreaterThan(100);
    const { report } = await compare(w.a, b, { clockOffset: 0.3 });
    const plain = (await compare(w.a, w.b, { clockOffset: 0.3 })).report;
    expect(report.client_to_server.unmatched_received).toBe(0);
    expect(report.server_to_client.unmatched_received).toBe(0);
    // A segment A sent is lost whole or arrives whole (in two pieces): as many losses as the world made.
    expect(report.client_to_server.lost_packets).toBe(w.truth.client_to_server.lost);
    expect(plain.client_to_server.lost_packets).toBe(w.truth.client_to_server.lost);
    // The way up is 2 ms for every piece; the way down within the world's delays.
    for (const k of ['min', 'max'] as const) expect(Math.abs(report.client_to_server.owd_ms[k] - w.truth.client_to_server.owd_ms[k])).toBeLessThanOrEqual(0.001);
    expect(report.server_to_client.owd_ms.min).toBeGreaterThanOrEqual(w.truth.server_to_client.owd_ms.min - 0.001);
    expect(report.server_to_client.owd_ms.max).toBeLessThanOrEqual(w.truth.server_to_client.owd_ms.max + 0.001);
  });
});
