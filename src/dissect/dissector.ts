// The capture stream decoder (the engine): packets in, protocol events out.
//
// Link layer -> IPv4 (fragments reassembled) -> UDP datagrams and TCP circuits
// -> the protocol handler that claims them (protocol.ts: CA first, by port,
// learned endpoint or content), with a circuit's roles decided by the transport
// (SYN, server endpoint, then the handler's reading of the content, then ports).

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ipv4Offset } from '../capture/link.js';
import { unixSeconds, type PacketSink } from '../capture/types.js';
import { FragmentReassembler, PROTO_TCP, PROTO_UDP, newIpv4View, parseIpv4 } from '../net/ipv4.js';
import { HeldBudget, TcpStream, type TcpLimits } from '../net/tcp.js';
import { TcpFlow, newTcpClock, windowScaleOption } from '../net/tcp-analysis.js';
import { CircuitTable, TcpCircuit, type Closer } from './circuits.js';
import type { CaEvent } from './event.js';
import { newStats, type DissectStats } from './stats.js';
import { resolveOptions, type DatagramView, type DissectOptions, type ResolvedOptions, type SegmentView } from './options.js';
import type { PacketTime, ProtocolHandler } from './protocol.js';
import { DEFAULT_PROTOCOLS } from './registry.js';
import { u16be, u32be } from '../../protocols/bytes.js';

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

/** What a held out-of-order segment costs beyond its bytes (copy + list entry), charged against the held limits. */
const HELD_SEGMENT_COST = 256;

/** Circuits dropped unanswered between two forced collections (a power of two). */
const FLOOD_COLLECT_EVERY = 16_384;

/** A full garbage collection, where V8 allows one to be asked for (else nothing); set up at its first use. */
let gcFunction: (() => void) | undefined;
export function collectGarbage(): void {
  if (!gcFunction) {
    gcFunction = () => {};
    try {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as unknown;
      if (typeof gc === 'function') gcFunction = gc as () => void;
    } catch {
      // no way to ask: V8 collects when it will
    }
  }
  gcFunction();
}

/** Closed circuits stay in the table this long (capture seconds) for late ACKs and retransmissions. */
const CLOSED_LINGER_SEC = 30;

export interface CircuitListener {
  /** a circuit left the table: closed and quiet, evicted, or the capture ended */
  circuitEnded?(c: TcpCircuit): void;
}

export class Dissector implements PacketSink, PacketTime {
  readonly stats: DissectStats = newStats();
  readonly options: ResolvedOptions;
  private readonly circuits = new CircuitTable();
  private nextCircuitId = 1;
  /** closed circuits lingering for late packets, in closing order from closedHead; entries of circuits already retired are skipped */
  private closedQueue: TcpCircuit[] = [];
  private closedHead = 0;
  /**
   * open circuits, oldest first by when they were queued (opened, or found active again), and
   * each one's lastSeen then (a parallel array of numbers: no object per entry): see idlest()
   */
  private ageQueue: TcpCircuit[] = [];
  /** open circuits the server has not sent payload on, oldest first (entries of circuits answered or gone are skipped) */
  private unansweredQueue: TcpCircuit[] = [];
  private unansweredHead = 0;
  private unanswered = 0;
  private ageSeen: number[] = [];
  private ageHead = 0;
  private lastCircuit?: TcpCircuit = undefined;
  /** the protocol handlers, in the order they are asked (see protocol.ts) */
  private readonly handlers: ProtocolHandler[];
  private readonly fragments = new FragmentReassembler();
  private readonly held: HeldBudget;
  /** the limits every stream shares (one object, not one per circuit) */
  private readonly tcpLimits: TcpLimits;
  private readonly ip = newIpv4View();
  /** packets on ports no handler claims, by transport (0 TCP, 1 UDP) * 65536 + service port (see otherPort's callers); made at the first */
  private otherPortPackets: Uint32Array | undefined = undefined;
  /** 1 for a TCP port an unclaimed SYN went to: a server's, whichever end of a later packet it is; made at the first */
  private otherSynPorts: Uint8Array | undefined = undefined;
  /** the packet's time and frame for the TCP analysis (one reused instance) */
  private readonly tcpClock = newTcpClock();
  /** every circuit's TcpFlow while the TCP analysis is off: it counts nothing, and costs no memory per circuit */
  private readonly idleFlow = new TcpFlow();
  /** DissectOptions.segments and its one reused view (undefined: nobody asked) */
  private readonly onSegment: ((s: SegmentView) => void) | undefined;
  private segmentView: SegmentView | undefined = undefined;
  /** DissectOptions.otherDatagrams and its one reused view */
  private readonly onOtherDatagram: ((d: DatagramView) => void) | undefined;
  private datagramView: DatagramView | undefined = undefined;

