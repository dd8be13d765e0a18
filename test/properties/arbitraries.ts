// Shared generators and helpers for the property tests (test/properties) and the
// limit tests (test/limits): CA messages from the project's own encoders with
// the fields they must decode back to, TCP conversations cut into segments with
// retransmissions and reordering, capture files in every format, and a
// synchronous decoder that renders each event as it is emitted.
//
// Budget: `npm test` runs every property with the fixed number of runs its test
// passes to budget(); `npm run test:fuzz` sets CAWIRE_FUZZ_RUNS to run each one
// that many times (never fewer than the fixed budget). fast-check prints the seed
// and path of a failure; CAWIRE_FUZZ_SEED (and CAWIRE_FUZZ_PATH) replay it.

import fc from 'fast-check';
import { CaptureParser } from '../../src/capture/reader.js';
import type { CaptureStats } from '../../src/capture/types.js';
import { Dissector } from '../../src/dissect/dissector.js';
import type { CaEvent } from '../../src/dissect/event.js';
import type { DissectOptions } from '../../src/dissect/options.js';
import type { DissectStats } from '../../src/dissect/stats.js';
import { formatCommand, formatTimestamp } from '../../src/output/values.js';
import * as ca from '../../src/synth/ca-encode.js';
import { CaptureWriter, type CaptureWriterOptions } from '../../src/synth/capture-writer.js';
import { IP_PROTO_TCP, IP_PROTO_UDP, TCP, ipv4Packet, linkFrame, numberToIp, tcpSegment, udpDatagram, type Endpoint } from '../../src/synth/frames.js';
import { DBR_NAMES, dbrBase, encodeDbr, type DbrMetadata } from '../../protocols/ca/dbr.js';
import { COMMAND_NAMES } from '../../protocols/ca/constants.js';

// ---- run budget ------------------------------------------------------------------

const FUZZ_RUNS = Number(process.env.CAWIRE_FUZZ_RUNS ?? '') || 0;
/** true under `npm run test:fuzz` */
export const FUZZING = FUZZ_RUNS > 0;

/** fast-check parameters for a property whose `npm test` budget is `runs`. */
export function budget(runs: number): fc.Parameters<unknown> {
  const seed = process.env.CAWIRE_FUZZ_SEED;
  const replay = seed ? { seed: Number(seed), path: process.env.CAWIRE_FUZZ_PATH } : {};
  return { numRuns: FUZZING ? Math.max(FUZZ_RUNS, runs) : runs, ...replay };
}

/** vitest timeout for a property test: generous in CI, unbounded in practice when fuzzing */
export const PROPERTY_TIMEOUT = FUZZING ? 24 * 3600_000 : 60_000;

