import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CircuitAnalysis, type CircuitSummary, type TcpDirectionSummary } from '../../src/analysis/circuits.js';
import { runDissection } from '../../src/dissect/run.js';
import { MAX_STALL_RECORDS, SCALE_NONE, SCALE_UNKNOWN, TcpFlag as F, TcpFlow, newTcpClock, windowScaleOption } from '../../src/net/tcp-analysis.js';
import { stallCapture } from '../analysis/report-captures.js';
import { EPOCH } from '../helpers/build.js';
import { HAVE_SHARED, SHARED } from '../helpers/shared.js';

const ACK = 0x10;
const SYN = 0x02;
const FIN = 0x01;

interface Send {
  flags?: number;
  len?: number;
  window?: number;
  /** bytes the reassembly had not seen (default: none) */
  newBytes?: number;
}

/** Two flows of one connection fed segment by segment, as the dissector does; frames count from 1. */
class Conn {
  readonly client = new TcpFlow();
  readonly server = new TcpFlow();
  private readonly clock = newTcpClock(1_700_000_000);

  /** A segment `t` seconds after 1,700,000,000 (whole microseconds, so exact), in the next frame. */
  send(side: 'client' | 'server', t: number, seq: number, ack: number, o: Send = {}): number {
    const [fwd, rev] = side === 'client' ? [this.client, this.server] : [this.server, this.client];
    const us = Math.round(t * 1e6);
    this.clock.sec = Math.floor(us / 1e6);
    this.clock.nsec = (us % 1e6) * 1000;
    this.clock.frame++;
    return fwd.segment(rev, seq >>> 0, ack >>> 0, o.flags ?? ACK, o.window ?? 1000, o.len ?? 0, o.newBytes ?? 0, this.clock);
  }

  /** SYN at 0, SYN-ACK at 0.1 ms, ACK at 0.2 ms (the round trip, 0.2 ms): data starts at 1000 (client) and 5000 (server). */
  handshake(clientShift = -1, serverShift = -1, window = 1000): void {
    this.client.synOptions(this.server, false, clientShift);
    this.send('client', 0, 999, 0, { flags: SYN, window });
    this.server.synOptions(this.client, true, serverShift);
    this.send('server', 0.0001, 4999, 1000, { flags: SYN | ACK, window });
    this.send('client', 0.0002, 1000, 5000, { window });
  }
}

/** The flags of `a` that are set, by name. */
function names(a: number): string[] {
  return Object.entries(F)
    .filter(([, bit]) => a & bit)
    .map(([name]) => name);
}

