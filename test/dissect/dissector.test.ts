import { describe, expect, it } from 'vitest';
import { encodeDbr } from '../../protocols/ca/dbr.js';
import * as enc from '../../src/synth/ca-encode.js';
import { IP_PROTO_UDP, fragmentIpv4, ipv4Packet, udpDatagram } from '../../src/synth/frames.js';
import type { CaEvent } from '../../src/dissect/event.js';
import { skippedSummary } from '../../src/dissect/stats.js';
import { commandWants, eventFilter } from '../../src/dissect/filter.js';
import { MESSAGE_TYPES, TYPE_CODES } from '../../protocols/ca/messages.js';
import { formatCommand } from '../../src/output/values.js';
import { CaptureBuilder } from '../helpers/build.js';
import { collectEvents } from '../helpers/shared.js';

const IOC = { ip: '10.0.0.1', port: 5064 };
const IOC2 = { ip: '10.0.0.1', port: 40123 };
const CLIENT_UDP = { ip: '10.0.0.9', port: 50000 };
const CLIENT_TCP = { ip: '10.0.0.9', port: 50001 };

const summary = (evs: CaEvent[]) => evs.map((e) => `${e.transport} ${e.type}${e.pv ? ` ${e.pv}` : ''}`);

/** A client connecting to `server`, creating a channel and reading it. */
function channelSession(b: CaptureBuilder, server: typeof IOC, pv: string, opts: { handshake?: boolean; client?: typeof CLIENT_TCP } = {}) {
  const s = b.tcp(opts.client ?? CLIENT_TCP, server);
  if (opts.handshake !== false) s.handshake(0.1);
  s.send('client', 0.2, Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), enc.hostNameRequest({ name: 'opi1' }), enc.createChanRequest({ name: pv, cid: 1, version: 13 })]));
  s.send('server', 0.3, Buffer.concat([enc.versionResponse({ version: 13 }), enc.accessRightsResponse({ cid: 1, access_rights: 3 }), enc.createChanResponse({ data_type: 6, data_count: 1, cid: 1, sid: 9 })]));
  s.send('client', 0.4, enc.readNotifyRequest({ data_type: 6, data_count: 1, sid: 9, ioid: 1 }));
  s.send('server', 0.5, enc.readNotifyResponse({ data_type: 6, data_count: 1, status: 1, ioid: 1, payload: encodeDbr(6, [4.5]) }));
  return s;
}

const SESSION = ['tcp VersionRequest', 'tcp HostNameRequest', 'tcp CreateChanRequest P:1', 'tcp VersionResponse', 'tcp AccessRightsResponse P:1', 'tcp CreateChanResponse P:1', 'tcp ReadNotifyRequest P:1', 'tcp ReadNotifyResponse P:1'];

