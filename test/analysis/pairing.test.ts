import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Pairer, PAIR_KINDS, type PairKind, type PairRecord, type PairerOptions, type Unanswered } from '../../src/analysis/pairing.js';
import type { CaptureSource } from '../../src/capture/source.js';
import { runDissection } from '../../src/dissect/run.js';
import * as ca from '../../src/synth/ca-encode.js';
import { IP_PROTO_TCP, TCP, ipv4Packet, tcpSegment } from '../../src/synth/frames.js';
import { CaptureBuilder, EPOCH } from '../helpers/build.js';
import { CAPUT_WRITE_OUTCOMES } from '../helpers/shared.js';
import { HOST_X, SERVER_A, SERVER_B, dbrDouble, searchDatagram, twoServerScenario } from './ca-scenario.js';

const corpus = new URL('../../../shared/corpus/real/', import.meta.url);
const real = (name: string): string => new URL(name, corpus).pathname;

interface Paired {
  pairer: Pairer;
  records: PairRecord[];
  unanswered: Unanswered[];
  /** both callbacks in the order they came: 'pair KIND' / 'unanswered KIND PV' */
  log: string[];
}

async function pair(source: CaptureSource, opts: PairerOptions = {}): Promise<Paired> {
  const records: PairRecord[] = [];
  const unanswered: Unanswered[] = [];
  const log: string[] = [];
  const pairer = new Pairer(
    opts,
    (r) => records.push(r) && log.push(`pair ${r.kind}`),
    (u) => unanswered.push(u) && log.push(`unanswered ${u.kind} ${u.pv}`),
  );
  await runDissection(source, {}, (ev) => pairer.event(ev), { listener: pairer });
  pairer.finish();
  return { pairer, records, unanswered, log };
}

const perKind = (values: Partial<Record<PairKind, number>>): Record<PairKind, number> => ({
  ...Object.fromEntries(PAIR_KINDS.map((k) => [k, 0])),
  ...values,
}) as Record<PairKind, number>;

const of = (records: PairRecord[], kind: PairKind) => records.filter((r) => r.kind === kind);
const A = `${SERVER_A.ip}:${SERVER_A.port}`;
const B = `${SERVER_B.ip}:${SERVER_B.port}`;