  // The packet being decoded (PacketTime: the handlers read it from here; events take their time and frame from it).
  sec = 0;
  nsec = 0;
  frame = 0;
  now = 0;

  constructor(
    options: DissectOptions,
    onEvent: (ev: CaEvent) => void,
    private readonly listener: CircuitListener = {},
  ) {
    this.options = resolveOptions(options);
    this.held = new HeldBudget(this.options.maxHeldTotal);
    this.tcpLimits = { maxHeldPerStream: this.options.maxHeldPerStream, heldSegmentCost: HELD_SEGMENT_COST };
    const ctx = { options: this.options, stats: this.stats, packet: this as PacketTime, emit: onEvent };
    this.handlers = (options.protocols ?? DEFAULT_PROTOCOLS).map((make) => make(ctx));
    this.onSegment = options.segments;
    this.onOtherDatagram = options.otherDatagrams;
  }

  packet(frame: number, linkType: number, tsSec: number, tsNsec: number, data: Buffer, offset: number, capLen: number): void {
    const s = this.stats;
    s.packets++;
    this.frame = frame;
    this.sec = tsSec;
    this.nsec = tsNsec;
    this.now = unixSeconds(tsSec, tsNsec);
    if (s.packets === 1) {
      s.firstTime = this.now;
      s.firstSec = tsSec;
      s.firstNsec = tsNsec;
      this.tcpClock.originSec = tsSec; // TCP analysis times count from here, exact to the nanosecond
    }
    s.lastTime = this.now;
    s.lastSec = tsSec;
    s.lastNsec = tsNsec;
    if ((s.packets & 0xffff) === 0) this.maintain();
    const ipOff = ipv4Offset(linkType, data, offset, capLen);
    if (ipOff < 0) {
      if (ipOff === -1) s.nonIp++;
      else s.badFrames++;
      return;
    }
    const ip = this.ip;
    if (!parseIpv4(data, ipOff, offset + capLen, ip)) {
      s.badFrames++;
      return;
    }
    if (ip.protocol !== PROTO_TCP && ip.protocol !== PROTO_UDP) {
      s.otherProtocol++;
      return;
    }
    if (ip.cut) s.cutPackets++;
    let buf = data;
    let off = ip.payloadOffset;
    let len = ip.payloadLength;
    if (ip.moreFragments || ip.fragmentOffset > 0) {
      s.ipFragments++;
      const whole = this.fragments.add(ip, data, this.now);
      s.ipFragmentsDropped = this.fragments.stats.dropped;
      if (!whole) return;
      buf = whole;
      off = 0;
      len = whole.length;
    }
    if (ip.protocol === PROTO_UDP) this.udp(ip.src, ip.dst, buf, off, len);
    else this.tcp(ip.src, ip.dst, buf, off, len, ip.cut, buf === data ? ip.wirePayloadLength : len);
  }

  /** The circuits in the table now (open, or closed and lingering), in the order they were added. */
  openCircuits(): TcpCircuit[] {
    return [...this.circuits.values()];
  }

  /** End of the capture: deliver what is held, report what is incomplete, end every circuit. */
  finish(): void {
    for (const c of [...this.circuits.values()]) this.retire(c);
    this.closedQueue = [];
    this.closedHead = 0;
    this.ageQueue = [];
    this.ageSeen = [];
    this.ageHead = 0;
    this.fragments.finish();
    this.stats.ipFragmentsDropped = this.fragments.stats.dropped;
    if (this.otherPortPackets) this.stats.busiestOtherPorts = busiestPorts(this.otherPortPackets, 3);
    for (const h of this.handlers) h.finish?.();
  }