// ---- numbers and strings ---------------------------------------------------------

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const i16 = fc.integer({ min: -0x8000, max: 0x7fff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const f32 = fc.float();
const f64 = fc.double();
const dbrType = fc.integer({ min: 0, max: DBR_NAMES.length - 1 });

/** Characters that survive a latin1 round trip and a NUL-terminated field (1..255). */
const latin1Char = fc.integer({ min: 1, max: 0xff }).map((c) => String.fromCharCode(c));
/** ASCII without NUL: what the project's encoder (UTF-8) and the decoder (latin1) agree on. */
const asciiChar = fc.integer({ min: 1, max: 0x7f }).map((c) => String.fromCharCode(c));
export const latin1String = (maxLength: number) => fc.string({ unit: latin1Char, maxLength });

/** Names (PV, host, user) as hostile senders choose them: control characters, ESC sequences, prototype keys. */
export const wireName = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: asciiChar, minLength: 1, maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toString', '\x1b[2J\x1b[31mPV\x1b[0m', 'A\rB\nC\tD\x7f', '{command}{{}}') },
);

// ---- DBR payloads ----------------------------------------------------------------

/** How a DBR type stores its values, from its name (the spec, not the decoder's table). */
function valueArb(t: number): fc.Arbitrary<number | string> {
  if (t === 35 || t === 36) return u16; // PUT_ACKT / PUT_ACKS
  switch (dbrBase(t)) {
    case 'STRING':
      return latin1String(40);
    case 'SHORT':
      return i16;
    case 'FLOAT':
      return f32;
    case 'ENUM':
      return u16;
    case 'CHAR':
      return u8;
    case 'LONG':
      return i32;
    default:
      return f64;
  }
}

/** The metadata fields a DBR type carries, derived from its name (ca-protocol-notes §6.3). */
export function metadataKeys(t: number): (keyof DbrMetadata)[] {
  const name = DBR_NAMES[t]!;
  const m = /^DBR_(STS|TIME|GR|CTRL)_(\w+)$/.exec(name);
  if (name === 'DBR_STSACK_STRING') return ['status', 'severity', 'ackt', 'acks'];
  if (!m) return [];
  const [, family, base] = m as unknown as [string, string, string];
  const alarm: (keyof DbrMetadata)[] = ['status', 'severity'];
  if (family === 'STS') return alarm;
  if (family === 'TIME') return [...alarm, 'secPastEpoch', 'nsec'];
  if (base === 'STRING') return alarm; // GR_STRING and CTRL_STRING have the STS layout
  if (base === 'ENUM') return [...alarm, 'enumStrings'];
  const limits: (keyof DbrMetadata)[] = ['upperDispLimit', 'lowerDispLimit', 'upperAlarmLimit', 'upperWarningLimit', 'lowerWarningLimit', 'lowerAlarmLimit'];
  if (family === 'CTRL') limits.push('upperCtrlLimit', 'lowerCtrlLimit');
  return [...alarm, ...(base === 'FLOAT' || base === 'DOUBLE' ? ['precision' as const] : []), 'units', ...limits];
}

function metadataArb(t: number): fc.Arbitrary<DbrMetadata> {
  const limit = valueArb(t) as fc.Arbitrary<number>;
  const all: { [K in keyof DbrMetadata]-?: fc.Arbitrary<DbrMetadata[K]> } = {
    status: fc.integer({ min: 0, max: 0x7fff }),
    severity: fc.integer({ min: 0, max: 0x7fff }),
    secPastEpoch: u32,
    nsec: u32,
    precision: i16,
    units: latin1String(8),
    enumStrings: fc.array(latin1String(26), { maxLength: 16 }),
    upperDispLimit: limit,
    lowerDispLimit: limit,
    upperAlarmLimit: limit,
    upperWarningLimit: limit,
    lowerWarningLimit: limit,
    lowerAlarmLimit: limit,
    upperCtrlLimit: limit,
    lowerCtrlLimit: limit,
    ackt: u16,
    acks: u16,
  };
  const keys = metadataKeys(t);
  return fc.record(Object.fromEntries(keys.map((k) => [k, all[k]])) as { [K in keyof DbrMetadata]: fc.Arbitrary<DbrMetadata[K]> }) as fc.Arbitrary<DbrMetadata>;
}

export interface DbrSample {
  dataType: number;
  values: (number | string)[];
  /** exactly the fields the type carries */
  metadata: DbrMetadata;
  payload: Buffer;
}

/** Pseudo-random values for big arrays (generating 70,000 values element by element is slow). */
function bigValues(t: number, n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = dbrBase(t) === 'CHAR' ? s & 0xff : dbrBase(t) === 'SHORT' ? (s & 0xffff) - 0x8000 : dbrBase(t) === 'LONG' ? s | 0 : s / 7;
  }
  return out;
}

/** A DBR payload: any type, 0..12 elements, or (rarely) an array big enough for the extended header. */
export const dbrSample: fc.Arbitrary<DbrSample> = fc.oneof(
  {
    weight: 20,
    arbitrary: dbrType.chain((t) =>
      fc.record({ dataType: fc.constant(t), values: fc.array(valueArb(t), { maxLength: 12 }), metadata: metadataArb(t) }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ t: fc.constantFrom(4, 1, 5, 6, 20), n: fc.integer({ min: 8190, max: 70000 }), seed: u32 })
      .chain(({ t, n, seed }) => fc.record({ dataType: fc.constant(t), values: fc.constant(bigValues(t, n, seed)), metadata: metadataArb(t) })),
  },
).map((s) => ({ ...s, payload: encodeDbr(s.dataType, s.values, s.metadata) }));

// ---- CA messages with the fields they decode to ----------------------------------

export type Side = 'client' | 'server';

export interface GenMessage {
  side: Side;
  /** decode as a datagram (VERSION's UDP form) */
  udp: boolean;
  bytes: Buffer;
  /** class decodeMessage must build */
  type: string;
  /** getter -> value the decoded message must show */
  fields: Record<string, unknown>;
}

function msg(side: Side, type: string, bytes: Buffer, fields: Record<string, unknown>, udp = false): GenMessage {
  return { side, udp, bytes, type, fields };
}

const typed = { data_type: dbrType, data_count: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 0x200000 })) };
const dataFields = (d: DbrSample) => ({ data_type: d.dataType, data_count: d.values.length, data: d.values, metadata: d.metadata });