describe('Dissector', () => {
  it('decides client and server from the SYN, and names every message of the channel', async () => {
    const b = new CaptureBuilder();
    channelSession(b, IOC, 'P:1');
    const { events, result } = await collectEvents(b.bytes());
    expect(summary(events)).toEqual(SESSION);
    expect(events[0]!.circuit!.roleEvidence).toBe('syn');
    expect(result.stats.circuits).toBe(1);
  });

  it('without the handshake, the server port decides (capture started mid-connection)', async () => {
    const b = new CaptureBuilder();
    channelSession(b, IOC, 'P:1', { handshake: false });
    const { events } = await collectEvents(b.bytes());
    expect(summary(events)).toEqual(SESSION);
    expect(events[0]!.circuit!.roleEvidence).toBe('server-port');
  });

  it('learns a server on an ephemeral port from a search reply; without the reply it is other traffic', async () => {
    const withReply = new CaptureBuilder();
    withReply.udp(0, CLIENT_UDP, { ip: '10.0.0.255', port: 5064 }, enc.versionRequest({ version: 13, seq: 1 }), enc.searchRequest({ name: 'P:1', cid: 1, version: 13 }));
    withReply.udp(0.05, { ip: '10.0.0.1', port: 5064 }, CLIENT_UDP, enc.versionResponse({ version: 13, seq: 1 }), enc.searchResponse({ port: 40123, cid: 1, version: 13 }));
    channelSession(withReply, IOC2, 'P:1', { handshake: false });
    const a = await collectEvents(withReply.bytes());
    expect(summary(a.events)).toEqual(['udp VersionRequest', 'udp SearchRequest P:1', 'udp VersionResponse', 'udp SearchResponse P:1', ...SESSION]);

    const without = new CaptureBuilder();
    channelSession(without, IOC2, 'P:1');
    const b = await collectEvents(without.bytes());
    expect(b.events).toEqual([]);
    expect(b.result.stats.otherPorts).toBeGreaterThan(0);
    expect(skippedSummary(b.result.stats)).toMatch(/packets on other ports/);
    const c = await collectEvents(without.bytes(), { ports: [40123] });
    expect(summary(c.events)).toEqual(SESSION);
  });

  it('learns a server from a beacon, and honours EPICS_CA_SERVER_PORT', async () => {
    const b = new CaptureBuilder();
    b.udp(0, { ip: '10.0.0.1', port: 33333 }, { ip: '10.0.0.255', port: 5065 }, enc.beacon({ version: 13, server_port: 40123, beacon_id: 7 }));
    channelSession(b, IOC2, 'P:1');
    expect(summary((await collectEvents(b.bytes())).events)).toEqual(['udp Beacon', ...SESSION]);
    const c = new CaptureBuilder();
    channelSession(c, { ip: '10.0.0.1', port: 6064 }, 'P:1');
    expect(summary((await collectEvents(c.bytes(), { env: { EPICS_CA_SERVER_PORT: '6064' } })).events)).toEqual(SESSION);
  });

  it('keeps PV names apart on circuits of different clients that reuse cid 1', async () => {
    const b = new CaptureBuilder();
    channelSession(b, IOC, 'A:1', { client: { ip: '10.0.0.9', port: 51000 } });
    channelSession(b, IOC, 'B:2', { client: { ip: '10.0.0.8', port: 51000 } });
    const { events } = await collectEvents(b.bytes());
    const reads = events.filter((e) => e.type === 'ReadNotifyResponse').map((e) => `${e.dst} ${e.pv}`);
    expect(reads).toEqual(['10.0.0.9 A:1', '10.0.0.8 B:2']);
  });

  it('reassembles IPv4 fragments of a search datagram', async () => {
    const b = new CaptureBuilder();
    const names = Array.from({ length: 40 }, (_, i) => enc.searchRequest({ name: `LONG:PV:NAME:${i}`, cid: i, version: 13 }));
    const packet = ipv4Packet('10.0.0.9', '10.0.0.255', IP_PROTO_UDP, udpDatagram(CLIENT_UDP, { ip: '10.0.0.255', port: 5064 }, Buffer.concat(names)), { id: 77 });
    const frags = fragmentIpv4(packet, 576);
    expect(frags.length).toBeGreaterThan(1);
    frags.reverse().forEach((f, i) => b.ip(i * 0.001, f));
    const { events, result } = await collectEvents(b.bytes());
    expect(events.map((e) => e.pv)).toEqual(names.map((_, i) => `LONG:PV:NAME:${i}`));
    expect(result.stats.ipFragments).toBe(frags.length);
    expect(result.stats.ipFragmentsDropped).toBe(0);
  });

  it('decodes the same messages over every link type and VLAN tags', async () => {
    const expected = SESSION;
    for (const [linkType, vlan] of [[1, [5]], [1, [100, 200]], [113, undefined], [276, undefined], [0, undefined], [101, undefined]] as const) {
      const b = new CaptureBuilder({ linkType }, { vlan: vlan as number[] | undefined });
      channelSession(b, IOC, 'P:1');
      expect(summary((await collectEvents(b.bytes())).events)).toEqual(expected);
    }
  });

  it('reports a segment the capture lost and decodes what follows it', async () => {
    const b = new CaptureBuilder();
    const s = b.tcp(CLIENT_TCP, IOC);
    s.handshake(0);
    const updates = Array.from({ length: 60 }, (_, i) => enc.eventAddResponse({ data_type: 6, data_count: 1, status: 1, subscriptionid: 1, payload: encodeDbr(6, [i]) }));
    s.sendSegments('server', 0.1, Buffer.concat(updates), [{ kind: 'drop', segment: 0 }], { mss: 100 });
    const { events, result } = await collectEvents(b.bytes());
    expect(result.stats.gaps).toBe(1);
    expect(result.stats.gapBytes).toBe(100);
    const values = events.map((e) => (e.command as unknown as { data: number[] }).data[0]);
    // 24-byte updates: the 100 lost bytes are updates 0-3 and the start of 4; decoding resumes at update 5
    expect(values).toEqual(Array.from({ length: 55 }, (_, i) => i + 5));
    expect(skippedSummary(result.stats)).toMatch(/1 capture gap in TCP streams \(100 bytes lost\)/);
  });

  it('tells a zero-length repeater registration and the client waking itself from other UDP', async () => {
    const b = new CaptureBuilder();
    b.udp(0, CLIENT_UDP, { ip: '10.0.0.255', port: 5064 }, enc.versionRequest({ version: 13, seq: 1 }), enc.searchRequest({ name: 'P:1', cid: 1, version: 13 }));
    b.udp(0.1, CLIENT_UDP, { ip: '127.0.0.1', port: 5065 });
    b.udp(0.2, CLIENT_UDP, CLIENT_UDP, enc.versionRequest({ version: 0 }));
    b.udp(0.3, { ip: '10.0.0.9', port: 40000 }, { ip: '10.0.0.7', port: 40001 }, enc.echoRequest());
    const { events, result } = await collectEvents(b.bytes());
    expect(summary(events)).toEqual(['udp VersionRequest', 'udp SearchRequest P:1', 'udp RepeaterRegisterRequest', 'udp VersionRequest']);
    expect(result.stats.otherPorts).toBe(1);
  });
});