describe('Pairer on a capture with injected latencies', async () => {
  const { pairer, records, unanswered } = await pair(twoServerScenario());

  it('pairs every request once and leaves nothing unanswered or orphaned', () => {
    expect(pairer.counts).toEqual({
      pairs: perKind({ search: 12, handshake: 12, create: 12, read: 12, write: 6, subscribe: 6, echo: 6, connect: 12 }),
      unanswered: perKind({}),
      orphanResponses: perKind({}),
      searchConflicts: 0,
    });
    expect(unanswered).toEqual([]);
  });

  it('pairs CreateChan by circuit although every client uses cid 1', () => {
    const creates = of(records, 'create');
    expect(creates.map((r) => [r.pv, r.server, r.client, r.latency])).toEqual(
      [0, 1, 2, 3, 4, 5].flatMap((i) => [
        [`A:pv${i}`, A, `${HOST_X}:${40000 + i}`, 0.002],
        [`B:pv${i}`, B, `10.0.1.2:${41000 + i}`, i % 2 === 0 ? 0.005 : 0.007],
      ]),
    );
    expect(new Set(creates.map((r) => r.circuit)).size).toBe(12);
    expect(creates.every((r) => r.outcome === 'ok' && r.responseFrame > r.requestFrame)).toBe(true);
  });

  it('times requests from the capture times exactly', () => {
    const first = of(records, 'create').find((r) => r.pv === 'A:pv0')!;
    expect(first.requestTime).toBe(EPOCH + 0.1);
    expect(first.responseTime).toBe(EPOCH + 0.102);
    expect(new Set(of(records, 'read').filter((r) => r.server === A).map((r) => r.latency))).toEqual(new Set([0.003]));
    expect(new Set(of(records, 'write').map((r) => r.latency))).toEqual(new Set([0.004]));
    expect(new Set(of(records, 'subscribe').map((r) => r.latency))).toEqual(new Set([0.0015]));
    expect(new Set(of(records, 'echo').map((r) => r.latency))).toEqual(new Set([0.0005]));
    expect(new Set(of(records, 'search').map((r) => r.latency))).toEqual(new Set([0.001]));
  });

  it('names the outcome: ECA status, an ERROR for the ioid, the first EventAdd update only', () => {
    expect(of(records, 'read').map((r) => `${r.pv} ${r.outcome} ${r.latency}`).sort()).toEqual([
      ...[0, 1, 2, 3, 4, 5].map((i) => `A:pv${i} ECA_NORMAL 0.003`),
      ...[0, 1, 2, 3, 4, 5].map((i) => `B:pv${i} ECA_GETFAIL 0.006`),
    ]);
    expect(of(records, 'write').map((r) => r.outcome)).toEqual(Array(6).fill('ECA_PUTFAIL'));
    expect(of(records, 'subscribe').map((r) => [r.pv, r.outcome])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [`A:pv${i}`, 'ECA_NORMAL']));
  });

  it('gives a search the server its reply advertises (the datagram source for 255.255.255.255)', () => {
    expect(of(records, 'search').map((r) => `${r.pv} ${r.client} -> ${r.server}`)).toEqual([
      'A:pv0 10.0.1.1:50000 -> 10.0.0.1:5064',
      'B:pv0 10.0.1.2:51000 -> 10.0.0.2:5064',
      'A:pv1 10.0.1.1:50001 -> 10.0.0.1:5064',
      'B:pv1 10.0.1.2:51001 -> 10.0.0.2:5064',
      'A:pv2 10.0.1.1:50002 -> 10.0.0.1:5064',
      'B:pv2 10.0.1.2:51002 -> 10.0.0.2:5064',
      'A:pv3 10.0.1.1:50003 -> 10.0.0.1:5064',
      'B:pv3 10.0.1.2:51003 -> 10.0.0.2:5064',
      'A:pv4 10.0.1.1:50004 -> 10.0.0.1:5064',
      'B:pv4 10.0.1.2:51004 -> 10.0.0.2:5064',
      'A:pv5 10.0.1.1:50005 -> 10.0.0.1:5064',
      'B:pv5 10.0.1.2:51005 -> 10.0.0.2:5064',
    ]);
    expect(of(records, 'search').every((r) => r.circuit === undefined && r.outcome === 'ok')).toBe(true);
  });

  it('measures time to connect from the first search to the CreateChan reply', () => {
    expect(of(records, 'connect').map((r) => `${r.pv} ${r.latency}`).sort()).toEqual([
      ...[0, 1, 2, 3, 4, 5].map((i) => `A:pv${i} 0.102`),
      ...[0, 1, 2, 3, 4, 5].map((i) => `B:pv${i} ${i % 2 === 0 ? 0.105 : 0.107}`),
    ]);
  });

  it('pairs SYN with SYN-ACK from the circuit, rounded to whole nanoseconds', () => {
    const handshakes = of(records, 'handshake');
    expect(handshakes).toHaveLength(12);
    // TcpSession spaces packets 10 µs apart; TcpCircuit keeps float seconds (~0.24 µs resolution here)
    for (const h of handshakes) expect(h.latency).toBeCloseTo(10e-6, 6);
    expect(handshakes.map((h) => h.responseFrame - h.requestFrame)).toEqual(Array(12).fill(1));
  });
});

describe('Pairer kinds', () => {
  it('pairs only the kinds asked for', async () => {
    const { pairer, records } = await pair(twoServerScenario(), { kinds: new Set<PairKind>(['create', 'echo']) });
    expect(pairer.counts.pairs).toEqual(perKind({ create: 12, echo: 6 }));
    expect(new Set(records.map((r) => r.kind))).toEqual(new Set(['create', 'echo']));
  });

  it('refuses a timeout that is not positive', () => {
    expect(() => new Pairer({ timeout: 0 }, () => {})).toThrow('pairing timeout must be positive, not 0');
  });
});

const client = { ip: HOST_X, port: 40000 };