const CLIENT_MESSAGES: fc.Arbitrary<GenMessage>[] = [
  fc.record({ version: u16, priority: u16 }).map((f) => msg('client', 'VersionRequest', ca.versionRequest(f), f)),
  fc.record({ version: u16, seq: u32 }).map((f) => msg('client', 'VersionRequest', ca.versionRequest(f), { version: f.version, sequence: f.seq }, true)),
  fc.record({ name: wireName, cid: u32, version: u16, reply: u16 }).map((f) => msg('client', 'SearchRequest', ca.searchRequest(f), f)),
  fc.record({ name: wireName, cid: u32, version: u32 }).map((f) => msg('client', 'CreateChanRequest', ca.createChanRequest(f), f)),
  fc.record({ name: wireName }).map((f) => msg('client', 'ClientNameRequest', ca.clientNameRequest(f), f)),
  fc.record({ name: wireName }).map((f) => msg('client', 'HostNameRequest', ca.hostNameRequest(f), f)),
  fc.record({ sid: u32, cid: u32 }).map((f) => msg('client', 'ClearChannelRequest', ca.clearChannelRequest(f), f)),
  fc.record({ ...typed, sid: u32, ioid: u32 }).map((f) => msg('client', 'ReadNotifyRequest', ca.readNotifyRequest(f), f)),
  fc.record({ ...typed, sid: u32, ioid: u32 }).map((f) => msg('client', 'ReadRequest', ca.readRequest(f), f)),
  fc.record({ d: dbrSample, sid: u32, cid: u32 }).map(({ d, sid, cid }) =>
    msg('client', 'WriteRequest', ca.writeRequest({ data_type: d.dataType, data_count: d.values.length, sid, cid, payload: d.payload }), { ...dataFields(d), sid, cid }),
  ),
  fc.record({ d: dbrSample, sid: u32, ioid: u32 }).map(({ d, sid, ioid }) =>
    msg('client', 'WriteNotifyRequest', ca.writeNotifyRequest({ data_type: d.dataType, data_count: d.values.length, sid, ioid, payload: d.payload }), { ...dataFields(d), sid, ioid }),
  ),
  fc.record({ ...typed, sid: u32, subscriptionid: u32, mask: u16 }).map((f) => msg('client', 'EventAddRequest', ca.eventAddRequest(f), f)),
  fc.record({ ...typed, sid: u32, subscriptionid: u32 }).map((f) => msg('client', 'EventCancelRequest', ca.eventCancelRequest(f), f)),
  fc.constant(msg('client', 'EventsOffRequest', ca.eventsOffRequest(), {})),
  fc.constant(msg('client', 'EventsOnRequest', ca.eventsOnRequest(), {})),
  fc.constant(msg('client', 'EchoRequest', ca.echoRequest(), {})),
  fc.constant(msg('client', 'ReadSyncRequest', ca.readSyncRequest(), {})),
  u32.map((a) => msg('client', 'RepeaterRegisterRequest', ca.repeaterRegisterRequest({ client_address: a }), { client_address: numberToIp(a) })),
];

/** An offending request header for ERROR, standard or extended. */
const embeddedHeader = fc
  .record({ command: fc.integer({ min: 0, max: 27 }), payload_size: fc.oneof(u16, u32), data_type: u16, data_count: fc.oneof(u16, u32), parameter1: u32, parameter2: u32 })
  .map((h) => ({
    header: ca.caHeader(h.command, h.payload_size, h.data_type, h.data_count, h.parameter1, h.parameter2),
    fields: { ...h, command_name: COMMAND_NAMES[h.command] },
  }));

