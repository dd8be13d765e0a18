// One synthetic TCP connection: emits IPv4 packets (handshake, data segments,
// the receiver's ACKs, FIN/RST) with consistent sequence numbers, plus fault
// injection (retransmission, reordering, capture loss, overlap) for testing
// stream reassembly.

import { timestampFromSeconds } from './capture-writer.js';
import { Random } from './random.js';
import { IP_PROTO_TCP, TCP, ipOf, ipv4Packet, tcpSegment, type Endpoint } from './frames.js';

export type TcpSide = 'client' | 'server';

/** Receives every packet the session puts on the wire, in time order. */
export type IpPacketSink = (tsSec: number, tsNsec: number, ipPacket: Uint8Array) => void;

export interface TcpSessionOptions {
  client: Endpoint;
  server: Endpoint;
  /** seeds the initial sequence numbers and IP ids; default derived from the endpoints */
  seed?: number;
  /** fixed initial sequence numbers instead of seeded ones (e.g. to test wrap-around) */
  isn?: Partial<Record<TcpSide, number>>;
  /** advertised receive window; default 65535 */
  window?: number;
  /** time between consecutive packets emitted by one call; default 10 µs */
  packetSpacingNs?: number;
  /**
   * whole seconds added to every `t`; lets callers pass small relative times, which
   * keep nanosecond precision (a float near 1.8e9 s resolves only ~0.24 µs)
   */
  epochSec?: number;
}

export interface SendOptions {
  /** maximum payload bytes per segment; default 1448 (Ethernet MSS with TCP timestamps) */
  mss?: number;
}

/**
 * A fault applied to the segment with index `segment` of the plain MSS
 * segmentation of one send:
 * - retransmit: the segment is sent again right after itself (same seq, same bytes);
 * - reorder: segments `segment` and `segment + 1` go out in swapped order (with
 *   their retransmissions; several reorders swap positions in plan order);
 * - drop: capture loss — the segment reaches the receiver (its ACKs cover it) but
 *   is not written; a retransmission of it still is;
 * - overlap: segment `segment + 1` is replaced by one that starts in the middle of
 *   segment `segment` and runs to the end of `segment + 1` (old bytes then new
 *   bytes; it may be longer than the MSS).
 */
export type SegmentFault =
  | { kind: 'retransmit'; segment: number }
  | { kind: 'reorder'; segment: number }
  | { kind: 'drop'; segment: number }
  | { kind: 'overlap'; segment: number };

const DEFAULT_MSS = 1448;
const DEFAULT_SPACING_NS = 10_000;
/** The receiver acknowledges after this many data segments (delayed ACK), and after the last. */
const SEGMENTS_PER_ACK = 2;

/** Byte range [start, end) of one send's data, and whether the capture sees it. */
interface Transmission {
  start: number;
  end: number;
  captured: boolean;
}

const other = (side: TcpSide): TcpSide => (side === 'client' ? 'server' : 'client');

function endpointSeed(client: Endpoint, server: Endpoint): number {
  let hash = 0x811c9dc5;
  for (const v of [ipOf(client.ip), client.port, ipOf(server.ip), server.port]) {
    hash = Math.imul(hash ^ v, 0x9e3779b1) >>> 0;
  }
  return hash;
}

export class TcpSession {
  private readonly endpoints: Record<TcpSide, Endpoint>;
  private readonly isn: Record<TcpSide, number>;
  /** next sequence number each side will send (mod 2^32) */
  private readonly nextSeq: Record<TcpSide, number>;
  private readonly ipId: Record<TcpSide, number>;
  private readonly window: number;
  private readonly spacingNs: number;
  private readonly epochSec: number;
  private state: 'new' | 'open' | 'closed' = 'new';
  private clockSec = 0;
  private clockNsec = 0;

  constructor(
    opts: TcpSessionOptions,
    private readonly emit: IpPacketSink,
  ) {
    // addresses parsed once, not per packet
    this.endpoints = {
      client: { ip: ipOf(opts.client.ip), port: opts.client.port },
      server: { ip: ipOf(opts.server.ip), port: opts.server.port },
    };
    const rng = new Random(opts.seed ?? endpointSeed(this.endpoints.client, this.endpoints.server));
    const random = () => rng.u32();
    const seeded = { client: random(), server: random() };
    this.isn = { client: (opts.isn?.client ?? seeded.client) >>> 0, server: (opts.isn?.server ?? seeded.server) >>> 0 };
    this.ipId = { client: random() & 0xffff, server: random() & 0xffff };
    // without a captured handshake the stream simply starts after the SYNs
    this.nextSeq = { client: (this.isn.client + 1) >>> 0, server: (this.isn.server + 1) >>> 0 };
    this.window = opts.window ?? 65535;
    this.spacingNs = opts.packetSpacingNs ?? DEFAULT_SPACING_NS;
    this.epochSec = opts.epochSec ?? 0;
  }

  /** SYN, SYN-ACK, ACK. Only before any other packet of the session. */
  handshake(t: number): void {
    if (this.state !== 'new') throw new Error('TCP handshake after the connection carried packets');
    this.begin(t);
    this.packet('client', this.isn.client, 0, TCP.SYN);
    this.packet('server', this.isn.server, this.nextSeq.client, TCP.SYN | TCP.ACK);
    this.packet('client', this.nextSeq.client, this.nextSeq.server, TCP.ACK);
  }

