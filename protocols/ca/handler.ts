// The CA protocol handler (src/dissect/protocol.ts): which UDP datagrams and TCP
// circuits are CA, who is client and server, the endpoints CA traffic teaches
// (servers from search replies and beacons, client sockets from searches and
// repeater registrations), framing into messages, and the events.

import type { Half, TcpCircuit } from '../../src/dissect/circuits.js';
import { endpointKey } from '../../src/dissect/circuits.js';
import { CaEvent } from '../../src/dissect/event.js';
import { WANTED_CODES, type DeclinedMessage, type ResolvedOptions } from '../../src/dissect/options.js';
import type { HandlerContext, PacketTime, ProtocolHandler, Role } from '../../src/dissect/protocol.js';
import type { DissectStats } from '../../src/dissect/stats.js';
import { HeldBudget } from '../../src/net/tcp.js';
import { u16be, u32be } from '../bytes.js';
import { CircuitState, SearchNames, isMonitorUpdate, type CircuitLimits } from './circuit.js';
import { ANY_ADDRESS, CMD, EXTENDED_HEADER_SIZE } from './constants.js';
import { senderRoleFromContent } from './direction.js';
import { littleDecodedHint } from './hint.js';
import { AssemblyPool, StreamFramer, frameDatagram, type FrameSink, type FramerLimits, type HeaderView, type MalformedReason } from './framing.js';
import { Beacon, SearchRequest, SearchResponse, decodeMessage, emptyRegistration, type CaMessage } from './messages.js';

/** UDP datagram being framed (one reused instance). */
interface Datagram {
  srcIp: number;
  sport: number;
  dstIp: number;
  dport: number;
  fromClient: boolean;
}

export class CaHandler implements ProtocolHandler {
  readonly name = 'ca';
  readonly heuristic = false;
  private readonly options: ResolvedOptions;
  private readonly stats: DissectStats;
  private readonly packet: PacketTime;
  private readonly emit: (ev: CaEvent) => void;
  /** server TCP endpoints learned from search replies and beacons */
  private readonly learnedServers = new Set<number>();
  /** client UDP sockets learned from searches and repeater registrations */
  private readonly clientSockets = new Set<number>();
  private readonly searchNames: SearchNames;
  /** what every framer shares: limits, the budget of bytes of incomplete messages (all circuits together), the pool of assembly buffers */
  private readonly framerLimits: FramerLimits;
  /** the limits every circuit's id tables share (one object, not one per circuit) */
  private readonly circuitLimits: CircuitLimits;
  private readonly header: HeaderView = { command: 0, payloadSize: 0, dataType: 0, dataCount: 0, headerSize: 0 };
  private readonly dgram: Datagram = { srcIp: 0, sport: 0, dstIp: 0, dport: 0, fromClient: false };
  private declinedView?: DeclinedMessage;
  private readonly tcpSink: FrameSink<Half>;
  private readonly udpSink: FrameSink<Datagram>;

  constructor(ctx: HandlerContext) {
    this.options = ctx.options;
    this.stats = ctx.stats;
    this.packet = ctx.packet;
    this.emit = ctx.emit;
    this.searchNames = new SearchNames(this.options.maxSearchIds);
    this.framerLimits = {
      maxMessageBytes: this.options.maxMessageBytes,
      budget: new HeldBudget(this.options.maxMessageBytesTotal),
      pool: new AssemblyPool(),
    };
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

  // ---- which traffic is CA, and who is client -----------------------------

  isServerEndpoint(ip: number, port: number): boolean {
    return this.options.serverPorts.has(port) || this.learnedServers.has(endpointKey(ip, port));
  }

  senderRole(buf: Buffer, off: number, len: number): Role | undefined {
    return senderRoleFromContent(buf, off, len);
  }

  circuitState(_c: TcpCircuit): CircuitState {
    return new CircuitState(this.circuitLimits);
  }

  /** A direction's framer, made at its first payload byte; it checks its first data when the circuit was joined without its SYN. */
  stream(half: Half): StreamFramer<Half> {
    return new StreamFramer(this.tcpSink, half, this.framerLimits, half.circuit.roleEvidence !== 'syn');
  }

  // ---- UDP ---------------------------------------------------------------

  datagram(srcIp: number, sport: number, dstIp: number, dport: number, buf: Buffer, off: number, payLen: number): boolean {
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
    else return false;
    if (payLen === 0) {
      // libca's REPEATER_REGISTER on Linux is an empty datagram to the repeater port. An empty datagram to a
      // port of --ports is one too (a site's repeater on 5067 listed with its servers' 5066): it means nothing
      // to a server. Registering the client's socket lets its repeater's confirm and relayed beacons decode.
      if (toRepeater || (toServer && dport !== o.serverPort)) {
        this.rememberClientSocket(srcKey);
        this.emitUdp(srcIp, sport, dstIp, dport, emptyRegistration(), undefined);
      }
      return true;
    }
    const d = this.dgram;
    d.srcIp = srcIp;
    d.sport = sport;
    d.dstIp = dstIp;
    d.dport = dport;
    d.fromClient = fromClient;
    frameDatagram(this.udpSink, d, buf, off, payLen, this.header);
    return true;
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
    const p = this.packet;
    this.emit(new CaEvent(p.sec, p.nsec, p.frame, srcIp, sport, dstIp, dport, 'udp', m, pv, undefined));
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
      const ca = c.ca;
      const before = ca.evicted;
      ca.observe(undefined, fromClient, command, u32be(buf, off + 8), u32be(buf, off + 12), ps);
      this.stats.idsEvicted += ca.evicted - before;
      return false;
    }
    const m = this.decode(buf, off, hs, ps, fromClient, false);
    const ca = c.ca;
    const before = ca.evicted;
    const pv = ca.observe(m, fromClient, command, u32be(buf, off + 8), u32be(buf, off + 12), ps);
    this.stats.idsEvicted += ca.evicted - before;
    const p = this.packet;
    const ev = half.fromClient
      ? new CaEvent(p.sec, p.nsec, p.frame, c.clientIp, c.clientPort, c.serverIp, c.serverPort, 'tcp', m, pv, c)
      : new CaEvent(p.sec, p.nsec, p.frame, c.serverIp, c.serverPort, c.clientIp, c.clientPort, 'tcp', m, pv, c);
    this.emit(ev);
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
      buf,
      payloadOffset: 0,
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
    d.buf = buf;
    d.payloadOffset = off + hs;
    const p = this.packet;
    d.sec = p.sec;
    d.nsec = p.nsec;
    d.time = p.now;
    d.frame = p.frame;
    return declined(d);
  }

  /** End of the capture (the engine has set its counts, and every handler's are final): the hint when little was decoded. */
  finish(): void {
    this.stats.littleDecoded = littleDecodedHint(this.stats, this.options);
  }

  private malformed(reason: MalformedReason, bytes: number): void {
    const m = this.stats.malformed[reason];
    m.count++;
    m.bytes += bytes;
  }
}

/** The CA handler's factory (the engine registers it first). */
export const caProtocol = (ctx: HandlerContext): CaHandler => new CaHandler(ctx);