describe('DissectOptions.wants', () => {
  // fixtures/demo.pcap: monitors, reads, writes, creates and clears over several circuits (made by `cawire synth`)
  const demo = new URL('../../fixtures/demo.pcap', import.meta.url).pathname;
  const label = (e: CaEvent) => `${e.frame} ${e.type} ${e.pv ?? '-'}`;

  it('drops only the unwanted TCP messages, with the same PVs on the rest and the same counts', async () => {
    const all = await collectEvents(demo);
    const noUpdates = await collectEvents(demo, { wants: (command, fromClient) => !(command === 1 && !fromClient) });
    // EVENT_ADD sent by the server: updates, and the empty one confirming a cancel (EventCancelResponse)
    const updates = all.events.filter((e) => e.transport === 'tcp' && e.command.command === 1 && e.direction === 'response');
    expect(updates.length).toBeGreaterThan(100);
    expect(noUpdates.events.map(label)).toEqual(all.events.filter((e) => !updates.includes(e)).map(label));
    expect(noUpdates.result.stats.caMessages).toBe(all.result.stats.caMessages);
  });

  it('keeps the circuit state the skipped messages carry: a cancel confirmed by an empty update still ends the subscription', async () => {
    const b = new CaptureBuilder();
    const s = b.tcp(CLIENT_TCP, IOC);
    s.handshake(0.1);
    s.send('client', 0.2, Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), enc.createChanRequest({ name: 'M:1', cid: 1, version: 13 })]));
    s.send('server', 0.3, Buffer.concat([enc.versionResponse({ version: 13 }), enc.createChanResponse({ data_type: 6, data_count: 1, cid: 1, sid: 9 })]));
    s.send('client', 0.4, enc.eventAddRequest({ data_type: 6, data_count: 1, sid: 9, subscriptionid: 5, mask: 1 }));
    s.send('server', 0.5, enc.eventAddResponse({ data_type: 6, data_count: 1, status: 1, subscriptionid: 5, payload: encodeDbr(6, [1]) }));
    s.send('client', 0.6, enc.eventCancelRequest({ data_type: 6, data_count: 1, sid: 9, subscriptionid: 5 }));
    s.send('server', 0.7, enc.eventAddResponse({ data_type: 6, data_count: 1, status: 1, subscriptionid: 5, payload: Buffer.alloc(0) }));
    s.send('client', 0.8, enc.eventCancelRequest({ data_type: 6, data_count: 1, sid: 9, subscriptionid: 5 }));
    const { events } = await collectEvents(b.bytes(), { wants: (command, fromClient) => !(command === 1 && !fromClient) });
    expect(events.map((e) => `${e.type} ${e.pv ?? '-'}`)).toEqual([
      'VersionRequest -',
      'CreateChanRequest M:1',
      'VersionResponse -',
      'CreateChanResponse M:1',
      'EventAddRequest M:1',
      'EventCancelRequest M:1',
      'EventCancelRequest M:1',
    ]);
    // the skipped empty update confirmed the cancel: the circuit no longer holds the subscription (a cancel request alone only marks it)
    const ca = events.at(-1)!.circuit!.ca;
    expect(ca.subscription(5)).toBeUndefined();
    expect(ca.channels.get(1)?.name).toBe('M:1');
  });
});