  /** `data` cut into MSS-sized PSH|ACK segments, with the other side's ACKs. */
  send(from: TcpSide, t: number, data: Uint8Array, opts: SendOptions = {}): void {
    this.sendSegments(from, t, data, [], opts);
  }

  /** Like send(), with the faults of `plan` applied to the segment sequence. */
  sendSegments(from: TcpSide, t: number, data: Uint8Array, plan: SegmentFault[], opts: SendOptions = {}): void {
    this.begin(t);
    const to = other(from);
    const base = this.nextSeq[from];
    const transmissions = planTransmissions(data.length, opts.mss ?? DEFAULT_MSS, plan);

    // the receiver's cumulative ACK: contiguous bytes received so far; ranges that
    // arrived ahead of a gap wait in `ahead` (sorted by start)
    let contiguous = 0;
    const ahead: Array<[number, number]> = [];
    transmissions.forEach((tx, index) => {
      if (tx.captured) {
        this.packet(from, base + tx.start, this.nextSeq[to], TCP.PSH | TCP.ACK, data.subarray(tx.start, tx.end));
      }
      ahead.push([tx.start, tx.end]);
      ahead.sort((a, b) => a[0] - b[0]);
      while (ahead.length > 0 && ahead[0]![0] <= contiguous) {
        contiguous = Math.max(contiguous, ahead.shift()![1]);
      }
      if ((index + 1) % SEGMENTS_PER_ACK === 0 || index === transmissions.length - 1) {
        this.packet(to, this.nextSeq[to], base + contiguous, TCP.ACK);
      }
    });
    this.nextSeq[from] = (base + data.length) >>> 0;
  }

  /** FIN|ACK from `from`, FIN|ACK back, final ACK. */
  close(from: TcpSide, t: number): void {
    this.begin(t);
    const to = other(from);
    this.packet(from, this.nextSeq[from], this.nextSeq[to], TCP.FIN | TCP.ACK);
    this.nextSeq[from] = (this.nextSeq[from] + 1) >>> 0;
    this.packet(to, this.nextSeq[to], this.nextSeq[from], TCP.FIN | TCP.ACK);
    this.nextSeq[to] = (this.nextSeq[to] + 1) >>> 0;
    this.packet(from, this.nextSeq[from], this.nextSeq[to], TCP.ACK);
    this.state = 'closed';
  }

  /** A single RST|ACK from `from`. */
  reset(from: TcpSide, t: number): void {
    this.begin(t);
    this.packet(from, this.nextSeq[from], this.nextSeq[other(from)], TCP.RST | TCP.ACK);
    this.state = 'closed';
  }

  private begin(t: number): void {
    if (this.state === 'closed') throw new Error('TCP session already closed');
    this.state = 'open';
    const { sec, nsec } = timestampFromSeconds(t);
    this.clockSec = this.epochSec + sec;
    this.clockNsec = nsec;
  }

  private packet(from: TcpSide, seq: number, ack: number, flags: number, payload: Uint8Array = new Uint8Array(0)): void {
    const to = other(from);
    const segment = tcpSegment(this.endpoints[from], this.endpoints[to], seq, ack, flags, payload, this.window);
    const ip = ipv4Packet(this.endpoints[from].ip, this.endpoints[to].ip, IP_PROTO_TCP, segment, {
      id: this.ipId[from],
      dontFragment: true,
    });
    this.ipId[from] = (this.ipId[from] + 1) & 0xffff;
    this.emit(this.clockSec, this.clockNsec, ip);
    this.clockNsec += this.spacingNs;
    while (this.clockNsec >= 1e9) {
      this.clockSec += 1;
      this.clockNsec -= 1e9;
    }
  }
}

/** The order in which byte ranges go out for a send of `length` bytes under `plan`. */
function planTransmissions(length: number, mss: number, plan: SegmentFault[]): Transmission[] {
  if (!Number.isInteger(mss) || mss < 1) throw new RangeError(`MSS ${mss} must be a positive integer`);
  // one group per plain segment: its transmissions, kept together when reordered
  const groups: Transmission[][] = [];
  for (let start = 0; start < length; start += mss) {
    groups.push([{ start, end: Math.min(start + mss, length), captured: true }]);
  }
  const plain = groups.map((g) => ({ ...g[0]! }));
  const needs = (fault: SegmentFault, last: number): void => {
    if (!Number.isInteger(fault.segment) || fault.segment < 0 || fault.segment > last) {
      throw new RangeError(`${fault.kind} of segment ${fault.segment}: the send has ${groups.length} segments`);
    }
  };
  const byKind = (kind: SegmentFault['kind']) => plan.filter((f) => f.kind === kind);

  for (const fault of byKind('overlap')) {
    needs(fault, groups.length - 2);
    const earlier = plain[fault.segment]!;
    const replaced = groups[fault.segment + 1]![0]!;
    replaced.start = earlier.start + ((earlier.end - earlier.start) >> 1);
  }
  for (const fault of byKind('drop')) {
    needs(fault, groups.length - 1);
    groups[fault.segment]![0]!.captured = false;
  }
  for (const fault of byKind('retransmit')) {
    needs(fault, groups.length - 1);
    const first = groups[fault.segment]![0]!;
    groups[fault.segment]!.push({ ...first, captured: true });
  }
  for (const fault of byKind('reorder')) {
    needs(fault, groups.length - 2);
    const i = fault.segment;
    [groups[i], groups[i + 1]] = [groups[i + 1]!, groups[i]!];
  }
  return groups.flat();
}
