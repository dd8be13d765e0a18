import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TCP } from '../../src/synth/frames.js';
import { TcpSession, type SegmentFault, type TcpSessionOptions } from '../../src/synth/tcp-session.js';

interface Seen {
  sec: number;
  nsec: number;
  from: 'client' | 'server';
  seq: number;
  ack: number;
  flags: number;
  payload: Buffer;
  ipId: number;
  ipFlags: number;
  ipProtocol: number;
}

const CLIENT = { ip: '127.0.0.1', port: 41398 };
const SERVER = { ip: '127.0.0.1', port: 5064 };

/** A session whose packets are decoded (IPv4 + TCP header fields) into `seen`. */
function record(opts: Partial<TcpSessionOptions> = {}): { session: TcpSession; seen: Seen[]; bytes: Buffer[] } {
  const seen: Seen[] = [];
  const bytes: Buffer[] = [];
  const session = new TcpSession({ client: CLIENT, server: SERVER, seed: 42, ...opts }, (sec, nsec, ip) => {
    const packet = Buffer.from(ip);
    bytes.push(packet);
    const tcp = packet.subarray(20);
    seen.push({
      sec,
      nsec,
      from: tcp.readUInt16BE(0) === CLIENT.port ? 'client' : 'server',
      seq: tcp.readUInt32BE(4),
      ack: tcp.readUInt32BE(8),
      flags: tcp[13]!,
      payload: tcp.subarray((tcp[12]! >> 4) * 4),
      ipId: packet.readUInt16BE(4),
      ipFlags: packet.readUInt16BE(6),
      ipProtocol: packet[9]!,
    });
  });
  return { session, seen, bytes };
}

const data = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));
const PSH_ACK = TCP.PSH | TCP.ACK;
/** [from, seq relative to base, flags, payload length] of each packet */
const shape = (seen: Seen[], clientBase: number) =>
  seen.map((p) => [p.from, p.from === 'client' ? (p.seq - clientBase) >>> 0 : (p.ack - clientBase) >>> 0, p.flags, p.payload.length]);

describe('TcpSession handshake', () => {
  it('sends SYN, SYN-ACK, ACK with seeded ISNs, 10 µs apart', () => {
    const { session, seen } = record();
    session.handshake(100.5);
    const [syn, synAck, ack] = seen as [Seen, Seen, Seen];
    expect([syn.from, syn.flags, syn.ack, syn.payload.length]).toEqual(['client', TCP.SYN, 0, 0]);
    expect([synAck.from, synAck.flags, synAck.ack]).toEqual(['server', TCP.SYN | TCP.ACK, (syn.seq + 1) >>> 0]);
    expect([ack.from, ack.flags, ack.seq, ack.ack]).toEqual(['client', TCP.ACK, (syn.seq + 1) >>> 0, (synAck.seq + 1) >>> 0]);
    expect(seen.map((p) => [p.sec, p.nsec])).toEqual([[100, 500000000], [100, 500010000], [100, 500020000]]);
    expect(seen.map((p) => [p.ipProtocol, p.ipFlags])).toEqual([[6, 0x4000], [6, 0x4000], [6, 0x4000]]); // DF, as Linux sends TCP
    expect(syn.seq).not.toBe(synAck.seq);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = record({ seed: 7 });
    const b = record({ seed: 7 });
    const c = record({ seed: 8 });
    for (const r of [a, b, c]) {
      r.session.handshake(1);
      r.session.send('client', 2, data(100));
    }
    expect(Buffer.concat(a.bytes).equals(Buffer.concat(b.bytes))).toBe(true);
    expect(a.seen[0]!.seq).not.toBe(c.seen[0]!.seq);
  });

  it('refuses a handshake after data', () => {
    const { session } = record();
    session.send('client', 1, data(8));
    expect(() => session.handshake(2)).toThrow(/handshake/);
  });
});