describe('DissectOptions.declined', () => {
  const demo = new URL('../../fixtures/demo.pcap', import.meta.url).pathname;
  const noUpdates = (command: number, fromClient: boolean) => !(command === 1 && !fromClient);
  const label = (e: CaEvent) => `${e.frame} ${e.type} ${e.pv ?? '-'} ${formatCommand(e.command)}`;

  it('is offered each declined message with its header words, circuit, time and frame', async () => {
    const all = await collectEvents(demo);
    const updates = all.events.filter((e) => e.transport === 'tcp' && e.command.command === 1 && e.direction === 'response');
    const offered: unknown[] = [];
    const { events } = await collectEvents(demo, {
      wants: noUpdates,
      declined: (m) => {
        offered.push([m.frame, m.sec, m.nsec, m.command, m.fromClient, m.payloadSize, m.dataType, m.dataCount, m.parameter1, m.parameter2, m.circuit.id]);
        return false;
      },
    });
    expect(updates.length).toBeGreaterThan(100);
    expect(offered).toEqual(
      updates.map((e) => {
        const m = e.command;
        return [e.frame, e.tsSec, e.tsNsec, 1, false, m.payloadSize, m.dataTypeField, m.dataCountField, m.parameter1, m.parameter2, e.circuit!.id];
      }),
    );
    expect(events.length).toBe(all.events.length - updates.length);
  });

  it('returning true has the message decoded and delivered after all, in its place', async () => {
    const all = await collectEvents(demo);
    let n = 0;
    const some = await collectEvents(demo, { wants: noUpdates, declined: () => n++ % 3 === 0 });
    const updates = all.events.filter((e) => e.transport === 'tcp' && e.command.command === 1 && e.direction === 'response');
    const dropped = new Set(updates.filter((_, i) => i % 3 !== 0));
    expect(n).toBe(updates.length);
    expect(some.events.map(label)).toEqual(all.events.filter((e) => !dropped.has(e)).map(label));
    expect(some.result.stats).toEqual(all.result.stats);
  });
});

describe('DissectOptions.copyMessages', () => {
  const demo = new URL('../../fixtures/demo.pcap', import.meta.url).pathname;
  const label = (e: CaEvent) => `${e.frame} ${e.type} ${e.pv ?? '-'} ${formatCommand(e.command)}`;

  it('events kept past the run read the same as views of fresh chunks, though the file is read through one reused buffer', async () => {
    const fresh = await collectEvents(demo);
    // 295 KB through 64 KiB reads: the last chunk overwrites the ones before it
    const copied = await collectEvents(demo, { copyMessages: true });
    expect(fresh.events.length).toBeGreaterThan(500);
    expect(copied.events.map(label)).toEqual(fresh.events.map(label));
    expect(copied.result.stats).toEqual(fresh.result.stats);
    // each message in a buffer of its own size, or in a slab of Buffer's pool for small ones: none in a read chunk
    const homes = copied.events.map((e) => e.command.buf.buffer.byteLength);
    expect(homes.every((n, i) => n === Buffer.poolSize || n === copied.events[i]!.command.size)).toBe(true);
    // without the option, all but the messages reassembled across segments are views of 1 MiB read chunks
    expect(fresh.events.filter((e) => e.command.buf.buffer.byteLength === 1024 * 1024).length).toBeGreaterThan(0.9 * fresh.events.length);
  });
});

describe('commandWants (print --command)', () => {
  const demo = new URL('../../fixtures/demo.pcap', import.meta.url).pathname;

  it('names every class by the code and sender it is decoded from', () => {
    expect(TYPE_CODES.size).toBe(MESSAGE_TYPES.length);
    expect(TYPE_CODES.get('EventAddResponse')).toEqual({ command: 1, fromClient: false });
    expect(TYPE_CODES.get('EventCancelResponse')).toEqual({ command: 1, fromClient: false });
    expect(TYPE_CODES.get('ErrorResponse')).toEqual({ command: 11, fromClient: undefined }); // one-way: whichever side sent it
    expect(TYPE_CODES.get('SnapshotRequest')).toEqual({ command: 5, fromClient: true });
  });

  it.each([['CreateChanResponse'], ['eventaddresponse,ReadNotifyRequest'], ['EventCancelResponse'], ['WriteNotifyResponse,AccessRightsResponse']])(
    '%s: the filtered events are those of a full run, fewer messages made',
    async (names) => {
      const spec = { command: names.split(',') };
      const keep = eventFilter(spec)!;
      const all = await collectEvents(demo);
      const only = await collectEvents(demo, { wants: commandWants(spec) });
      const label = (e: CaEvent) => `${e.frame} ${e.type} ${e.pv ?? '-'} ${formatCommand(e.command)}`;
      const expected = all.events.filter(keep).map(label);
      expect(expected.length).toBeGreaterThan(0);
      expect(only.events.filter(keep).map(label)).toEqual(expected);
      expect(only.events.length).toBeLessThan(all.events.length);
    },
  );
});