  // ---- UDP ---------------------------------------------------------------

  private udp(srcIp: number, dstIp: number, buf: Buffer, off: number, len: number): void {
    if (len < 8) {
      this.stats.badFrames++;
      return;
    }
    const sport = u16be(buf, off);
    const dport = u16be(buf, off + 2);
    const udpLen = u16be(buf, off + 4);
    const payLen = Math.min(len, udpLen >= 8 ? udpLen : len) - 8;
    const handlers = this.handlers;
    for (let i = 0; i < handlers.length; i++) {
      if (handlers[i]!.datagram(srcIp, sport, dstIp, dport, buf, off + 8, payLen)) {
        this.stats.udpDatagrams++;
        return;
      }
    }
    this.otherPort(1, sport < dport ? sport : dport);
    if (this.onOtherDatagram) {
      const d = (this.datagramView ??= { srcIp: 0, sport: 0, dstIp: 0, dport: 0, buf, off: 0, len: 0, frame: 0, time: 0 });
      d.srcIp = srcIp;
      d.sport = sport;
      d.dstIp = dstIp;
      d.dport = dport;
      d.buf = buf;
      d.off = off + 8;
      d.len = payLen < 0 ? 0 : payLen;
      d.frame = this.frame;
      d.time = this.now;
      this.onOtherDatagram(d);
    }
  }

  /** The likely server port of an unclaimed TCP packet: a SYN's destination, a SYN-ACK's source, a port seen so, else the lower port. */
  private otherTcpServicePort(sport: number, dport: number, flags: number): number {
    const synPorts = (this.otherSynPorts ??= new Uint8Array(65536));
    if (flags & TCP_SYN) {
      const port = flags & TCP_ACK ? sport : dport;
      synPorts[port] = 1;
      return port;
    }
    if (synPorts[dport]) return dport;
    if (synPorts[sport]) return sport;
    return sport < dport ? sport : dport;
  }

  /** A packet no handler claims: counted, and by its likely service port for the end-of-run hint. */
  private otherPort(transport: 0 | 1, port: number): void {
    this.stats.otherPorts++;
    (this.otherPortPackets ??= new Uint32Array(2 * 65536))[transport * 65536 + port]++;
  }

  // ---- TCP ---------------------------------------------------------------

  /** The handler of a new circuit: the first whose server endpoint is either end, else the first heuristic one that reads the payload as its own. */
  private claimCircuit(srcIp: number, sport: number, dstIp: number, dport: number, buf: Buffer, payOff: number, payLen: number): ProtocolHandler | undefined {
    const handlers = this.handlers;
    for (let i = 0; i < handlers.length; i++) {
      const h = handlers[i]!;
      if (h.isServerEndpoint(dstIp, dport) || h.isServerEndpoint(srcIp, sport)) return h;
    }
    if (payLen === 0) return undefined;
    for (let i = 0; i < handlers.length; i++) {
      const h = handlers[i]!;
      if (h.heuristic && h.senderRole(buf, payOff, payLen) !== undefined) return h;
    }
    return undefined;
  }