describe('Pairer: requests without replies', () => {
  it('reports a request outstanding longer than the timeout, and counts its late reply as an orphan', async () => {
    const s = new CaptureBuilder({ precision: 'ns' });
    const c = s.tcp(client, SERVER_A);
    c.handshake(0);
    c.send('client', 1, ca.createChanRequest({ name: 'SLOW', cid: 1, version: 13 }));
    c.send('client', 2, ca.createChanRequest({ name: 'NEVER', cid: 2, version: 13 }));
    c.send('server', 1 + 61, ca.createChanResponse({ data_type: 6, data_count: 1, cid: 1, sid: 1 }));
    c.send('client', 200, ca.echoRequest());
    c.send('server', 200.001, ca.echoResponse());
    const { pairer, records, unanswered, log } = await pair(s.bytes());
    // dropped while the capture runs (memory stays bounded), not at its end
    expect(log).toEqual(['pair handshake', 'unanswered create SLOW', 'unanswered create NEVER', 'pair echo']);
    expect(unanswered.map((u) => [u.kind, u.pv, u.reason, u.requestTime, u.client, u.server])).toEqual([
      ['create', 'SLOW', 'timeout', EPOCH + 1, '10.0.1.1:40000', '10.0.0.1:5064'],
      ['create', 'NEVER', 'timeout', EPOCH + 2, '10.0.1.1:40000', '10.0.0.1:5064'],
    ]);
    // no search for SLOW was captured either: its time to connect has no start
    expect(pairer.counts.orphanResponses).toEqual(perKind({ create: 1, connect: 1 }));
    expect(records.map((r) => r.kind)).toEqual(['handshake', 'echo']);
  });

  it('takes the timeout from the options', async () => {
    const s = new CaptureBuilder({ precision: 'ns' });
    const c = s.tcp(client, SERVER_A);
    c.send('client', 0, ca.readNotifyRequest({ data_type: 6, data_count: 1, sid: 1, ioid: 1 }));
    c.send('server', 4, ca.readNotifyResponse({ data_type: 6, data_count: 1, status: 1, ioid: 1, payload: dbrDouble(1) }));
    c.send('client', 10, ca.readNotifyRequest({ data_type: 6, data_count: 1, sid: 1, ioid: 2 }));
    c.send('server', 16, ca.readNotifyResponse({ data_type: 6, data_count: 1, status: 1, ioid: 2, payload: dbrDouble(1) }));
    const { records, unanswered, pairer } = await pair(s.bytes(), { timeout: 5 });
    expect(records.map((r) => [r.kind, r.latency])).toEqual([['read', 4]]);
    expect(unanswered.map((u) => [u.kind, u.reason, u.requestTime])).toEqual([['read', 'timeout', EPOCH + 10]]);
    expect(pairer.counts.orphanResponses.read).toBe(1);
  });

  it('says whether the circuit closed or the capture ended first', async () => {
    const s = new CaptureBuilder({ precision: 'ns' });
    const closed = s.tcp(client, SERVER_A);
    closed.handshake(0);
    closed.send('client', 1, ca.writeNotifyRequest({ data_type: 6, data_count: 1, sid: 1, ioid: 7, payload: dbrDouble(1) }));
    closed.close('client', 2);
    const open = s.tcp({ ip: HOST_X, port: 40001 }, SERVER_A);
    open.handshake(2.5);
    open.send('client', 3, ca.eventAddRequest({ data_type: 6, data_count: 1, sid: 1, subscriptionid: 1, mask: 1 }));
    open.send('client', 3.5, ca.echoRequest());
    // a SYN nobody answers
    const syn = tcpSegment({ ip: HOST_X, port: 40002 }, SERVER_A, 1000, 0, TCP.SYN, new Uint8Array(0));
    s.ip(4, ipv4Packet(HOST_X, SERVER_A.ip, IP_PROTO_TCP, syn));
    const { unanswered, pairer } = await pair(s.bytes());
    expect(unanswered.map((u) => [u.kind, u.client, u.reason, u.requestFrame]).sort()).toEqual([
      ['echo', '10.0.1.1:40001', 'end-of-capture', 14],
      ['handshake', '10.0.1.1:40002', 'end-of-capture', 16],
      ['subscribe', '10.0.1.1:40001', 'end-of-capture', 12],
      ['write', '10.0.1.1:40000', 'circuit-closed', 4],
    ]);
    expect(pairer.counts.unanswered).toEqual(perKind({ echo: 1, handshake: 1, subscribe: 1, write: 1 }));
  });
});