describe('TCP analysis, flag by flag (Wireshark tcp.analysis rules)', () => {
  it('a resend of bytes seen before is a retransmission; one that fills a hole is a hole filled late', () => {
    const c = new Conn();
    c.handshake();
    expect(names(c.send('server', 0.001, 5000, 1000, { len: 100, newBytes: 100 }))).toEqual([]);
    expect(names(c.send('server', 0.0011, 5100, 1000, { len: 100, newBytes: 100 }))).toEqual([]);
    // 5200..5300 never reached the capture: the next segment comes after a hole
    expect(names(c.send('server', 0.0012, 5300, 1000, { len: 100, newBytes: 100 }))).toEqual(['LOST_SEGMENT']);
    expect(names(c.send('client', 0.0015, 1000, 5200))).toEqual([]);
    // the hole filled 0.5 s later (no duplicate ACKs: a timeout)
    expect(names(c.send('server', 0.5, 5200, 1000, { len: 100, newBytes: 100 }))).toEqual(['RETRANSMISSION', 'FILLED_HOLE']);
    // bytes the capture had seen: 5300..5400 not yet acknowledged, 5000..5100 acknowledged (spurious)
    expect(names(c.send('server', 1, 5300, 1000, { len: 100 }))).toEqual(['RETRANSMISSION']);
    expect(names(c.send('server', 1.5, 5000, 1000, { len: 100 }))).toEqual(['RETRANSMISSION', 'SPURIOUS_RETRANSMISSION']);
    const e = c.server.events;
    expect([e.retransmissions, e.holesFilledLate, e.holes, e.outOfOrder, e.firstRetransmissionFrame]).toEqual([3, 1, 1, 0, 8]);
    // SYN-ACK and the 6 data segments take sequence space (the pure ACKs do not)
    expect(c.server.segments).toBe(7);
    expect(c.client.events.retransmissions).toBe(0);
  });

  it('a segment below the highest one within the handshake round trip of it is out of order, later a retransmission', () => {
    const c = new Conn();
    c.handshake(); // round trip 0.2 ms
    c.send('server', 0.001, 5100, 1000, { len: 100, newBytes: 100 });
    expect(names(c.send('server', 0.00115, 5000, 1000, { len: 100, newBytes: 100 }))).toEqual(['OUT_OF_ORDER']);
    c.send('server', 0.002, 5300, 1000, { len: 100, newBytes: 100 });
    expect(names(c.send('server', 0.00221, 5200, 1000, { len: 100, newBytes: 100 }))).toEqual(['RETRANSMISSION', 'FILLED_HOLE']);
    expect(c.server.firstRtt).toBeCloseTo(0.0002, 12);
    // without the handshake the window is 3 ms
    const m = new Conn();
    m.send('server', 1, 5100, 1000, { len: 100 });
    expect(names(m.send('server', 1.0029, 5000, 1000, { len: 100 }))).toEqual(['OUT_OF_ORDER']);
    m.send('server', 2, 5300, 1000, { len: 100 });
    expect(names(m.send('server', 2.0031, 5200, 1000, { len: 100 }))).toEqual(['RETRANSMISSION']);
    expect([m.server.events.outOfOrder, m.server.events.retransmissions, m.server.firstRtt]).toEqual([1, 1, undefined]);
  });

  it('duplicate ACKs, then the resend of what they ask for within 20 ms: a fast retransmission', () => {
    const c = new Conn();
    c.handshake();
    c.send('server', 0.001, 5000, 1000, { len: 100, newBytes: 100 });
    c.send('server', 0.0011, 5100, 1000, { len: 100, newBytes: 100 });
    // the handshake's ACK said 5000 with window 1000: the same again is a duplicate
    expect(names(c.send('client', 0.002, 1000, 5000))).toEqual(['DUPLICATE_ACK']);
    expect(names(c.send('client', 0.0021, 1000, 5000))).toEqual(['DUPLICATE_ACK']);
    expect(names(c.send('client', 0.0022, 1000, 5000, { window: 900 }))).toEqual(['WINDOW_UPDATE']); // not a duplicate: a new window
    expect(names(c.send('client', 0.0023, 1000, 5000, { window: 900 }))).toEqual(['DUPLICATE_ACK']);
    expect(names(c.send('server', 0.01, 5000, 1000, { len: 100 }))).toEqual(['RETRANSMISSION', 'FAST_RETRANSMISSION']);
    expect(names(c.send('client', 0.011, 1000, 5200, { window: 900 }))).toEqual([]); // the ACK moved: the run ends
    expect(names(c.send('client', 0.012, 1000, 5200, { window: 900 }))).toEqual(['DUPLICATE_ACK']);
    expect(names(c.send('server', 0.1, 5100, 1000, { len: 100 }))).toEqual(['RETRANSMISSION', 'SPURIOUS_RETRANSMISSION']); // one duplicate only
    expect([c.client.events.duplicateAcks, c.server.events.retransmissions]).toEqual([4, 2]);
  });

  it('a keep-alive (one below the next sequence number) is no retransmission, and its ACK no duplicate', () => {
    const c = new Conn();
    c.handshake();
    c.send('server', 0.001, 5000, 1000, { len: 100, newBytes: 100 });
    c.send('client', 0.002, 1000, 5100);
    expect(names(c.send('server', 10, 5099, 1000))).toEqual(['KEEP_ALIVE']);
    expect(names(c.send('client', 10.001, 1000, 5100))).toEqual(['KEEP_ALIVE_ACK']);
    expect(names(c.send('server', 20, 5099, 1000, { len: 1 }))).toEqual(['KEEP_ALIVE']);
    expect([c.server.events.keepAlives, c.server.events.retransmissions, c.server.events.zeroWindowProbes, c.client.events.duplicateAcks]).toEqual([2, 0, 0, 0]);
  });

  it('a zero window: a stall from the first zero-window segment to the window update, with the probes the peer sent', () => {
    const c = new Conn();
    c.handshake();
    c.send('server', 0.001, 5000, 1000, { len: 1000, newBytes: 1000 });
    expect(names(c.send('client', 0.01, 1000, 6000, { window: 0 }))).toEqual(['ZERO_WINDOW']); // frame 5
    // Linux probes with a keep-alive; a 1-byte probe at the next sequence number is the other kind
    expect(names(c.send('server', 0.2, 5999, 1000))).toEqual(['KEEP_ALIVE']);
    expect(names(c.send('client', 0.2001, 1000, 6000, { window: 0 }))).toEqual(['ZERO_WINDOW']);
    expect(names(c.send('server', 0.6, 6000, 1000, { len: 1, newBytes: 1 }))).toEqual(['ZERO_WINDOW_PROBE']);
    expect(names(c.send('client', 0.6001, 1000, 6000, { window: 0 }))).toEqual(['ZERO_WINDOW', 'ZERO_WINDOW_PROBE_ACK']);
    expect(names(c.send('client', 3.5, 1000, 6000, { window: 700 }))).toEqual(['WINDOW_UPDATE']); // frame 10
    // the probe did not move the sequence: the byte comes again with the data, not as a retransmission
    expect(names(c.send('server', 3.501, 6000, 1000, { len: 700, newBytes: 699 }))).toEqual(['WINDOW_FULL']);
    const e = c.client.events;
    expect([e.zeroWindows, e.zeroWindowStalls, c.server.events.zeroWindowProbes, c.server.events.retransmissions]).toEqual([3, 1, 2, 0]);
    expect(e.stalls).toEqual([
      {
        startFrame: 5,
        startTime: 1_700_000_000.01,
        startSec: 1_700_000_000,
        startNsec: 10_000_000,
        endFrame: 10,
        endTime: 1_700_000_003.5,
        endSec: 1_700_000_003,
        endNsec: 500_000_000,
        advertisements: 3,
        probes: 2,
      },
    ]);
  });

  it('a stall not over at the end is kept without an end; of many, the longest are kept and all are counted', () => {
    const c = new Conn();
    c.handshake();
    c.send('server', 0.001, 5000, 1000, { len: 1000, newBytes: 1000 });
    const durations = [5, 1, 9, 2, 8, 3, 7, 4, 6, 0.5, 10, 0.1];
    let t = 1;
    for (const d of durations) {
      c.send('client', t, 1000, 6000, { window: 0 });
      c.send('client', t + d, 1000, 6000, { window: 1000 });
      t += d + 1;
    }
    c.send('client', t, 1000, 6000, { window: 0 });
    c.client.finish();
    const e = c.client.events;
    expect(e.zeroWindowStalls).toBe(durations.length + 1);
    // the open one counts as the longest
    const kept = e.stalls!.map((s) => (s.endTime === undefined ? Infinity : Math.round(s.endTime - s.startTime))).sort((a, b) => a - b);
    expect(MAX_STALL_RECORDS).toBe(8);
    expect(kept).toEqual([4, 5, 6, 7, 8, 9, 10, Infinity]);
  });

  it('window full: data up to the right edge of the scaled window; never when the scale is unknown', () => {
    const c = new Conn();
    c.handshake(7, 2, 100); // the client's window of 100 means 12,800 bytes once scaled
    expect([c.client.winScale, c.server.winScale]).toEqual([7, 2]);
    expect(names(c.send('server', 0.001, 5000, 1000, { len: 12_799, newBytes: 12_799 }))).toEqual([]);
    expect(names(c.send('server', 0.0011, 17_799, 1000, { len: 1, newBytes: 1 }))).toEqual(['WINDOW_FULL']);
    expect(c.server.events.windowFull).toBe(1);
    // joined mid-stream: the same segments, no verdict
    const m = new Conn();
    m.send('client', 0, 1000, 5000, { window: 100 });
    m.send('server', 0.001, 5000, 1000, { len: 12_800 });
    m.send('server', 0.002, 17_800, 1000, { len: 100 });
    expect([m.client.winScale, m.server.events.windowFull]).toEqual([SCALE_UNKNOWN, 0]);
  });

  it('window scaling is on only when both SYNs carry the option', () => {
    const pair = (clientShift: number, serverShift: number) => {
      const c = new Conn();
      c.client.synOptions(c.server, false, clientShift);
      c.server.synOptions(c.client, true, serverShift);
      return [c.client.winScale, c.server.winScale];
    };
    expect(pair(7, 9)).toEqual([7, 9]);
    expect(pair(15, 3)).toEqual([14, 3]); // at most 14 (RFC 7323)
    expect(pair(7, -1)).toEqual([SCALE_NONE, SCALE_NONE]);
    expect(pair(-1, 9)).toEqual([SCALE_NONE, SCALE_NONE]);
  });

  it('finds the window scale option among the TCP options', () => {
    const at = (bytes: number[]) => windowScaleOption(Buffer.from([0xee, ...bytes, 0xee]), 1, 1 + bytes.length);
    expect(at([2, 4, 5, 0xb4, 4, 2, 1, 3, 3, 7])).toBe(7); // MSS, SACK permitted, NOP, window scale
    expect(at([2, 4, 5, 0xb4, 0, 3, 3, 7])).toBe(-1); // after the end of options
    expect(at([2, 4, 5, 0xb4])).toBe(-1);
    expect(at([3, 3])).toBe(-1); // cut short
    expect(at([8, 0, 3, 3, 7])).toBe(-1); // a length below 2 ends the walk
    expect(at([8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 14])).toBe(14);
  });

  it('sequence numbers wrapping past 2^32', () => {
    const c = new Conn();
    c.send('server', 0, 0xffffff00, 1000, { flags: SYN | ACK });
    c.send('server', 0.001, 0xffffff01, 1000, { len: 0x100, newBytes: 0x100 }); // ends at 1 after the wrap
    expect(names(c.send('server', 0.002, 0x11, 1000, { len: 10, newBytes: 10 }))).toEqual(['LOST_SEGMENT']);
    expect(names(c.send('server', 1, 0x1, 1000, { len: 0x10, newBytes: 0x10 }))).toEqual(['RETRANSMISSION', 'FILLED_HOLE']);
    expect(names(c.send('server', 2, 0xffffff81, 1000, { len: 0x10 }))).toEqual(['RETRANSMISSION']);
    expect(names(c.send('server', 3, 0x1b, 1000, { len: 10, flags: FIN | ACK, newBytes: 10 }))).toEqual([]);
  });
});

