// The capture stream decoder: packets in, CA message events out.
//
// Link layer -> IPv4 (fragments reassembled) -> UDP datagrams and TCP circuits
// on CA ports -> CA framing -> typed messages, with the sender's role decided by
// the transport (SYN, server port, learned server endpoints, then content).

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ipv4Offset } from '../capture/link.js';
import { unixSeconds, type PacketSink } from '../capture/types.js';
import { SearchNames, isMonitorUpdate, type CircuitLimits } from '../../protocols/ca/circuit.js';
import { ANY_ADDRESS, CMD, EXTENDED_HEADER_SIZE } from '../../protocols/ca/constants.js';
import { AssemblyPool, StreamFramer, frameDatagram, type FrameSink, type FramerLimits, type HeaderView, type MalformedReason } from '../../protocols/ca/framing.js';
import {
  Beacon,
  SearchRequest,
  SearchResponse,
  decodeMessage,
  emptyRegistration,
  type CaMessage,
} from '../../protocols/ca/messages.js';
import { FragmentReassembler, PROTO_TCP, PROTO_UDP, newIpv4View, parseIpv4 } from '../net/ipv4.js';
import { HeldBudget, TcpStream, type TcpLimits } from '../net/tcp.js';
import { TcpFlow, newTcpClock, windowScaleOption } from '../net/tcp-analysis.js';
import { CircuitTable, Half, TcpCircuit, endpointKey, type Closer } from './circuits.js';
import { senderRoleFromContent } from './direction.js';
import { CaEvent } from './event.js';
import { newStats, type DissectStats } from './stats.js';
import { WANTED_CODES, resolveOptions, type DeclinedMessage, type DissectOptions, type ResolvedOptions } from './options.js';
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
function collectGarbage(): void {
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

/** UDP datagram being framed (one reused instance). */
interface Datagram {
  srcIp: number;
  sport: number;
  dstIp: number;
  dport: number;
  fromClient: boolean;
}

export class Dissector implements PacketSink {
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
  /** server TCP endpoints learned from search replies and beacons */
  private readonly learnedServers = new Set<number>();
  /** client UDP sockets learned from searches and repeater registrations */
  private readonly clientSockets = new Set<number>();
  private readonly searchNames: SearchNames;
  private readonly fragments = new FragmentReassembler();
  private readonly held: HeldBudget;
  /** bytes of incomplete messages the framers hold, all circuits together */
  private readonly assembling: HeldBudget;
  /** what every framer shares: limits, that budget, the pool of assembly buffers */
  private readonly framerLimits: FramerLimits;
  /** the limits every stream and every circuit's id tables share (one object each, not one per circuit) */
  private readonly tcpLimits: TcpLimits;
  private readonly circuitLimits: CircuitLimits;
  private readonly ip = newIpv4View();
  private readonly header: HeaderView = { command: 0, payloadSize: 0, dataType: 0, dataCount: 0, headerSize: 0 };
  private readonly dgram: Datagram = { srcIp: 0, sport: 0, dstIp: 0, dport: 0, fromClient: false };
  /** the packet's time and frame for the TCP analysis (one reused instance) */
  private readonly tcpClock = newTcpClock();
  /** every circuit's TcpFlow while the TCP analysis is off: it counts nothing, and costs no memory per circuit */
  private readonly idleFlow = new TcpFlow();
  private declinedView?: DeclinedMessage;

  // The packet being decoded: events take their time and frame from it.
  private sec = 0;
  private nsec = 0;
  private frame = 0;
  private now = 0;

  private readonly tcpSink: FrameSink<Half>;
  private readonly udpSink: FrameSink<Datagram>;

  constructor(
    options: DissectOptions,
    private readonly onEvent: (ev: CaEvent) => void,
    private readonly listener: CircuitListener = {},
  ) {
    this.options = resolveOptions(options);
    this.searchNames = new SearchNames(this.options.maxSearchIds);
    this.held = new HeldBudget(this.options.maxHeldTotal);
    this.assembling = new HeldBudget(this.options.maxMessageBytesTotal);
    this.framerLimits = { maxMessageBytes: this.options.maxMessageBytes, budget: this.assembling, pool: new AssemblyPool() };
    this.tcpLimits = { maxHeldPerStream: this.options.maxHeldPerStream, heldSegmentCost: HELD_SEGMENT_COST };
    this.circuitLimits = { maxIdsPerCircuit: this.options.maxIdsPerCircuit };
    this.tcpSink = {
      message: (half, buf, off, hs, ps) => this.tcpMessage(half, buf, off, hs, ps),
      malformed: (_half, reason, bytes) => this.malformed(reason, bytes),
    };
    this.udpSink = {
      message: (d, buf, off, hs, ps) => this.udpMessage(d, buf, off, hs, ps),
      malformed: (_d, reason, bytes) => this.malformed(reason, bytes),
    };
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
      this.tcpClock.originSec = tsSec; // TCP analysis times count from here, exact to the nanosecond
    }
    s.lastTime = this.now;
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
    const o = this.options;
    const srcKey = endpointKey(srcIp, sport);
    const dstKey = endpointKey(dstIp, dport);
    const toServer = o.serverPorts.has(dport);
    const fromServer = o.serverPorts.has(sport);
    const toRepeater = dport === o.repeaterPort;
    const fromRepeater = sport === o.repeaterPort;
    let fromClient: boolean;
    if (toServer !== fromServer) fromClient = toServer;
    else if (toRepeater || fromRepeater) fromClient = toRepeater && !fromRepeater;
    else if (this.clientSockets.has(dstKey)) fromClient = srcKey === dstKey; // repeater fan-out, or a client waking itself
    else if (this.clientSockets.has(srcKey)) fromClient = true;
    else if (toServer) fromClient = sport > dport;
    else {
      this.stats.otherPorts++;
      return;
    }
    this.stats.udpDatagrams++;
    if (payLen === 0) {
      // libca's REPEATER_REGISTER on Linux is an empty datagram to the repeater port. An empty datagram to a
      // port of --ports is one too (a site's repeater on 5067 listed with its servers' 5066): it means nothing
      // to a server. Registering the client's socket lets its repeater's confirm and relayed beacons decode.
      if (toRepeater || (toServer && dport !== o.serverPort)) {
        this.rememberClientSocket(srcKey);
        this.emitUdp(srcIp, sport, dstIp, dport, emptyRegistration(), undefined);
      }
      return;
    }
    const d = this.dgram;
    d.srcIp = srcIp;
    d.sport = sport;
    d.dstIp = dstIp;
    d.dport = dport;
    d.fromClient = fromClient;
    frameDatagram(this.udpSink, d, buf, off + 8, payLen, this.header);
  }

  private udpMessage(d: Datagram, buf: Buffer, off: number, hs: number, ps: number): void {
    const m = this.decode(buf, off, hs, ps, d.fromClient, true);
    let pv: string | undefined;
    if (m instanceof SearchRequest) {
      const client = endpointKey(d.srcIp, d.sport);
      this.rememberClientSocket(client);
      const evicted = this.searchNames.evicted;
      pv = this.searchNames.request(client, m);
      this.stats.idsEvicted += this.searchNames.evicted - evicted;
    } else if (m instanceof SearchResponse) {
      pv = this.searchNames.reply(endpointKey(d.dstIp, d.dport), m);
      const ip = m.parameter1 === ANY_ADDRESS ? d.srcIp : m.parameter1;
      this.learnServer(ip, m.port);
    } else if (m instanceof Beacon) {
      this.learnServer(m.parameter2 || d.srcIp, m.server_port || this.options.serverPort);
    } else if (m.command === CMD.REPEATER_REGISTER) {
      this.rememberClientSocket(endpointKey(d.srcIp, d.sport));
    }
    this.emitUdp(d.srcIp, d.sport, d.dstIp, d.dport, m, pv);
  }

  private emitUdp(srcIp: number, sport: number, dstIp: number, dport: number, m: CaMessage, pv: string | undefined): void {
    this.stats.caMessages++;
    this.onEvent(new CaEvent(this.sec, this.nsec, this.frame, srcIp, sport, dstIp, dport, 'udp', m, pv, undefined));
  }

  private learnServer(ip: number, port: number): void {
    if (port === 0 || !this.options.learnPorts) return;
    const key = endpointKey(ip, port);
    if (this.learnedServers.has(key)) return;
    if (this.learnedServers.size >= this.options.maxLearned) this.learnedServers.delete(this.learnedServers.values().next().value!);
    this.learnedServers.add(key);
  }

  private rememberClientSocket(key: number): void {
    if (this.clientSockets.has(key)) return;
    if (this.clientSockets.size >= this.options.maxLearned) this.clientSockets.delete(this.clientSockets.values().next().value!);
    this.clientSockets.add(key);
  }

  // ---- TCP ---------------------------------------------------------------

  private isServerEndpoint(ip: number, port: number): boolean {
    return this.options.serverPorts.has(port) || this.learnedServers.has(endpointKey(ip, port));
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
      if (!this.isServerEndpoint(dstIp, dport) && !this.isServerEndpoint(srcIp, sport)) {
        this.stats.otherPorts++;
        return;
      }
      // Do not open a circuit for a stray ACK/FIN of a connection already gone.
      if (!syn && payLen === 0) {
        this.stats.tcpSegments++;
        return;
      }
      c = this.openCircuit(srcIp, sport, dstIp, dport, flags, buf, payOff, payLen);
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
          c.synAckFrame = this.frame;
        }
      } else if (c.synTime === undefined) {
        c.synTime = this.now;
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
      const framer = (half.framer ??= this.newFramer(half));
      newBytes = half.stream.segment(seq, buf, payOff, payLen);
      // A segment cut by the snapshot length lost its tail: treat it as a gap.
      if (cut) framer.gap();
    }
    if (this.options.tcpAnalysis) {
      if (syn) half.tcp.synOptions(other.tcp, (flags & TCP_ACK) !== 0, windowScaleOption(buf, off + 20, payOff));
      const clock = this.tcpClock;
      clock.sec = this.sec - clock.originSec;
      clock.nsec = this.nsec;
      clock.frame = this.frame;
      // seq and ack as int32 (a float passed to a call is boxed), the window field written out (no call)
      half.tcp.segment(other.tcp, seq | 0, ack | 0, flags, (buf[off + 14]! << 8) | buf[off + 15]!, wireLen - dataOff, newBytes, clock);
    }
    if (flags & TCP_RST) {
      if (!c.endedBy) {
        c.endedBy = 'rst';
        c.rstBy = fromClient ? 'client' : 'server';
        if (!c.closer) this.closing(c, c.rstBy);
        c.endTime = this.now;
        c.endFrame = this.frame;
        this.closedQueue.push(c);
      }
    } else if (flags & TCP_FIN && !half.fin) {
      half.fin = true;
      if (!c.closer) this.closing(c, fromClient ? 'client' : 'server');
      if (c.closed && !c.endedBy) {
        c.endedBy = 'fin';
        c.endTime = this.now;
        c.endFrame = this.frame;
        this.closedQueue.push(c);
      }
    }
  }

  /** The first FIN, or a RST before any FIN: who closed the circuit, when, in which frame. */
  private closing(c: TcpCircuit, closer: Closer): void {
    c.closer = closer;
    c.closeTime = this.now;
    c.closeFrame = this.frame;
  }

  private openCircuit(
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
    const srcServer = this.isServerEndpoint(srcIp, sport);
    const dstServer = this.isServerEndpoint(dstIp, dport);
    const role = syn ? undefined : senderRoleFromContent(buf, payOff, payLen);
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
      evidence,
      this.circuitLimits,
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

  /** A direction's framer, made at its first payload byte; it checks its first data when the circuit was joined without its SYN. */
  private newFramer(half: Half): StreamFramer<Half> {
    return new StreamFramer(this.tcpSink, half, this.framerLimits, half.circuit.roleEvidence !== 'syn');
  }

  /** Returns false when no object keeps `buf` (the message was declined, or copied): see FrameSink.message. */
  private tcpMessage(half: Half, buf: Buffer, off: number, hs: number, ps: number): boolean {
    const c = half.circuit;
    const command = u16be(buf, off);
    const fromClient = half.fromClient;
    half.caMessages++;
    this.stats.caMessages++;
    if (command < WANTED_CODES && this.options.wanted[command * 2 + (fromClient ? 1 : 0)] === 0 && !this.takenBack(half, buf, off, hs, command, ps)) {
      // Not wanted by the consumer: the circuit's state from the header words alone, no objects
      // (and no PV lookup for a monitor update, whose PV nobody asks for).
      if (isMonitorUpdate(command, fromClient, ps)) return false;
      const before = c.ca.evicted;
      c.ca.observe(undefined, fromClient, command, u32be(buf, off + 8), u32be(buf, off + 12), ps);
      this.stats.idsEvicted += c.ca.evicted - before;
      return false;
    }
    const m = this.decode(buf, off, hs, ps, fromClient, false);
    const before = c.ca.evicted;
    const pv = c.ca.observe(m, fromClient, command, u32be(buf, off + 8), u32be(buf, off + 12), ps);
    this.stats.idsEvicted += c.ca.evicted - before;
    const ev = half.fromClient
      ? new CaEvent(this.sec, this.nsec, this.frame, c.clientIp, c.clientPort, c.serverIp, c.serverPort, 'tcp', m, pv, c)
      : new CaEvent(this.sec, this.nsec, this.frame, c.serverIp, c.serverPort, c.clientIp, c.clientPort, 'tcp', m, pv, c);
    this.onEvent(ev);
    return !this.options.copyMessages;
  }

  /** The message object: on a view of `buf`, or on a copy of its bytes (DissectOptions.copyMessages). */
  private decode(buf: Buffer, off: number, hs: number, ps: number, fromClient: boolean, udp: boolean): CaMessage {
    if (!this.options.copyMessages) return decodeMessage(buf, off, hs, ps, fromClient, udp);
    const own = Buffer.allocUnsafe(hs + ps);
    buf.copy(own, 0, off, off + hs + ps);
    return decodeMessage(own, 0, hs, ps, fromClient, udp);
  }

  /** Offers a declined message to options.declined; true when the consumer wants it whole after all. */
  private takenBack(half: Half, buf: Buffer, off: number, hs: number, command: number, ps: number): boolean {
    const declined = this.options.declined;
    if (declined === undefined) return false;
    const d = (this.declinedView ??= {
      command: 0,
      fromClient: false,
      payloadSize: 0,
      dataType: 0,
      dataCount: 0,
      parameter1: 0,
      parameter2: 0,
      circuit: half.circuit,
      sec: 0,
      nsec: 0,
      time: 0,
      frame: 0,
    });
    d.command = command;
    d.fromClient = half.fromClient;
    d.payloadSize = ps;
    d.dataType = u16be(buf, off + 4);
    // An extended header (24 bytes) carries data_count in its last word.
    d.dataCount = hs === EXTENDED_HEADER_SIZE ? u32be(buf, off + 20) : u16be(buf, off + 6);
    d.parameter1 = u32be(buf, off + 8);
    d.parameter2 = u32be(buf, off + 12);
    d.circuit = half.circuit;
    d.sec = this.sec;
    d.nsec = this.nsec;
    d.time = this.now;
    d.frame = this.frame;
    return declined(d);
  }

  private malformed(reason: MalformedReason, bytes: number): void {
    const m = this.stats.malformed[reason];
    m.count++;
    m.bytes += bytes;
  }

  /** Takes a circuit out of the table: flush its streams, count their losses, tell the listener. */
  private retire(c: TcpCircuit): void {
    if (this.lastCircuit === c) this.lastCircuit = undefined;
    this.circuits.delete(c);
    if (!c.answered) {
      c.answered = true; // counted out once
      this.unanswered--;
    }
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