const SERVER_MESSAGES: fc.Arbitrary<GenMessage>[] = [
  fc.record({ version: u16 }).map((f) => msg('server', 'VersionResponse', ca.versionResponse(f), f)),
  fc.record({ version: u16, seq: u32 }).map((f) => msg('server', 'VersionResponse', ca.versionResponse(f), { version: f.version, sequence: f.seq }, true)),
  fc.record({ port: u16, ip: fc.option(u32, { nil: undefined }), cid: u32, version: u16 }).map((f) =>
    msg('server', 'SearchResponse', ca.searchResponse(f), { port: f.port, ip: numberToIp(f.ip ?? 0xffffffff), cid: f.cid, version: f.version }),
  ),
  fc.record({ version: u16, cid: u32 }).map((f) => msg('server', 'NotFoundResponse', ca.notFoundResponse(f), { ...f, reply: ca.DO_REPLY })),
  fc.record({ data_type: u16, data_count: typed.data_count, cid: u32, sid: u32 }).map((f) => msg('server', 'CreateChanResponse', ca.createChanResponse(f), f)),
  fc.record({ cid: u32 }).map((f) => msg('server', 'CreateChFailResponse', ca.createChFailResponse(f), f)),
  fc.record({ cid: u32, access_rights: u32 }).map((f) => msg('server', 'AccessRightsResponse', ca.accessRightsResponse(f), f)),
  fc.record({ sid: u32, cid: u32 }).map((f) => msg('server', 'ClearChannelResponse', ca.clearChannelResponse(f), f)),
  fc.record({ cid: u32 }).map((f) => msg('server', 'ServerDisconnResponse', ca.serverDisconnResponse(f), f)),
  fc.record({ d: dbrSample, status: u32, ioid: u32 }).map(({ d, status, ioid }) =>
    msg('server', 'ReadNotifyResponse', ca.readNotifyResponse({ data_type: d.dataType, data_count: d.values.length, status, ioid, payload: d.payload }), { ...dataFields(d), status, ioid }),
  ),
  fc.record({ d: dbrSample, cid: u32, ioid: u32 }).map(({ d, cid, ioid }) =>
    msg('server', 'ReadResponse', ca.readResponse({ data_type: d.dataType, data_count: d.values.length, cid, ioid, payload: d.payload }), { ...dataFields(d), cid, ioid }),
  ),
  fc.record({ ...typed, status: u32, ioid: u32 }).map((f) => msg('server', 'WriteNotifyResponse', ca.writeNotifyResponse(f), f)),
  // An update with an empty payload would be the cancel confirmation (EventCancelResponse): not an update.
  fc.record({ d: dbrSample.filter((d) => d.payload.length > 0), status: u32, subscriptionid: u32 }).map(({ d, status, subscriptionid }) =>
    msg('server', 'EventAddResponse', ca.eventAddResponse({ data_type: d.dataType, data_count: d.values.length, status, subscriptionid, payload: d.payload }), { ...dataFields(d), status, subscriptionid }),
  ),
  fc.record({ ...typed, sid: u32, subscriptionid: u32 }).map((f) => msg('server', 'EventCancelResponse', ca.eventCancelResponse(f), f)),
  fc.constant(msg('server', 'EchoResponse', ca.echoResponse(), {})),
  fc.record({ cid: u32, status: u32, request: embeddedHeader, message: fc.string({ unit: asciiChar, maxLength: 80 }) }).map((f) =>
    msg('server', 'ErrorResponse', ca.errorResponse({ ...f, request: f.request.header }), { cid: f.cid, status: f.status, request: f.request.fields, message: f.message }),
  ),
  fc.record({ version: u16, server_port: u16, beacon_id: u32, address: u32 }).map((f) =>
    msg('server', 'Beacon', ca.beacon(f), { ...f, address: numberToIp(f.address) }),
  ),
  u32.map((a) => msg('server', 'RepeaterConfirmResponse', ca.repeaterConfirmResponse({ repeater_address: a }), { repeater_address: numberToIp(a) })),
];