  /** `len` bytes of TCP segment at `off`; `wireLen` is its length on the wire (more when cut by the snapshot length). */
  private tcp(srcIp: number, dstIp: number, buf: Buffer, off: number, len: number, cut: boolean, wireLen: number): void {
    if (len < 20) {
      this.stats.badFrames++;
      return;
    }
    const sport = u16be(buf, off);
    const dport = u16be(buf, off + 2);
    const seq = u32be(buf, off + 4);
    const ack = u32be(buf, off + 8);
    const dataOff = (buf[off + 12]! >> 4) * 4;
    const flags = buf[off + 13]!;
    if (dataOff < 20 || dataOff > len) {
      this.stats.badFrames++;
      return;
    }
    const payOff = off + dataOff;
    const payLen = len - dataOff;
    // Consecutive packets are mostly of one connection: check the last one before the table.
    const last = this.lastCircuit;
    let c = last && last.joins(srcIp, sport, dstIp, dport) ? last : this.circuits.get(srcIp, sport, dstIp, dport);
    const syn = (flags & TCP_SYN) !== 0;
    if (c && syn && !(flags & TCP_ACK) && c.closed) {
      // The 4-tuple is reused by a new connection (its closed-queue entry is skipped later).
      this.retire(c);
      c = undefined;
    }
    if (!c) {
      const handler = this.claimCircuit(srcIp, sport, dstIp, dport, buf, payOff, payLen);
      if (!handler) {
        this.otherPort(0, this.otherTcpServicePort(sport, dport, flags));
        return;
      }
      // Do not open a circuit for a stray ACK/FIN of a connection already gone.
      if (!syn && payLen === 0) {
        this.stats.tcpSegments++;
        return;
      }
      c = this.openCircuit(handler, srcIp, sport, dstIp, dport, flags, buf, payOff, payLen);
    }
    this.stats.tcpSegments++;
    this.lastCircuit = c;
    c.lastSeen = this.now;
    const fromClient = c.clientIp === srcIp && c.clientPort === sport && !(srcIp === dstIp && sport === dport);
    const half = fromClient ? c.toServer : c.toClient;
    const other = fromClient ? c.toClient : c.toServer;
    half.wireBytes += len;
    if (syn) {
      half.stream.syn(seq);
      if (flags & TCP_ACK) {
        if (c.synAckTime === undefined) {
          c.synAckTime = this.now;
          c.synAckSec = this.sec;
          c.synAckNsec = this.nsec;
          c.synAckFrame = this.frame;
        }
      } else if (c.synTime === undefined) {
        c.synTime = this.now;
        c.synSec = this.sec;
        c.synNsec = this.nsec;
        c.synFrame = this.frame;
      }
    }
    if (flags & TCP_ACK) other.stream.ack(ack);
    let newBytes = 0;
    if (payLen > 0) {
      if (!fromClient && !c.answered) {
        c.answered = true;
        this.unanswered--;
      }
      // This direction's first data: its framer is made now (a circuit that carries none costs none).
      const framer = (half.framer ??= c.handler.stream(half));
      newBytes = half.stream.segment(seq, buf, payOff, payLen);
      // A segment cut by the snapshot length lost its tail: treat it as a gap.
      if (cut) framer.gap();
    }
    let analysis = 0;
    if (this.options.tcpAnalysis) {
      if (syn) half.tcp.synOptions(other.tcp, (flags & TCP_ACK) !== 0, windowScaleOption(buf, off + 20, payOff));
      const clock = this.tcpClock;
      clock.sec = this.sec - clock.originSec;
      clock.nsec = this.nsec;
      clock.frame = this.frame;
      // seq and ack as int32 (a float passed to a call is boxed), the window field written out (no call)
      analysis = half.tcp.segment(other.tcp, seq | 0, ack | 0, flags, (buf[off + 14]! << 8) | buf[off + 15]!, wireLen - dataOff, newBytes, clock);
    }
    if (this.onSegment) this.segment(c, fromClient, seq, ack, flags, (buf[off + 14]! << 8) | buf[off + 15]!, wireLen - dataOff, analysis);
    if (flags & TCP_RST) {
      if (!c.endedBy) {
        c.endedBy = 'rst';
        c.rstBy = fromClient ? 'client' : 'server';
        if (!c.closer) this.closing(c, c.rstBy);
        c.endTime = this.now;
        c.endSec = this.sec;
        c.endNsec = this.nsec;
        c.endFrame = this.frame;
        this.closedQueue.push(c);
      }
    } else if (flags & TCP_FIN && !half.fin) {
      half.fin = true;
      if (!c.closer) this.closing(c, fromClient ? 'client' : 'server');
      if (c.closed && !c.endedBy) {
        c.endedBy = 'fin';
        c.endTime = this.now;
        c.endSec = this.sec;
        c.endNsec = this.nsec;
        c.endFrame = this.frame;
        this.closedQueue.push(c);
      }
    }
  }

