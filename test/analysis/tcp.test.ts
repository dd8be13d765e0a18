// `cawire tcp`'s analysis: stalls and what they held back on the slow_consumer captures,
// per-direction counts against tshark, window scaling and RTT samples on captures
// written here with the project's capture writer.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../src/analysis/runner.js';
import { buildAnalysis } from '../../src/analysis/registry.js';
import type { TcpCircuitRow, TcpPart } from '../../src/analysis/tcp.js';
import { RttSampler, rttStats } from '../../src/analysis/tcp-rtt.js';
import { versionRequest, versionResponse } from '../../src/synth/ca-encode.js';
import { IP_PROTO_TCP, TCP, ipv4Packet, tcpSegment, type Endpoint } from '../../src/synth/frames.js';
import { CaptureBuilder, EPOCH } from '../helpers/build.js';
import { HAVE_SHARED, SHARED, SKIP_REASON } from '../helpers/shared.js';

const SCENARIOS = join(SHARED, 'corpus/scenarios');

async function tcpOf(source: string | Buffer, trace?: number): Promise<TcpPart> {
  const { part } = await runAnalysis([source as string], await buildAnalysis('tcp', { trace }));
  return part;
}

describe.skipIf(!HAVE_SHARED)(`tcp on the bad-day captures (${HAVE_SHARED ? 'corpus' : SKIP_REASON})`, () => {
  it('slow_consumer.client: one stall by the client, frames 2271 to 2310, 38.3 s, 7 IOC probes, TP:cnt and TP:wf held back', async () => {
    const { rows } = await tcpOf(join(SCENARIOS, 'slow_consumer.client.pcap'));
    expect(rows).toHaveLength(1);
    const long = rows[0]!.stalls.filter((s) => s.seconds > 1);
    expect(long).toHaveLength(1);
    const s = long[0]!;
    // slow_consumer.txt: "from frame 2271 (10.276 s ...) until its window update in frame 2310 (48.590 s): 38.31 s"
    expect([s.side, s.startFrame, s.endFrame]).toEqual(['client', 2271, 2310]);
    expect(Math.abs(s.seconds - 38.314)).toBeLessThan(0.05);
    // `tshark -Y tcp.analysis.keep_alive`: the IOC's 7 probes, frames 2272-2302
    expect(s.probes).toBe(7);
    // slow_consumer.txt: both subscriptions' longest silence ends at frame 2313, just after the window opened
    expect([...s.heldPvs].sort()).toEqual(['TP:cnt', 'TP:wf']);
    // the other zero window (frame 2341, reopened by 2342 at once) is a stall of its own
    expect(rows[0]!.stalls.map((x) => [x.side, x.startFrame, x.endFrame])).toEqual([
      ['client', 2271, 2310],
      ['client', 2341, 2342],
    ]);
  });

  it('slow_consumer.server: the same stall seen at the IOC, frames 2267 to 2306', async () => {
    const { rows } = await tcpOf(join(SCENARIOS, 'slow_consumer.server.pcap'));
    const [s] = rows[0]!.stalls.filter((x) => x.seconds > 1);
    // `tshark -r slow_consumer.server.pcap -Y tcp.analysis.zero_window`: 2267 (10.399981 s) ... window update 2306 (48.713771 s)
    expect([s!.side, s!.startFrame, s!.endFrame, s!.probes]).toEqual(['client', 2267, 2306, 7]);
    expect(Math.abs(s!.seconds - 38.314)).toBeLessThan(0.05);
    expect([...s!.heldPvs].sort()).toEqual(['TP:cnt', 'TP:wf']);
  });

  it('slow_consumer.client: the handshake round trip is the SYN to SYN-ACK time (frames 26 and 27)', async () => {
    const { rows } = await tcpOf(join(SCENARIOS, 'slow_consumer.client.pcap'));
    // tshark frame.time_relative: 3.601634847 and 3.601675429
    // (the circuit's times are float Unix seconds: exact to about 0.1 us)
    expect(rows[0]!.circuit.handshakeRtt! * 1e3).toBeCloseTo(0.040582, 3);
    // the first RTT sample toward the server is the same SYN -> SYN-ACK, timed to the nanosecond
    expect(rows[0]!.client.rtt!.min).toBeLessThanOrEqual(0.040582 + 1e-9);
    // windows scaled by the shift both SYNs offered (tshark: tcp.window_size_scalefactor 1024 both ways)
    expect([rows[0]!.client.windowScale, rows[0]!.server.windowScale]).toEqual([10, 10]);
    expect(rows[0]!.client.minWindow).toBe(0); // the stall
  });

  // Per direction, from `tshark -r FILE -Y "tcp.analysis.retransmission && tcp.dstport==5064"` (and srcport, and
  // lost_segment) with tshark 4.0.17; their totals are the .txt facts (149/144 and 53/9).
  const TSHARK: Record<string, [number, number, number, number]> = {
    'twopoint_lossy.client.pcap': [6, 143, 0, 144],
    'flaky_connect.client.pcap': [34, 19, 0, 9],
  };
  for (const [file, expected] of Object.entries(TSHARK)) {
    it(`${file}: retransmissions and holes per direction are tshark's`, async () => {
      const { rows } = await tcpOf(join(SCENARIOS, file));
      const sum = (pick: (r: TcpCircuitRow) => number) => rows.reduce((n, r) => n + pick(r), 0);
      expect([
        sum((r) => r.circuit.tcpToServer.retransmissions),
        sum((r) => r.circuit.tcpToClient.retransmissions),
        sum((r) => r.circuit.tcpToServer.holes),
        sum((r) => r.circuit.tcpToClient.holes),
      ]).toEqual(expected);
      // every hole was filled in the end (retransmitted or out of order): no capture gap
      expect(sum((r) => r.circuit.gaps)).toBe(0);
    });
  }
});