/** Any message the project's encoder can produce, either side. */
export const anyMessage: fc.Arbitrary<GenMessage> = fc.oneof(...CLIENT_MESSAGES, ...SERVER_MESSAGES);

/**
 * A header a hostile or broken peer might send, alone: any command, sizes up to
 * 4 GB (extended), counts that do or do not match, unknown DBR types.
 */
export const hostileHeader: fc.Arbitrary<Buffer> = fc
  .record({
    command: fc.integer({ min: 0, max: 40 }),
    payloadSize: fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((n) => n & ~7), fc.constantFrom(0xfff8, 0x10000, 0x4000000, 0xfffffff8), u32),
    dataType: fc.oneof(dbrType, u16),
    dataCount: fc.oneof(u16, u32),
    p1: u32,
    p2: u32,
  })
  .map((h) => ca.caHeader(h.command, h.payloadSize, h.dataType, h.dataCount, h.p1, h.p2));

/** Bytes that look like CA now and then: valid messages, hostile headers and random runs. */
export const caLikeBytes = (maxPieces: number): fc.Arbitrary<Buffer> =>
  fc
    .array(fc.oneof(anyMessage.map((m) => m.bytes), hostileHeader, fc.uint8Array({ minLength: 1, maxLength: 48 }).map((a) => Buffer.from(a))), { maxLength: maxPieces })
    .map((pieces) => Buffer.concat(pieces));

// ---- packets and captures --------------------------------------------------------

/** One IPv4 packet with its capture time (whole microseconds, so every format keeps it exactly). */
export interface IpPacket {
  sec: number;
  nsec: number;
  ip: Buffer;
}

export const CLIENT_HOST = '10.0.0.2';
export const SERVER_HOST = '10.0.0.1';
export const CA_PORT = 5064;
export const REPEATER_PORT = 5065;

/** Largest TCP payload put in one packet (IPv4 total length is 16 bits). */
const MAX_SEGMENT = 60000;

/** Bytes [start, end) of one direction's stream. */
export type Range = [start: number, end: number];

/** How one direction's bytes are cut into segments, repeated and reordered. */
export interface SegmentPlan {
  /** cut points (taken modulo the stream length) */
  cuts: number[];
  /** extra copies of already-covered byte ranges: retransmissions, duplicates, overlaps */
  retransmits: { at: number; len: number }[];
  /** how far (in segments) each segment may be sent late; cycled over the segments */
  jitter: number[];
  /** bytes never sent (so never acknowledged either): a hole the dissector has to hold data behind */
  missing?: Range;
}

export interface TcpFlowPlan {
  client: SegmentPlan;
  server: SegmentPlan;
  /** which direction sends next (true = client), cycled */
  interleave: boolean[];
  isnClient: number;
  isnServer: number;
  clientPort: number;
  /** false: the capture starts after the handshake (the dissector joins mid-stream) */
  handshake?: boolean;
}

const segmentPlan: fc.Arbitrary<SegmentPlan> = fc.record({
  cuts: fc.array(fc.nat(), { maxLength: 60 }),
  retransmits: fc.array(fc.record({ at: fc.nat(), len: fc.nat() }), { maxLength: 8 }),
  jitter: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 16 }),
});

export const tcpFlowPlan: fc.Arbitrary<TcpFlowPlan> = fc.record({
  client: segmentPlan,
  server: segmentPlan,
  interleave: fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
  isnClient: u32,
  isnServer: u32,
  clientPort: fc.integer({ min: 1024, max: 65535 }).filter((p) => p !== CA_PORT && p !== REPEATER_PORT),
});

/** A plain in-order plan: one segment per MSS-sized piece, nothing repeated. */
export function plainPlan(clientPort: number): TcpFlowPlan {
  const p: SegmentPlan = { cuts: [], retransmits: [], jitter: [] };
  return { client: p, server: p, interleave: [true, false], isnClient: 1000, isnServer: 5000, clientPort };
}