  /** Tells DissectOptions.segments of a segment, in the one reused view. */
  private segment(c: TcpCircuit, fromClient: boolean, seq: number, ack: number, flags: number, window: number, len: number, analysis: number): void {
    const v = (this.segmentView ??= { circuit: c, fromClient, seq: 0, ack: 0, flags: 0, window: 0, len: 0, analysis: 0, frame: 0, sec: 0, nsec: 0, time: 0 });
    v.circuit = c;
    v.fromClient = fromClient;
    v.seq = seq;
    v.ack = ack;
    v.flags = flags;
    v.window = window;
    v.len = len;
    v.analysis = analysis;
    v.frame = this.frame;
    v.sec = this.sec;
    v.nsec = this.nsec;
    v.time = this.now;
    this.onSegment!(v);
  }

  /** The first FIN, or a RST before any FIN: who closed the circuit, when, in which frame. */
  private closing(c: TcpCircuit, closer: Closer): void {
    c.closer = closer;
    c.closeTime = this.now;
    c.closeFrame = this.frame;
  }

  private openCircuit(
    handler: ProtocolHandler,
    srcIp: number,
    sport: number,
    dstIp: number,
    dport: number,
    flags: number,
    buf: Buffer,
    payOff: number,
    payLen: number,
  ): TcpCircuit {
    // Who is the client: the SYN's sender; else the side that is not a server endpoint; else content; else ports.
    let srcIsClient: boolean;
    let evidence: TcpCircuit['roleEvidence'];
    const syn = (flags & TCP_SYN) !== 0;
    const srcServer = handler.isServerEndpoint(srcIp, sport);
    const dstServer = handler.isServerEndpoint(dstIp, dport);
    const role = syn ? undefined : handler.senderRole(buf, payOff, payLen);
    if (syn) {
      srcIsClient = !(flags & TCP_ACK);
      evidence = 'syn';
    } else if (srcServer !== dstServer) {
      srcIsClient = dstServer;
      evidence = 'server-port';
    } else if (role) {
      srcIsClient = role === 'client';
      evidence = 'content';
    } else {
      srcIsClient = sport > dport;
      evidence = 'port-order';
    }
    const c = new TcpCircuit(
      this.nextCircuitId++,
      srcIsClient ? srcIp : dstIp,
      srcIsClient ? sport : dport,
      srcIsClient ? dstIp : srcIp,
      srcIsClient ? dport : sport,
      this.now,
      this.sec,
      this.nsec,
      evidence,
      handler,
    );
    c.toServer.stream = new TcpStream(c.toServer, this.tcpLimits, this.held);
    c.toClient.stream = new TcpStream(c.toClient, this.tcpLimits, this.held);
    c.toServer.tcp = this.options.tcpAnalysis ? new TcpFlow() : this.idleFlow;
    c.toClient.tcp = this.options.tcpAnalysis ? new TcpFlow() : this.idleFlow;
    if (this.circuits.size >= this.options.maxCircuits) this.evictCircuit();
    if (this.unanswered >= this.options.maxUnansweredCircuits) this.evictUnanswered();
    this.unanswered++;
    this.unansweredQueue.push(c);
    if (this.unansweredQueue.length > 2 * this.unanswered + 1024) {
      this.unansweredQueue = this.unansweredQueue.slice(this.unansweredHead).filter((u) => !u.answered && this.circuits.has(u));
      this.unansweredHead = 0;
    }
    this.circuits.add(c);
    this.stats.circuits++;
    this.ageQueue.push(c);
    this.ageSeen.push(c.lastSeen);
    if (this.ageQueue.length > 2 * this.circuits.size + 1024) this.compactAgeQueue();
    return c;
  }

  /** Takes a circuit out of the table: flush its streams, count their losses, tell the listener. */
  private retire(c: TcpCircuit): void {
    if (this.lastCircuit === c) this.lastCircuit = undefined;
    // Counted out of the unanswered once: when it leaves the table.
    if (this.circuits.delete(c) && !c.answered) this.unanswered--;
    const s = this.stats;
    for (const half of [c.toServer, c.toClient]) {
      half.stream.flush();
      half.framer?.end();
      half.tcp.finish();
      const st = half.stream.stats;
      s.retransmissions += half.tcp.events.retransmissions;
      s.outOfOrder += half.tcp.events.outOfOrder;
      s.gaps += st.gaps;
      s.gapBytes += st.gapBytes;
    }
    this.listener.circuitEnded?.(c);
  }