describe('TcpSession send', () => {
  it('cuts data at the MSS, advances seq, and the receiver ACKs every second segment and the last', () => {
    const { session, seen } = record({ isn: { client: 1000, server: 5000 } });
    session.send('client', 1, data(4000));
    expect(seen.map((p) => [p.from, p.seq, p.ack, p.flags, p.payload.length])).toEqual([
      ['client', 1001, 5001, PSH_ACK, 1448],
      ['client', 2449, 5001, PSH_ACK, 1448],
      ['server', 5001, 3897, TCP.ACK, 0],
      ['client', 3897, 5001, PSH_ACK, 1104],
      ['server', 5001, 5001, TCP.ACK, 0],
    ]);
    expect(Buffer.concat(seen.map((p) => p.payload)).equals(data(4000))).toBe(true);

    seen.length = 0;
    session.send('server', 2, data(16), { mss: 10 });
    expect(seen.map((p) => [p.from, p.seq, p.ack, p.flags, p.payload.length])).toEqual([
      ['server', 5001, 5001, PSH_ACK, 10],
      ['server', 5011, 5001, PSH_ACK, 6],
      ['client', 5001, 5017, TCP.ACK, 0],
    ]);
  });

  it('wraps sequence numbers mod 2^32', () => {
    const { session, seen } = record({ isn: { client: 0xfffffff0 } });
    session.send('client', 1, data(40), { mss: 16 });
    expect(seen.filter((p) => p.from === 'client').map((p) => p.seq)).toEqual([0xfffffff1, 0x00000001, 0x00000011]);
    expect(seen.at(-1)!.ack).toBe(0x00000019);
  });

  it('keeps segments within the MSS, contiguous, and carrying exactly the data (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 1, max: 3000 }), (length, mss) => {
        const { session, seen } = record({ isn: { client: 0xffff0000 } });
        session.send('client', 1, data(length), { mss });
        const segments = seen.filter((p) => p.from === 'client');
        let expectedSeq = 0xffff0001;
        const violations: string[] = [];
        for (const s of segments) {
          if (s.seq !== expectedSeq) violations.push(`seq ${s.seq} != ${expectedSeq}`);
          if (s.payload.length > mss) violations.push(`length ${s.payload.length} > ${mss}`);
          expectedSeq = (expectedSeq + s.payload.length) >>> 0;
        }
        expect(violations).toEqual([]);
        expect(Buffer.concat(segments.map((s) => s.payload)).equals(data(length))).toBe(true);
        expect(seen.at(-1)!.ack).toBe(expectedSeq);
      }),
      { numRuns: 60 },
    );
  });

  it('adds epochSec to relative times, keeping nanoseconds exact', () => {
    const { session, seen } = record({ epochSec: 1795424060, packetSpacingNs: 1 });
    session.send('client', 0.600000001, data(10));
    expect(seen.map((p) => [p.sec, p.nsec])).toEqual([[1795424060, 600000001], [1795424060, 600000002]]);
  });

  it('spaces packets 10 µs apart, carrying into the next second', () => {
    const { session, seen } = record();
    session.send('client', 5.99999, data(10));
    expect(seen.map((p) => [p.sec, p.nsec])).toEqual([[5, 999990000], [6, 0]]);
  });
});