/** The byte ranges of one direction in the order they go on the wire. */
export function segmentRanges(length: number, plan: SegmentPlan): Range[] {
  if (length === 0) return [];
  const cuts = new Set<number>();
  for (const c of plan.cuts) if (c % length > 0) cuts.add(c % length);
  for (let p = MAX_SEGMENT; p < length; p += MAX_SEGMENT) cuts.add(p);
  const hole = plan.missing;
  if (hole) for (const p of hole) if (p > 0 && p < length) cuts.add(p);
  const points = [0, ...[...cuts].sort((a, b) => a - b), length];
  const ranked: { range: Range; rank: number }[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const range: Range = [points[i]!, points[i + 1]!];
    if (!hole || range[0] < hole[0] || range[1] > hole[1]) ranked.push({ range, rank: i });
  }
  for (const r of plan.retransmits) {
    const start = r.at % length;
    const end = start + 1 + (r.len % Math.min(MAX_SEGMENT, length - start));
    const after = points.findIndex((p) => p > start) - 1; // the original segment holding `start`
    ranked.push({ range: [start, end], rank: after + 0.5 });
  }
  const jitter = (i: number) => (plan.jitter.length ? plan.jitter[i % plan.jitter.length]! : 0);
  return ranked
    .map((r, i) => ({ ...r, key: r.rank + jitter(i) }))
    .sort((a, b) => a.key - b.key)
    .map((r) => r.range);
}

/** Bytes received contiguously from the start of a stream, as the receiver would acknowledge. */
class Receiver {
  contiguous = 0;
  private ahead: Range[] = [];
  add([start, end]: Range): void {
    this.ahead.push([start, end]);
    this.ahead.sort((a, b) => a[0] - b[0]);
    while (this.ahead.length > 0 && this.ahead[0]![0] <= this.contiguous) {
      this.contiguous = Math.max(this.contiguous, this.ahead.shift()![1]);
    }
  }
}

/** Packet clock: starts at `sec`, one microsecond per packet. */
export class Clock {
  constructor(
    private sec: number,
    private usec = 0,
  ) {}
  next(): { sec: number; nsec: number } {
    const t = { sec: this.sec, nsec: this.usec * 1000 };
    if (++this.usec === 1e6) {
      this.usec = 0;
      this.sec++;
    }
    return t;
  }
}

/**
 * A whole TCP connection carrying `client` and `server` bytes: handshake (unless the plan says not), data cut
 * and reordered as `plan` says (each side acknowledging only what it has received
 * contiguously), then FIN from both sides.
 */
export function tcpFlowPackets(clientBytes: Buffer, serverBytes: Buffer, plan: TcpFlowPlan, clock: Clock, hosts = { client: CLIENT_HOST, server: SERVER_HOST }): IpPacket[] {
  const ep: Record<Side, Endpoint> = { client: { ip: hosts.client, port: plan.clientPort }, server: { ip: hosts.server, port: CA_PORT } };
  const isn: Record<Side, number> = { client: plan.isnClient, server: plan.isnServer };
  const bytes: Record<Side, Buffer> = { client: clientBytes, server: serverBytes };
  const received: Record<Side, Receiver> = { client: new Receiver(), server: new Receiver() }; // bytes *from* that side
  const other = (s: Side): Side => (s === 'client' ? 'server' : 'client');
  const packets: IpPacket[] = [];
  const ipId: Record<Side, number> = { client: 1, server: 1 };
  const put = (from: Side, relSeq: number, flags: number, payload: Buffer = Buffer.alloc(0)) => {
    const to = other(from);
    const ack = flags & TCP.ACK ? isn[to] + 1 + received[to].contiguous : 0;
    const seg = tcpSegment(ep[from], ep[to], isn[from] + relSeq, ack, flags, payload);
    const ip = ipv4Packet(ep[from].ip, ep[to].ip, IP_PROTO_TCP, seg, { id: ipId[from]++, dontFragment: true });
    packets.push({ ...clock.next(), ip });
  };
  if (plan.handshake ?? true) {
    put('client', 0, TCP.SYN);
    put('server', 0, TCP.SYN | TCP.ACK);
    put('client', 1, TCP.ACK);
  }
  const queues: Record<Side, Range[]> = { client: segmentRanges(clientBytes.length, plan.client), server: segmentRanges(serverBytes.length, plan.server) };
  for (let i = 0; queues.client.length + queues.server.length > 0; i++) {
    let from: Side = plan.interleave[i % plan.interleave.length] ? 'client' : 'server';
    if (queues[from].length === 0) from = other(from);
    const range = queues[from].shift()!;
    put(from, 1 + range[0], TCP.PSH | TCP.ACK, bytes[from].subarray(range[0], range[1]));
    received[from].add(range);
  }
  put('client', 1 + clientBytes.length, TCP.FIN | TCP.ACK);
  put('server', 1 + serverBytes.length, TCP.FIN | TCP.ACK);
  put('client', 2 + clientBytes.length, TCP.ACK);
  return packets;
}