describe('Pairer: a capture that starts mid-circuit', () => {
  it('counts replies whose request was not captured as orphans', async () => {
    const s = new CaptureBuilder({ precision: 'ns' });
    const c = s.tcp(client, SERVER_A); // no handshake: the capture began later
    c.send('server', 0, ca.createChanResponse({ data_type: 6, data_count: 1, cid: 1, sid: 11 }));
    c.send('server', 0.1, ca.readNotifyResponse({ data_type: 6, data_count: 1, status: 1, ioid: 9, payload: dbrDouble(1) }));
    c.send('server', 0.2, ca.eventAddResponse({ data_type: 6, data_count: 1, status: 1, subscriptionid: 3, payload: dbrDouble(1) }));
    c.send('server', 0.3, ca.eventAddResponse({ data_type: 6, data_count: 1, status: 1, subscriptionid: 3, payload: dbrDouble(2) }));
    c.send('server', 0.4, ca.echoResponse());
    c.send('client', 1, ca.readNotifyRequest({ data_type: 6, data_count: 1, sid: 11, ioid: 10 }));
    c.send('server', 1.25, ca.readNotifyResponse({ data_type: 6, data_count: 1, status: 1, ioid: 10, payload: dbrDouble(3) }));
    const { pairer, records } = await pair(s.bytes());
    expect(pairer.counts.orphanResponses).toEqual(perKind({ create: 1, read: 1, subscribe: 1, echo: 1, connect: 1 }));
    // the channel's CreateChan request was not captured either, so the read has no PV name
    expect(records.map((r) => [r.kind, r.pv, r.latency])).toEqual([['read', undefined, 0.25]]);
  });
});

describe('Pairer: searches', () => {
  const udp = { ip: HOST_X, port: 50000 };

  it('times a search from its first transmission and reports a name answered by two servers', async () => {
    const s = new CaptureBuilder({ precision: 'ns' });
    s.udp(0, udp, SERVER_A, ...searchDatagram('DUP:pv', 3));
    s.udp(0.1, udp, SERVER_A, ...searchDatagram('DUP:pv', 3)); // retry, same id
    s.udp(0.15, SERVER_A, udp, ca.searchResponse({ port: 5064, cid: 3, version: 13 }));
    s.udp(0.16, SERVER_B, udp, ca.searchResponse({ port: 5064, cid: 3, version: 13 }));
    s.udp(0.17, SERVER_A, udp, ca.searchResponse({ port: 5064, cid: 3, version: 13 })); // the same server again
    s.udp(0.18, SERVER_B, { ip: HOST_X, port: 50001 }, ca.searchResponse({ port: 5064, cid: 3, version: 13 })); // never asked
    const { pairer, records } = await pair(s.bytes());
    expect(records.map((r) => [r.kind, r.pv, r.server, r.latency, r.requestFrame, r.responseFrame])).toEqual([['search', 'DUP:pv', A, 0.15, 1, 3]]);
    expect(pairer.conflicts).toEqual([{ pv: 'DUP:pv', client: '10.0.1.1:50000', servers: [A, B], frame: 4 }]);
    expect(pairer.counts.searchConflicts).toBe(1);
    expect(pairer.counts.orphanResponses.search).toBe(1);
  });

  it('pairs a NOT_FOUND reply and reports names never answered once, however often retried', async () => {
    const s = new CaptureBuilder({ precision: 'ns' });
    s.udp(0, udp, SERVER_A, ca.searchRequest({ name: 'ASKED', cid: 1, version: 13, reply: ca.DO_REPLY }));
    s.udp(0.002, SERVER_A, udp, ca.notFoundResponse({ version: 13, cid: 1 }));
    for (const t of [1, 1.1, 1.3, 1.7]) s.udp(t, udp, SERVER_A, ...searchDatagram('NOPE', 2));
    const { records, unanswered } = await pair(s.bytes());
    expect(records.map((r) => [r.pv, r.server, r.outcome, r.latency])).toEqual([['ASKED', A, 'NotFound', 0.002]]);
    expect(unanswered.map((u) => [u.kind, u.pv, u.client, u.server, u.requestTime, u.reason])).toEqual([
      ['search', 'NOPE', '10.0.1.1:50000', undefined, EPOCH + 1, 'end-of-capture'],
      // a connect is the searching socket's; NOT_FOUND is no server offering the name
      ['connect', 'ASKED', '10.0.1.1:50000', undefined, EPOCH, 'no-reply'],
      ['connect', 'NOPE', '10.0.1.1:50000', undefined, EPOCH + 1, 'no-reply'],
    ]);
  });
});