// ---- captures written here ----------------------------------------------------------

const CLIENT: Endpoint = { ip: '10.0.0.1', port: 40000 };
const SERVER: Endpoint = { ip: '10.0.0.2', port: 5064 };

/** TCP option bytes: MSS 1460, then window scale `shift` (NOP-padded to 8 bytes). */
const wsOption = (shift: number) => Uint8Array.from([2, 4, 0x05, 0xb4, 1, 3, 3, shift]);

class Conn {
  readonly b = new CaptureBuilder({ precision: 'ns' });
  seg(t: number, fromClient: boolean, seq: number, ack: number, flags: number, payload: Buffer, window: number, options?: Uint8Array): void {
    const [src, dst] = fromClient ? [CLIENT, SERVER] : [SERVER, CLIENT];
    this.b.ip(t, ipv4Packet(src.ip, dst.ip, IP_PROTO_TCP, tcpSegment(src, dst, seq, ack, flags, payload, window, options)));
  }
}

const NONE = Buffer.alloc(0);
const ACK = TCP.ACK;
const PA = TCP.PSH | TCP.ACK;

describe('tcp on captures written here', () => {
  it('SYNs with window-scale options: windows scaled by each side\'s shift, RTT samples exact, a retransmitted segment gives none (Karn)', async () => {
    const c = new Conn();
    const req = versionRequest({ version: 13 });
    const res = versionResponse({ version: 13 });
    c.seg(0, true, 1000, 0, TCP.SYN, NONE, 64240, wsOption(7));
    c.seg(0.01, false, 5000, 1001, TCP.SYN | ACK, NONE, 65160, wsOption(2));
    c.seg(0.012, true, 1001, 5001, ACK, NONE, 502);
    c.seg(0.1, true, 1001, 5001, PA, req, 502); // timed: acked 20 ms later
    c.seg(0.12, false, 5001, 1001 + req.length, PA, res, 1000);
    c.seg(0.125, true, 1001 + req.length, 5001 + res.length, ACK, NONE, 100); // 100 << 7 = 12800, the smallest
    c.seg(0.2, true, 1001 + req.length, 5001 + res.length, PA, req, 502); // sent ...
    c.seg(0.5, true, 1001 + req.length, 5001 + res.length, PA, req, 502); // ... and retransmitted: no sample
    c.seg(0.51, false, 5001 + res.length, 1001 + 2 * req.length, ACK, NONE, 1000);
    const { rows, trace } = await tcpOf(c.b.bytes() as unknown as string, 1);
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    expect([r.client.windowScale, r.server.windowScale]).toEqual([7, 2]);
    expect([r.client.minWindow, r.server.minWindow]).toEqual([100 * 128, 1000 * 4]);
    // toward the server: SYN -> SYN-ACK 10 ms, request -> its ACK 20 ms; the retransmitted request gave none
    expect(r.client.rtt!.samples).toBe(2);
    expect(r.client.rtt!.min).toBeCloseTo(10, 9);
    expect(r.client.rtt!.max).toBeCloseTo(20, 9);
    // toward the client: SYN-ACK -> ACK 2 ms, response -> ACK 5 ms
    expect(r.server.rtt!.samples).toBe(2);
    expect(r.server.rtt!.min).toBeCloseTo(2, 9);
    expect(r.server.rtt!.max).toBeCloseTo(5, 9);
    expect(r.circuit.tcpToServer.retransmissions).toBe(1);
    // the trace: SYN windows unscaled, the others scaled; relative numbers from the SYNs
    const rowsOf = trace!.rows;
    expect(rowsOf.map((x) => x.window)).toEqual([64240, 65160, 502 * 128, 502 * 128, 1000 * 4, 100 * 128, 502 * 128, 502 * 128, 1000 * 4]);
    expect(rowsOf.every((x) => x.windowScaled)).toBe(true);
    expect(rowsOf.map((x) => x.seq)).toEqual([0, 0, 1, 1, 1, 1 + req.length, 1 + req.length, 1 + req.length, 1 + res.length]);
    expect(rowsOf[3]!.messages).toEqual(['VersionRequest']);
    expect(rowsOf[3]!.inFlight).toBe(req.length);
  });

  it('a capture that starts mid-circuit: window scale unknown, windows shown unscaled and marked so', async () => {
    const c = new Conn();
    const req = versionRequest({ version: 13 });
    const res = versionResponse({ version: 13 });
    c.seg(0, true, 777_000, 999_000, PA, req, 300);
    c.seg(0.03, false, 999_000, 777_000 + req.length, PA, res, 400);
    c.seg(0.031, true, 777_000 + req.length, 999_000 + res.length, ACK, NONE, 250);
    const { rows, trace } = await tcpOf(c.b.bytes() as unknown as string, 1);
    const r = rows[0]!;
    expect([r.client.windowScale, r.server.windowScale]).toEqual(['unknown', 'unknown']);
    expect([r.client.minWindow, r.server.minWindow]).toEqual([250, 400]);
    expect(r.circuit.handshakeRtt).toBeUndefined();
    expect(trace!.rows.map((x) => [x.seq, x.ack, x.window, x.windowScaled])).toEqual([
      [1, 1, 300, false],
      [1, 1 + req.length, 400, false],
      [1 + req.length, 1 + res.length, 250, false],
    ]);
    // one sample toward the server (request -> response with its ACK: 30 ms), one toward the client (1 ms)
    expect(r.client.rtt!.max).toBeCloseTo(30, 9);
    expect(r.server.rtt!.max).toBeCloseTo(1, 9);
    expect(trace!.rows[0]!.relative).toBe(0);
    expect(trace!.rows[1]!.time).toBeCloseTo(EPOCH + 0.03, 6);
  });
});

