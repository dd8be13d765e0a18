// Limits that hold under attack: captures built to exhaust memory (a header
// claiming 4 GB, messages that never complete, hundreds of thousands of flows,
// requests nobody answers, data held behind a hole that is never filled). Each
// run keeps its live memory (heap + buffers, sampled after a forced GC while the
// capture is read) under a bound far below what the attack asks for, and counts
// what it gave up in the stats and in the end-of-run summary.

import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { runDissection } from '../../src/dissect/run.js';
import type { CaEvent } from '../../src/dissect/event.js';
import type { DissectOptions } from '../../src/dissect/options.js';
import { skippedSummary } from '../../src/dissect/stats.js';
import { IP_PROTO_TCP, TCP, ipv4Packet, tcpSegment } from '../../src/synth/frames.js';
import * as enc from '../../src/synth/ca-encode.js';
import { CA_PORT, CLIENT_HOST, Clock, SERVER_HOST, plainPlan, tcpFlowPackets, udpPacket, writeCapture, type IpPacket, type SegmentPlan, type TcpFlowPlan } from '../properties/arbitraries.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;
/** a guard against a hang, not a measurement: each attack takes a few seconds at most */
const GUARD = 120_000;

function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Decodes `file` fed in 1 MiB chunks, sampling live memory every other chunk.
 * Returns the largest growth over the memory in use before the run.
 */
async function attack(file: Buffer, options: DissectOptions) {
  const chunks: Buffer[] = [];
  for (let o = 0; o < file.length; o += MiB) chunks.push(file.subarray(o, o + MiB));
  const types = new Map<string, number>();
  const pvs = new Map<string, string[]>(); // PV names of the rare replies
  let chunk = 0;
  const baseline = liveBytes();
  let peak = 0;
  const onEvent = (ev: CaEvent) => {
    types.set(ev.type, (types.get(ev.type) ?? 0) + 1);
    if (ev.type === 'SearchResponse') pvs.set(ev.type, [...(pvs.get(ev.type) ?? []), ev.pv ?? '-']);
  };
  const afterChunk = () => {
    if (++chunk % 2 === 0) peak = Math.max(peak, liveBytes() - baseline);
  };
  const result = await runDissection(Readable.from(chunks), { env: {}, ...options }, onEvent, { afterChunk });
  peak = Math.max(peak, liveBytes() - baseline);
  return { ...result, types, pvs, growth: peak, summary: skippedSummary(result.stats) };
}

const repeat = (msg: Buffer, n: number) => Buffer.concat(new Array<Buffer>(n).fill(msg));
/** a put of 4,080 DBR_CHARs: 4 KiB on the wire */
const write4k = enc.writeRequest({ data_type: 4, data_count: 4080, sid: 1, cid: 1, payload: Buffer.alloc(4080, 7) });
const clientAt = (i: number) => ({ client: `10.${1 + ((i >> 16) & 0xff)}.${(i >> 8) & 0xff}.${i & 0xff}`, server: SERVER_HOST });
const plan = (clientPort: number, extra: Partial<SegmentPlan> = {}): TcpFlowPlan => {
  const p = plainPlan(clientPort);
  return { ...p, client: { ...p.client, ...extra } };
};