// ---- real captures against tshark ------------------------------------------------

const SCENARIOS = join(SHARED, 'corpus/scenarios');

/** The number a fact line of NAME.txt gives: the first capture group of `pattern`. */
function fact(name: string, pattern: RegExp): number {
  const m = readFileSync(join(SCENARIOS, `${name}.txt`), 'utf8').match(pattern);
  if (!m) throw new Error(`${name}.txt: no line matches ${pattern}`);
  return Number(m[1]);
}

async function circuitsOf(file: string): Promise<CircuitSummary[]> {
  const analysis = new CircuitAnalysis();
  await runDissection(join(SCENARIOS, file), analysis.selection(), (ev) => analysis.event(ev), { listener: analysis });
  return analysis.finish();
}

/** A count summed over every circuit and both directions. */
function total(rows: readonly CircuitSummary[], pick: (d: TcpDirectionSummary) => number): number {
  return rows.reduce((n, c) => n + pick(c.tcpToServer) + pick(c.tcpToClient), 0);
}

/** tshark's names for our counts, summed over the capture. */
function asTshark(rows: readonly CircuitSummary[]) {
  return {
    retransmission: total(rows, (d) => d.retransmissions),
    lost_segment: total(rows, (d) => d.holes),
    zero_window: total(rows, (d) => d.zeroWindows),
    window_full: total(rows, (d) => d.windowFull),
  };
}