describe('RttSampler', () => {
  it('keeps the lowest of the latest samples', () => {
    const s = new RttSampler(false);
    for (const [i, rtt] of [0.05, 0.01, 0.03].entries()) {
      s.sent(i * 100, 10, false, i);
      expect(s.acked(i * 100 + 10, i + rtt)).toBeCloseTo(rtt, 12);
    }
    expect(s.lowestRecent()).toBeCloseTo(0.01, 12);
    // an ACK short of the timed segment's end is no sample
    s.sent(1000, 10, false, 5);
    expect(s.acked(1005, 5.1)).toBe(-1);
  });

  it('past the samples it keeps, thins them for the median and 90% but keeps min and max exact', () => {
    const s = new RttSampler(true);
    // 20,000 samples of 10-19 ms; the least (1 ms) and the greatest (500 ms) at odd places, which thinning drops
    for (let i = 0; i < 20_000; i++) {
      const rtt = i === 12_345 ? 0.001 : i === 17_777 ? 0.5 : 0.01 + (i % 10) / 1000;
      s.sent(i * 100, 10, false, i);
      s.acked(i * 100 + 10, i + rtt);
    }
    const stats = rttStats(s)!;
    expect(s.kept!.length).toBeLessThanOrEqual(4096);
    expect(stats.samples).toBe(20_000);
    expect(stats.min).toBeCloseTo(1, 6);
    expect(stats.max).toBeCloseTo(500, 6);
    expect(stats.p50).toBeGreaterThanOrEqual(14 - 1e-9);
    expect(stats.p50).toBeLessThanOrEqual(15 + 1e-9);
  });
});