  /** Too many circuits the server has not answered: drop the oldest of them. */
  private evictUnanswered(): void {
    const q = this.unansweredQueue;
    while (this.unansweredHead < q.length) {
      const c = q[this.unansweredHead++]!;
      if (c.answered || !this.circuits.has(c)) continue;
      this.stats.unansweredEvicted++;
      this.retire(c);
      // A flood makes each dropped circuit garbage at once: collect it now and then rather than let
      // the heap grow to V8's next limit (a capture without a flood never comes here).
      if ((this.stats.unansweredEvicted & (FLOOD_COLLECT_EVERY - 1)) === 0) collectGarbage();
      return;
    }
  }

  /** Takes the circuit closed longest ago off the closed queue (no array shifts: a head index, compacted now and then). */
  private oldestClosed(): TcpCircuit | undefined {
    const q = this.closedQueue;
    let victim: TcpCircuit | undefined;
    while (!victim && this.closedHead < q.length) {
      const c = q[this.closedHead++]!;
      if (this.circuits.has(c)) victim = c;
    }
    this.compactClosed();
    return victim;
  }

  private compactClosed(): void {
    if (this.closedHead > 1024 && this.closedHead * 2 > this.closedQueue.length) {
      this.closedQueue = this.closedQueue.slice(this.closedHead);
      this.closedHead = 0;
    }
  }

  /**
   * The first circuit in the age queue not seen since it was queued; one seen since
   * goes to the back. Amortised O(1) per eviction (a scan of the table for the
   * smallest lastSeen made a flood of new flows quadratic).
   */
  private idlest(): TcpCircuit | undefined {
    const q = this.ageQueue;
    const seen = this.ageSeen;
    while (this.ageHead < q.length) {
      const i = this.ageHead++;
      const c = q[i]!;
      if (!this.circuits.has(c)) continue;
      if (c.lastSeen === seen[i]) return c;
      q.push(c);
      seen.push(c.lastSeen);
    }
    return undefined;
  }

  /** Drops the entries already passed and those of circuits gone, so the queue stays within the table's size. */
  private compactAgeQueue(): void {
    const q: TcpCircuit[] = [];
    const seen: number[] = [];
    for (let i = this.ageHead; i < this.ageQueue.length; i++) {
      const c = this.ageQueue[i]!;
      if (!this.circuits.has(c)) continue;
      q.push(c);
      seen.push(this.ageSeen[i]!);
    }
    this.ageQueue = q;
    this.ageSeen = seen;
    this.ageHead = 0;
  }


  /** Periodic housekeeping: retire circuits closed a while ago, expire IP fragments. */
  private maintain(): void {
    const q = this.closedQueue;
    while (this.closedHead < q.length && this.now - q[this.closedHead]!.endTime! > CLOSED_LINGER_SEC) {
      const c = q[this.closedHead++]!;
      if (this.circuits.has(c)) this.retire(c);
    }
    this.compactClosed();
    this.fragments.expire(this.now);
  }

  /** Table full: drop a closed circuit if there is one, else one idle long. */
  private evictCircuit(): void {
    const victim = this.oldestClosed() ?? this.idlest();
    if (!victim) return;
    this.stats.circuitsEvicted++;
    this.retire(victim);
  }
}

/** The `n` ports with the most packets in a table by transport * 65536 + port, busiest first. */
function busiestPorts(table: Uint32Array, n: number): DissectStats['busiestOtherPorts'] {
  const top: DissectStats['busiestOtherPorts'] = [];
  for (let i = 0; i < table.length; i++) {
    const packets = table[i]!;
    if (packets === 0 || (top.length === n && packets <= top[n - 1]!.packets)) continue;
    if (top.length === n) top.pop();
    let at = top.length;
    while (at > 0 && top[at - 1]!.packets < packets) at--;
    top.splice(at, 0, { transport: i < 65536 ? 'tcp' : 'udp', port: i & 0xffff, packets });
  }
  return top;
}