// Every TCP packet of these captures is CA (port 5064) and in a circuit the dissector tracks (each begins with
// its SYN), and our rules are Wireshark's: so the counts are tshark 4.0's exactly, not merely close. (Checked
// frame by frame while writing them: `tshark -Y tcp.analysis.retransmission` and the others give the same frames.)
describe.skipIf(!HAVE_SHARED)('TCP analysis of the bad-day captures against tshark 4.0 (NAME.txt)', () => {
  it('twopoint_lossy.client: the loss TCP recovered, 149 retransmissions and 144 segments after a hole', async () => {
    const rows = await circuitsOf('twopoint_lossy.client.pcap');
    expect(asTshark(rows)).toEqual({
      retransmission: fact('twopoint_lossy', /client capture: retransmissions (\d+)/),
      lost_segment: fact('twopoint_lossy', /client capture: .*\(lost_segment\) (\d+)/),
      zero_window: fact('twopoint_lossy', /client capture: .*zero windows (\d+)/),
      window_full: 0, // not in the .txt: `tshark -Y tcp.analysis.window_full` finds none
    });
    // The segments the router dropped on the way to the client left holes the server's retransmissions filled:
    // each hole was closed by one segment, a retransmission (filled late) or, within the handshake's round trip
    // of the highest segment, an out-of-order one; none was left a capture gap. The holes are at most the
    // 148 data segments the independent matcher found lost between the two points (a lost last segment leaves none).
    const down = (pick: (d: TcpDirectionSummary) => number) => rows.reduce((n, c) => n + pick(c.tcpToClient), 0);
    const holes = down((d) => d.holes);
    expect(down((d) => d.holesFilledLate) + down((d) => d.outOfOrder) + down((d) => d.gaps)).toBe(holes);
    expect(holes).toBeLessThanOrEqual(fact('twopoint_lossy', /server -> client:[\s\S]*?lost between the points: (\d+) TCP data segments/));
    expect(rows.reduce((n, c) => n + c.gaps, 0)).toBe(0);
  });

  it('twopoint_lossy.server: retransmissions of bytes the capture saw leave the IOC; one hole toward it', async () => {
    const rows = await circuitsOf('twopoint_lossy.server.pcap');
    expect(asTshark(rows)).toEqual({
      retransmission: fact('twopoint_lossy', /server capture: retransmissions (\d+)/),
      lost_segment: fact('twopoint_lossy', /server capture: .*lost_segment (\d+)/),
      zero_window: fact('twopoint_lossy', /server capture: .*zero windows (\d+)/),
      window_full: 0, // as above
    });
    // At the IOC every segment it sent was captured before the router dropped it: nothing to fill late that way;
    // toward it, at most the segments lost between the points.
    expect(rows.reduce((n, c) => n + c.tcpToClient.holesFilledLate, 0)).toBe(0);
    expect(rows.reduce((n, c) => n + c.tcpToServer.holesFilledLate, 0)).toBeLessThanOrEqual(
      fact('twopoint_lossy', /client -> server:[\s\S]*?lost between the points: (\d+) TCP data segments/),
    );
  });

  for (const side of ['client', 'server'] as const) {
    it(`flaky_connect.${side}: retransmitted SYNs, SYN-ACKs and data of 40 short connections`, async () => {
      const rows = await circuitsOf(`flaky_connect.${side}.pcap`);
      const counted = (name: string) => fact('flaky_connect', new RegExp(`${side} capture: .*tcp\\.analysis\\.${name}[^:]*: (\\d+)`));
      expect(asTshark(rows)).toEqual({
        retransmission: counted('retransmission'),
        lost_segment: counted('lost_segment'),
        zero_window: 0, // not in the .txt: `tshark -Y tcp.analysis.zero_window` finds none
        window_full: counted('window_full'),
      });
    });
  }

  for (const side of ['client', 'server'] as const) {
    it(`slow_consumer.${side}: 8 zero windows, 2 windows full, 6 retransmissions`, async () => {
      const rows = await circuitsOf(`slow_consumer.${side}.pcap`);
      expect(asTshark(rows)).toEqual({
        retransmission: fact('slow_consumer', /tcp\.analysis\.retransmission: (\d+)/),
        lost_segment: fact('slow_consumer', /tcp\.analysis\.lost_segment[^:]*: (\d+)/),
        zero_window: fact('slow_consumer', /tcp\.analysis\.zero_window: (\d+)/),
        window_full: fact('slow_consumer', /tcp\.analysis\.window_full: (\d+)/),
      });
      // the client advertised them all (its receive buffer was full), the IOC sent the segments that filled it
      expect(rows.map((c) => [c.tcpToServer.zeroWindows, c.tcpToClient.windowFull])).toEqual([[8, 2]]);
    });
  }

  it('slow_consumer.client: the stall from frame 2271 to the window update in frame 2310, 38.31 s, probed by the IOC', async () => {
    const [c] = await circuitsOf('slow_consumer.client.pcap');
    const zeroWindowFrames = [2271, 2273, 2277, 2281, 2286, 2291, 2303, 2341]; // slow_consumer.txt, tcp.analysis.zero_window
    const first = await firstPacketTime('slow_consumer.client.pcap');
    expect(c!.stallCount).toBe(2);
    const [stall, brief] = c!.stalls;
    expect([stall!.side, stall!.startFrame, stall!.endFrame]).toEqual(['client', 2271, 2310]);
    expect(stall!.seconds.toFixed(2)).toBe('38.31');
    // "from frame 2271 (10.276 s after the capture's first frame) until its window update in frame 2310 (48.590 s)"
    expect([(stall!.startTime - first).toFixed(3), (stall!.endTime! - first).toFixed(3)]).toEqual(['10.276', '48.590']);
    expect(stall!.advertisements).toBe(zeroWindowFrames.filter((f) => f >= 2271 && f < 2310).length);
    // the IOC's probes: keep-alives with growing intervals (`tshark -Y tcp.analysis.keep_alive`: 7 frames, 2272-2302)
    expect([stall!.probes, c!.tcpToClient.zeroWindowProbes]).toEqual([7, 7]);
    // "One more zero-window ACK in frame 2341 was reopened by frame 2342 at once."
    expect([brief!.side, brief!.startFrame, brief!.endFrame, brief!.advertisements, brief!.probes]).toEqual(['client', 2341, 2342, 1, 0]);
    expect(brief!.seconds).toBeLessThan(0.001);
  });
});