describe('limits that hold under attack', () => {
  it('a header claiming a 4 GB payload: skipped as oversize, nothing buffered, the other circuits decode', async () => {
    const clock = new Clock(1_700_000_000);
    // WRITE of 0xFFFFFFF8 DBR_CHARs: a plausible extended header, then 48 MiB that never add up to it.
    const liar = enc.caHeader(4, 0xfffffff8, 4, 0xfffffff8, 1, 1);
    const flood = Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), liar, Buffer.alloc(48 * MiB, 0x41)]);
    const honest = Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), repeat(enc.echoRequest(), 100)]);
    const file = writeCapture([
      udpPacket({ ip: CLIENT_HOST, port: 40000 }, { ip: SERVER_HOST, port: CA_PORT }, liar, clock.next()),
      ...tcpFlowPackets(flood, Buffer.alloc(0), plainPlan(40001), clock),
      ...tcpFlowPackets(honest, repeat(enc.echoResponse(), 100), plainPlan(40002), clock),
    ]);
    const r = await attack(file, {});
    expect(r.growth).toBeLessThan(8 * MiB);
    expect(r.stats.malformed.oversize).toEqual({ count: 1, bytes: 24 + 0xfffffff8 });
    expect(r.stats.malformed.overrun.count).toBe(1); // the datagram: it cannot hold 4 GB
    expect(Object.fromEntries(r.types)).toEqual({ VersionRequest: 2, EchoRequest: 100, EchoResponse: 100 });
    expect(r.summary).toMatch(/1 message over the size limit \(4294967312 bytes\)/);
  }, GUARD);

  it('messages that never complete, on 64 circuits: held in all at most maxMessageBytesTotal', async () => {
    const clock = new Clock(1_700_000_000);
    // A 1 MiB DBR_DOUBLE reply per circuit, all but its last 1000 bytes: 64 MiB in all if each were kept.
    const reply = enc.readNotifyResponse({ data_type: 6, data_count: 131072, status: 1, ioid: 1, payload: Buffer.alloc(131072 * 8) });
    const partial = reply.subarray(0, reply.length - 1000);
    const file = writeCapture(
      (function* () {
        for (let i = 0; i < 64; i++) yield* tcpFlowPackets(Buffer.alloc(0), partial, plainPlan(41000 + i), clock, clientAt(i));
      })(),
    );
    const r = await attack(file, { maxMessageBytes: 2 * MiB, maxMessageBytesTotal: 8 * MiB });
    expect(r.growth).toBeLessThan(16 * MiB);
    const m = r.stats.malformed;
    expect(m.oversize.count + m.incomplete.count).toBe(64); // each message is given up one way or the other
    expect(m.oversize.count).toBeGreaterThanOrEqual(56); // at most 8 fit under the total at once
    expect(r.summary).toMatch(/messages? over the size limit/);
    expect(r.summary).toMatch(/incomplete messages? at a gap or the end/);
  }, GUARD);

  it('200,000 flows with maxCircuits 2,000: old circuits are evicted and counted, an active one is kept', async () => {
    const clock = new Clock(1_700_000_000);
    const retimed = new Clock(1_700_000_000);
    // One real circuit sends an echo every 1,000 flows; it must outlive the flood.
    const echoes = 200;
    const live = tcpFlowPackets(repeat(enc.echoRequest(), echoes), Buffer.alloc(0), plan(50000, { cuts: Array.from({ length: echoes }, (_, i) => 16 * i) }), clock, { client: '10.0.0.3', server: SERVER_HOST });
    const [handshake, data, close] = [live.slice(0, 3), live.slice(3, 3 + echoes), live.slice(3 + echoes)];
    const syn = (i: number): IpPacket => {
      const src = { ip: 0x0a010000 + i, port: 1024 + (i % 60000) };
      const dst = { ip: SERVER_HOST, port: CA_PORT };
      return { ...retimed.next(), ip: ipv4Packet(src.ip, dst.ip, IP_PROTO_TCP, tcpSegment(src, dst, i, 0, TCP.SYN, Buffer.alloc(0))) };
    };
    const file = writeCapture(
      (function* () {
        for (const p of handshake) yield { ...p, ...retimed.next() };
        for (let i = 0; i < 200_000; i++) {
          yield syn(i);
          if (i % 1000 === 999) yield { ...data[(i - 999) / 1000]!, ...retimed.next() };
        }
        for (const p of close) yield { ...p, ...retimed.next() };
      })(),
    );
    const r = await attack(file, { maxCircuits: 2000 });
    expect(r.growth).toBeLessThan(32 * MiB);
    expect(r.stats.circuits).toBe(200_001);
    expect(r.stats.circuitsEvicted).toBe(200_001 - 2000);
    expect(r.types.get('EchoRequest')).toBe(echoes);
    expect(r.summary).toMatch(/198001 circuits dropped \(table full\)/);
  }, GUARD);

  it('30,000 connections closed and their 4-tuples reused: each old circuit retired once, no queue scans', async () => {
    const clock = new Clock(1_700_000_000);
    const conn = (i: number, isn: number, open: boolean): IpPacket[] => {
      const c = { ip: 0x0a010000 + i, port: 40000 };
      const seg = (from: 'c' | 's', flags: number, seq: number, ack: number) => {
        const [src, dst] = from === 'c' ? [c, server] : [server, c];
        return { ...clock.next(), ip: ipv4Packet(src.ip, dst.ip, IP_PROTO_TCP, tcpSegment(src, dst, seq, ack, flags, Buffer.alloc(0))) };
      };
      if (open) return [seg('c', TCP.SYN, isn, 0)];
      return [seg('c', TCP.SYN, isn, 0), seg('s', TCP.SYN | TCP.ACK, 7, isn + 1), seg('c', TCP.FIN | TCP.ACK, isn + 1, 8), seg('s', TCP.FIN | TCP.ACK, 8, isn + 2)];
    };
    const server = { ip: SERVER_HOST, port: CA_PORT };
    const file = writeCapture(
      (function* () {
        for (let i = 0; i < 30_000; i++) yield* conn(i, 100, false);
        for (let i = 0; i < 30_000; i++) yield* conn(i, 9000, true);
      })(),
    );
    const r = await attack(file, {});
    // A circuit without data costs about 0.85 KiB (README; 2.2 KiB when every circuit got its framers
    // and id tables at once); closed ones linger until retired.
    expect(r.growth).toBeLessThan(60_000 * 1.25 * 1024);
    expect(r.stats.circuits).toBe(60_000);
    expect(r.stats.circuitsEvicted).toBe(0);
  }, GUARD);

  it('200,000 unanswered reads and 50,000 channels on one circuit: id tables stay at maxIdsPerCircuit', async () => {
    const clock = new Clock(1_700_000_000);
    const reads = Buffer.concat(Array.from({ length: 200_000 }, (_, i) => enc.readNotifyRequest({ data_type: 6, data_count: 1, sid: 1, ioid: i })));
    const name = 'X'.repeat(400);
    const creates = Buffer.concat(Array.from({ length: 50_000 }, (_, i) => enc.createChanRequest({ name: `${name}${i}`, cid: i, version: 13 })));
    const file = writeCapture(tcpFlowPackets(Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), creates, reads]), Buffer.alloc(0), plainPlan(42000), clock));
    const r = await attack(file, { maxIdsPerCircuit: 1000 });
    expect(r.growth).toBeLessThan(16 * MiB);
    expect(r.types.get('ReadNotifyRequest')).toBe(200_000);
    expect(r.stats.idsEvicted).toBe(200_000 - 1000 + (50_000 - 1000));
    expect(r.summary).toMatch(/248000 channel\/request ids forgotten \(table full\)/);
  }, GUARD);

  it('100,000 unanswered searches: the search table stays at maxSearchIds, the excess is counted, recent names are kept', async () => {
    const clock = new Clock(1_700_000_000);
    const server = { ip: SERVER_HOST, port: CA_PORT };
    const client = (i: number) => ({ ip: clientAt(i % 50).client, port: 43000 });
    const file = writeCapture(
      (function* () {
        for (let i = 0; i < 100_000; i++) yield udpPacket(client(i), server, enc.searchRequest({ name: `PV:${i}`, cid: i, version: 13 }), clock.next());
        // The last client answered at last: its reply must still find the name.
        yield udpPacket(server, client(99_999), enc.searchResponse({ port: CA_PORT, cid: 99_999, version: 13 }), clock.next());
      })(),
    );
    const r = await attack(file, { maxSearchIds: 1000 });
    expect(r.growth).toBeLessThan(16 * MiB);
    expect(r.types.get('SearchRequest')).toBe(100_000);
    expect(r.stats.idsEvicted).toBeGreaterThanOrEqual(100_000 - 1000);
    expect(r.stats.idsEvicted).toBeLessThanOrEqual(100_000);
    expect(r.pvs.get('SearchResponse')).toEqual(['PV:99999']);
    expect(r.summary).toMatch(/channel\/request ids forgotten \(table full\)/);
  }, GUARD);

  it('32 MiB behind a hole that is never filled: held at most maxHeldPerStream, then given up as a gap', async () => {
    const clock = new Clock(1_700_000_000);
    const n = 8192; // 4 KiB writes: 32 MiB
    const stream = Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), repeat(write4k, n)]);
    const file = writeCapture(tcpFlowPackets(stream, Buffer.alloc(0), plan(44000, { missing: [16, 16 + 10 * write4k.length] }), clock));
    const r = await attack(file, { maxHeldPerStream: 1 * MiB });
    expect(r.growth).toBeLessThan(8 * MiB);
    expect(r.stats.gaps).toBe(1);
    expect(r.stats.gapBytes).toBe(10 * write4k.length);
    expect(r.types.get('WriteRequest')).toBeGreaterThanOrEqual(n - 10 - 2); // decoding resumes after the hole
    expect(r.summary).toMatch(/1 capture gap in TCP streams \(40960 bytes lost\)/);
  }, GUARD);

  it('one-byte segments (reversed behind a hole, or one endless message): held by count and cost, not per piece', async () => {
    const clock = new Clock(1_700_000_000);
    const server = { ip: SERVER_HOST, port: CA_PORT };
    const seg = (src: { ip: string; port: number }, seq: number, flags: number, payload: Buffer): IpPacket => ({
      ...clock.next(),
      ip: ipv4Packet(src.ip, server.ip, IP_PROTO_TCP, tcpSegment(src, server, seq, 0, flags, payload)),
    });
    const [a, b] = [{ ip: CLIENT_HOST, port: 46000 }, { ip: CLIENT_HOST, port: 46001 }];
    const n = 150_000;
    const echoes = repeat(enc.echoRequest(), n / 10);
    const endless = enc.writeRequest({ data_type: 4, data_count: 8 * MiB, sid: 1, cid: 1, payload: Buffer.alloc(8 * MiB) });
    const file = writeCapture(
      (function* () {
        yield seg(a, 99, TCP.SYN, Buffer.alloc(0));
        yield seg(b, 99, TCP.SYN, Buffer.alloc(0));
        for (let i = n - 1; i >= 1; i--) yield seg(a, 100 + i, TCP.PSH, echoes.subarray(i, i + 1)); // byte 0 never comes
        for (let i = 0; i < n; i++) yield seg(b, 100 + i, TCP.PSH, endless.subarray(i, i + 1));
      })(),
    );
    const r = await attack(file, { maxMessageBytesTotal: 1 * MiB });
    expect(r.growth).toBeLessThan(8 * MiB); // counted by bytes alone, 300,000 tiny copies would take about 50 MiB
    expect(r.stats.gaps).toBe(1); // a: the hole given up once 8,192 segments are held
    // b: its pieces are copied into one assembly buffer (no object per piece), so 150,000 one-byte
    // segments hold 150,000 bytes and stay under the 1 MiB budget: reported incomplete at the end
    expect(r.stats.malformed.oversize.count).toBe(0);
    expect(r.stats.malformed.incomplete).toEqual({ count: 1, bytes: 150_000 });
  }, GUARD);

  it('64 circuits each holding 512 KiB behind a hole: all held data stays under maxHeldTotal', async () => {
    const clock = new Clock(1_700_000_000);
    const stream = Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), repeat(write4k, 128)]);
    const file = writeCapture(
      (function* () {
        for (let i = 0; i < 64; i++) yield* tcpFlowPackets(stream, Buffer.alloc(0), plan(45000 + i, { missing: [16, 16 + write4k.length] }), clock, clientAt(i));
      })(),
    );
    const r = await attack(file, { maxHeldPerStream: 8 * MiB, maxHeldTotal: 4 * MiB });
    expect(r.growth).toBeLessThan(12 * MiB);
    expect(r.stats.gaps).toBe(64); // each hole given up: over the total while the circuit lived, or at its end
    expect(r.types.get('WriteRequest')).toBeGreaterThanOrEqual(64 * (128 - 2));
    expect(r.summary).toMatch(/64 capture gaps in TCP streams/);
  }, GUARD);
});