/** One UDP datagram as an IPv4 packet. */
export function udpPacket(src: Endpoint, dst: Endpoint, payload: Uint8Array, t: { sec: number; nsec: number }): IpPacket {
  return { ...t, ip: ipv4Packet(src.ip, dst.ip, IP_PROTO_UDP, udpDatagram(src, dst, payload)) };
}

/** A capture file holding `packets`, each wrapped in the link layer of `opts.linkType` (default Ethernet). */
export function writeCapture(packets: Iterable<IpPacket>, opts: CaptureWriterOptions = { format: 'pcap' }): Buffer {
  const writer = new CaptureWriter(opts);
  const linkType = opts.linkType ?? 1;
  for (const p of packets) writer.writePacket(p.sec, p.nsec, linkFrame(linkType, p.ip));
  return writer.toBuffer();
}

/** Every way cawire reads a capture: pcap in both byte orders and precisions, pcapng, and the link layers. */
export const captureFormat: fc.Arbitrary<CaptureWriterOptions> = fc.record({
  format: fc.constantFrom('pcap' as const, 'pcapng' as const),
  byteOrder: fc.constantFrom('le' as const, 'be' as const),
  precision: fc.constantFrom('us' as const, 'ns' as const),
  linkType: fc.constantFrom(1, 113, 276, 0, 101, 228),
});

// ---- decoding --------------------------------------------------------------------

/** Everything that identifies a decoded message: when, where, which circuit side, and its fields. */
export function eventLine(ev: CaEvent): string {
  return `${ev.frame} ${formatTimestamp(ev.tsSec, ev.tsNsec)} ${ev.transport} ${ev.src}:${ev.sport}>${ev.dst}:${ev.dport} ${ev.direction} pv=${ev.pv ?? '-'} ${formatCommand(ev.command)}`;
}

export interface Decoded<T> {
  /** render(ev) of every event, rendered when it was emitted (payload views are only valid then) */
  lines: T[];
  /** how many of `lines` were emitted while packets were read, before the end-of-capture flush */
  beforeFinish: number;
  stats: DissectStats;
  capture: CaptureStats;
}

/**
 * Decodes a capture synchronously (CaptureParser + Dissector, as runDissection does),
 * fed in chunks of the given sizes (cycled; the whole file at once when none).
 */
export function decodeCapture<T = string>(
  file: Buffer,
  options: DissectOptions = {},
  render: (ev: CaEvent) => T = eventLine as (ev: CaEvent) => T,
  chunkSizes: readonly number[] = [],
): Decoded<T> {
  const lines: T[] = [];
  const dissector = new Dissector({ env: {}, ...options }, (ev) => lines.push(render(ev)));
  const parser = new CaptureParser(dissector);
  for (let pos = 0, i = 0; pos < file.length; i++) {
    const n = chunkSizes.length ? Math.max(1, chunkSizes[i % chunkSizes.length]!) : file.length;
    parser.push(file.subarray(pos, pos + n));
    pos += n;
  }
  const capture = parser.end();
  const beforeFinish = lines.length;
  dissector.finish();
  return { lines, beforeFinish, stats: dissector.stats, capture };
}

/** Total bytes the dissector reported as not decodable (every malformed reason). */
export function malformedBytes(s: DissectStats): number {
  return Object.values(s.malformed).reduce((sum, m) => sum + m.bytes, 0);
}