describe.skipIf(!existsSync(corpus))('Pairer on the real captures', () => {
  it('caget_basic: 16 CreateChan pairs, none unanswered, every caget on cid 1 paired to its own circuit', async () => {
    const { pairer, records } = await pair(real('caget_basic.pcap'));
    const creates = of(records, 'create');
    expect(pairer.counts.pairs.create).toBe(16);
    expect(pairer.counts.unanswered).toEqual(perKind({}));
    expect(pairer.counts.orphanResponses).toEqual(perKind({}));
    const perPv: Record<string, number> = {};
    for (const r of creates) perPv[r.pv!] = (perPv[r.pv!] ?? 0) + 1;
    expect(perPv).toEqual({ 'TEST:ai': 3, 'TEST:ao': 2, 'TEST:bi': 2, 'TEST:calc10': 1, 'TEST:longin': 2, 'TEST:longstr': 2, 'TEST:mbbi': 2, 'TEST:stringin': 2 });
    expect(new Set(creates.map((r) => r.circuit)).size).toBe(12);
    expect(new Set(creates.map((r) => r.server))).toEqual(new Set(['127.0.0.1:5064']));
    const ms = creates.map((r) => Math.round(r.latency * 1e6)).sort((a, b) => a - b);
    // the .txt: n=16 min=67us median=92us (upper median) max=1083us
    expect([ms[0], ms[8], ms[15]]).toEqual([67, 92, 1083]);
  });

  it('caput: 6 WriteNotify pairs, two of them ECA_PUTFAIL; TEST:nonexistent never found', async () => {
    const { pairer, records, unanswered } = await pair(real('caput.pcap'));
    expect(of(records, 'write').map((r) => `${r.pv} ${r.outcome}`)).toEqual(CAPUT_WRITE_OUTCOMES);
    expect(pairer.counts.pairs.create).toBe(18);
    expect(pairer.counts.pairs.read).toBe(37);
    // the connect is given up when its caget exits (its wake-up datagram), the search at the end of the capture
    expect(unanswered.map((u) => `${u.kind} ${u.pv} ${u.reason}`)).toEqual(['connect TEST:nonexistent no-reply', 'search TEST:nonexistent end-of-capture']);
  });

  it('search_notfound: the 5 names never answered', async () => {
    const { pairer, unanswered } = await pair(real('search_notfound.pcap'));
    expect(unanswered.filter((u) => u.kind === 'search').map((u) => u.pv).sort()).toEqual(['DOES:NOT:EXIST', 'NOPE:cainfo', 'NOPE:one', 'NOPE:three', 'NOPE:two']);
    expect(pairer.counts.unanswered.search).toBe(5);
    expect(pairer.counts.pairs.search).toBe(2);
    expect(pairer.counts.pairs.create).toBe(2);
  });

  it('multi_ioc: 40 CreateChan pairs per server, with the .txt minima and maxima', async () => {
    const { records } = await pair(real('multi_ioc.pcap'), { kinds: new Set<PairKind>(['create']) });
    const byServer = new Map<string, number[]>();
    for (const r of records) byServer.set(r.server, [...(byServer.get(r.server) ?? []), Math.round(r.latency * 1e6)]);
    const summary = [...byServer].map(([server, us]) => [server, us.length, Math.min(...us), Math.max(...us)]).sort();
    expect(summary).toEqual([
      ['127.0.0.1:38231', 40, 27, 862],
      ['127.0.0.1:41233', 40, 26, 76],
      ['127.0.0.1:5064', 40, 28, 71],
    ]);
  });
});