async function firstPacketTime(file: string): Promise<number> {
  const r = await runDissection(join(SCENARIOS, file), {}, () => {});
  return r.stats.firstTime;
}

// ---- through the dissector ---------------------------------------------------------

describe('TCP analysis through the dissector', () => {
  it('reads the window scale from the SYN options, and reports the stall and the resend on the circuit', async () => {
    const run = async (file: Buffer) => {
      const a = new CircuitAnalysis();
      const result = await runDissection(file, a.selection(), (ev) => a.event(ev), { listener: a });
      return { c: a.finish()[0]!, result };
    };
    const { c, result } = await run(stallCapture(true));
    expect([c.tcpToClient.windowFull, c.tcpToClient.zeroWindowProbes, c.tcpToServer.zeroWindows]).toEqual([1, 1, 2]);
    expect(c.stalls.map((s) => [s.side, s.startFrame, s.endFrame, s.advertisements, s.probes])).toEqual([['client', 6, 9, 2, 1]]);
    expect(c.stalls[0]!.seconds).toBeCloseTo(2, 6);
    expect(c.stalls[0]!.startTime).toBeCloseTo(EPOCH + 1.3, 6);
    // SYN, 2 ECHOs (client); SYN-ACK, the 160 bytes (server)
    expect([c.retransmissions, c.tcpToServer.retransmissions, c.tcpToServer.firstRetransmissionFrame, c.tcpToServer.segments, c.tcpToClient.segments]).toEqual([1, 1, 10, 3, 2]);
    expect([result.stats.retransmissions, result.stats.outOfOrder]).toEqual([1, 0]);
    // Without the options the SYNs say the windows are not scaled: 10 bytes, which the 160 overrun (not "full")
    const plain = (await run(stallCapture(false))).c;
    expect([plain.tcpToClient.windowFull, plain.stallCount, plain.retransmissions]).toEqual([0, 1, 1]);
  });

  it('is skipped when the consumer says it reads none of it (tcpAnalysis: false), with the same messages', async () => {
    const types = (r: string[]) => (ev: { type: string }) => r.push(ev.type);
    const on: string[] = [];
    const off: string[] = [];
    const a = new CircuitAnalysis();
    const result = await runDissection(stallCapture(), { ...a.selection(), tcpAnalysis: false, wants: undefined }, types(off), { listener: a });
    await runDissection(stallCapture(), {}, types(on));
    expect(off).toEqual(on);
    expect(on).toHaveLength(1 + 10); // the client's ECHO, the server's ten; the ECHO sent again is not delivered twice
    const [c] = a.finish();
    expect([result.stats.retransmissions, c!.retransmissions, c!.stallCount, c!.tcpToServer.segments, c!.tcpToClient.zeroWindowProbes]).toEqual([0, 0, 0, 0, 0]);
  });
});