describe('TcpSession fault plans', () => {
  const BASE = 1001; // client ISN 1000 + SYN
  const send = (plan: SegmentFault[]) => {
    const { session, seen } = record({ isn: { client: 1000, server: 5000 } });
    session.sendSegments('client', 1, data(4000), plan);
    return seen;
  };
  const rel = (seen: Seen[]) => shape(seen, BASE);

  it('retransmit: the same segment twice in a row, same seq and bytes', () => {
    const seen = send([{ kind: 'retransmit', segment: 1 }]);
    expect(rel(seen)).toEqual([
      ['client', 0, PSH_ACK, 1448],
      ['client', 1448, PSH_ACK, 1448],
      ['server', 2896, TCP.ACK, 0],
      ['client', 1448, PSH_ACK, 1448],
      ['client', 2896, PSH_ACK, 1104],
      ['server', 4000, TCP.ACK, 0],
    ]);
    expect(seen[3]!.payload.equals(seen[1]!.payload)).toBe(true);
  });

  it('reorder: two adjacent segments swapped; the ACK in between stays at the gap', () => {
    expect(rel(send([{ kind: 'reorder', segment: 1 }]))).toEqual([
      ['client', 0, PSH_ACK, 1448],
      ['client', 2896, PSH_ACK, 1104],
      ['server', 1448, TCP.ACK, 0],
      ['client', 1448, PSH_ACK, 1448],
      ['server', 4000, TCP.ACK, 0],
    ]);
  });

  it('drop: the segment is never written, seq skips it, ACKs cover it', () => {
    const seen = send([{ kind: 'drop', segment: 1 }]);
    expect(rel(seen)).toEqual([
      ['client', 0, PSH_ACK, 1448],
      ['server', 2896, TCP.ACK, 0],
      ['client', 2896, PSH_ACK, 1104],
      ['server', 4000, TCP.ACK, 0],
    ]);
  });

  it('drop + retransmit: only the retransmission is captured', () => {
    // the lost original still counts as a transmission for the receiver's delayed ACK
    expect(rel(send([{ kind: 'drop', segment: 0 }, { kind: 'retransmit', segment: 0 }]))).toEqual([
      ['client', 0, PSH_ACK, 1448],
      ['server', 1448, TCP.ACK, 0],
      ['client', 1448, PSH_ACK, 1448],
      ['client', 2896, PSH_ACK, 1104],
      ['server', 4000, TCP.ACK, 0],
    ]);
  });

  it('overlap: the next segment restarts mid-way through the previous one and runs into new data', () => {
    const seen = send([{ kind: 'overlap', segment: 0 }]);
    expect(rel(seen)).toEqual([
      ['client', 0, PSH_ACK, 1448],
      ['client', 724, PSH_ACK, 2172],
      ['server', 2896, TCP.ACK, 0],
      ['client', 2896, PSH_ACK, 1104],
      ['server', 4000, TCP.ACK, 0],
    ]);
    expect(seen[1]!.payload.equals(data(4000).subarray(724, 2896))).toBe(true);
  });

  it('refuses faults on segments the send does not have', () => {
    expect(() => send([{ kind: 'reorder', segment: 2 }])).toThrow(RangeError);
    expect(() => send([{ kind: 'drop', segment: 3 }])).toThrow(RangeError);
  });
});

describe('TcpSession close and reset', () => {
  it('close: FIN|ACK, FIN|ACK back, final ACK, each FIN taking one sequence number', () => {
    const { session, seen } = record({ isn: { client: 1000, server: 5000 } });
    session.close('server', 3);
    expect(seen.map((p) => [p.from, p.seq, p.ack, p.flags])).toEqual([
      ['server', 5001, 1001, TCP.FIN | TCP.ACK],
      ['client', 1001, 5002, TCP.FIN | TCP.ACK],
      ['server', 5002, 1002, TCP.ACK],
    ]);
    expect(() => session.send('client', 4, data(8))).toThrow(/closed/);
  });

  it('reset: one RST|ACK at the current sequence numbers', () => {
    const { session, seen } = record({ isn: { client: 1000, server: 5000 } });
    session.send('client', 1, data(8));
    session.reset('client', 2);
    expect(seen.at(-1)).toMatchObject({ from: 'client', seq: 1009, ack: 5001, flags: TCP.RST | TCP.ACK });
  });

  it('numbers IP ids per side consecutively', () => {
    const { session, seen } = record();
    session.handshake(1);
    const clientIds = seen.filter((p) => p.from === 'client').map((p) => p.ipId);
    expect(clientIds[1]).toBe((clientIds[0]! + 1) & 0xffff);
  });
});
