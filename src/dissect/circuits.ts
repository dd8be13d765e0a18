// TCP virtual circuits: the two directions of a connection, who is client and
// server, and the facts the reports need (handshake, bytes, how it ended).

import type { CircuitState } from '../../protocols/ca/circuit.js';
import { ipToString } from '../../protocols/ca/ip.js';
import { TcpStream, type StreamConsumer } from '../net/tcp.js';
import type { TcpFlow } from '../net/tcp-analysis.js';
import type { ProtocolHandler, StreamHandler } from './protocol.js';

export type Closer = 'client' | 'server';

/** One direction of a circuit: reassembly feeding the circuit's protocol handler. */
export class Half implements StreamConsumer {
  stream!: TcpStream;
  /** made by the circuit's handler when this direction's first payload byte arrives: a circuit that carries no data costs no framer */
  framer: StreamHandler | undefined = undefined;
  /** TCP analysis of the segments in this direction (retransmissions, windows, ...); one shared and never fed when it is off */
  tcp!: TcpFlow;
  /** messages framed in this direction (by the circuit's protocol) */
  caMessages = 0;
  /** bytes on the wire (frames) and TCP payload bytes in this direction */
  wireBytes = 0;
  fin = false;

  constructor(
    readonly circuit: TcpCircuit,
    readonly fromClient: boolean,
  ) {}

  data(buf: Buffer, off: number, len: number): void {
    this.framer!.push(buf, off, len);
  }
  gap(): void {
    this.framer?.gap();
  }
}

/** A capture time exact to the nanosecond: Unix seconds and nanoseconds (a float holds only about the µs). */
export interface Instant {
  sec: number;
  nsec: number;
}

export class TcpCircuit {
  /** see protocolState: a circuit that carries no message has none */
  private state: object | undefined = undefined;
  readonly toServer: Half;
  readonly toClient: Half;
  /** capture times (Unix seconds, float) */
  firstSeen: number;
  lastSeen: number;
  // The same times exact (Unix seconds and nanoseconds), for printing: the first packet, the SYN, the
  // SYN-ACK and the end, each valid when its float time above is set. Small integers in the object's
  // own fields: no object per circuit (a circuit without data costs under 1 KiB: see the README).
  firstSec: number;
  firstNsec: number;
  synSec = 0;
  synNsec = 0;
  synAckSec = 0;
  synAckNsec = 0;
  endSec = 0;
  endNsec = 0;
  // The optional fields start as undefined in the constructor, so that every
  // circuit keeps one shape (hidden class) whatever it has seen: the per-packet
  // code then reads circuits through monomorphic property accesses.
  synTime?: number = undefined;
  synAckTime?: number = undefined;
  synFrame?: number = undefined;
  synAckFrame?: number = undefined;
  endTime?: number = undefined;
  /** frame of the RST, or of the FIN that completed the close */
  endFrame?: number = undefined;
  /** how the circuit ended; undefined while open */
  endedBy?: 'fin' | 'rst' = undefined;
  closer?: Closer = undefined;
  rstBy?: Closer = undefined;
  /** time and frame of the closer's first FIN, or of the RST (before any FIN) */
  closeTime?: number = undefined;
  closeFrame?: number = undefined;
  /** how the client/server roles were decided */
  roleEvidence: 'syn' | 'server-port' | 'content' | 'port-order';
  /** next circuit in the same CircuitTable bucket */
  bucketNext?: TcpCircuit = undefined;
  /** the server has sent payload (see DissectOptions.maxUnansweredCircuits) */
  answered = false;

  constructor(
    readonly id: number,
    readonly clientIp: number,
    readonly clientPort: number,
    readonly serverIp: number,
    readonly serverPort: number,
    now: number,
    firstSec: number,
    firstNsec: number,
    roleEvidence: TcpCircuit['roleEvidence'],
    /** the protocol this circuit carries (see protocol.ts) */
    readonly handler: ProtocolHandler,
  ) {
    this.firstSeen = now;
    this.lastSeen = now;
    this.firstSec = firstSec;
    this.firstNsec = firstNsec;
    this.roleEvidence = roleEvidence;
    this.toServer = new Half(this, true);
    this.toClient = new Half(this, false);
  }

  /** the protocol's name: 'ca', 'pva' … */
  get protocol(): string {
    return this.handler.name;
  }

  /**
   * A CA circuit's state: which PV each id names, versions, host and user name
   * (protocols/ca/handler.ts makes it; read it only on a circuit whose protocol is 'ca').
   */
  get ca(): CircuitState {
    return this.protocolState as CircuitState;
  }

  /** The handler's state for this circuit, made at first use. */
  get protocolState(): object {
    return (this.state ??= this.handler.circuitState(this));
  }

  /** whether a packet between these endpoints (either direction) belongs to this circuit */
  joins(srcIp: number, sport: number, dstIp: number, dport: number): boolean {
    return (
      (srcIp === this.clientIp && sport === this.clientPort && dstIp === this.serverIp && dport === this.serverPort) ||
      (srcIp === this.serverIp && sport === this.serverPort && dstIp === this.clientIp && dport === this.clientPort)
    );
  }

  get client(): string {
    return `${ipToString(this.clientIp)}:${this.clientPort}`;
  }
  get server(): string {
    return `${ipToString(this.serverIp)}:${this.serverPort}`;
  }
  get closed(): boolean {
    return this.endedBy === 'rst' || (this.toServer.fin && this.toClient.fin);
  }
  /** SYN -> SYN-ACK round trip in seconds, when both were captured */
  get handshakeRtt(): number | undefined {
    return this.synTime !== undefined && this.synAckTime !== undefined ? this.synAckTime - this.synTime : undefined;
  }
}

/** Numeric key of an endpoint: ip * 65536 + port (exact in a double). */
export function endpointKey(ip: number, port: number): number {
  return ip * 65536 + port;
}

/** Slots of CircuitTable's lookup cache (a power of two). */
const CACHE_SLOTS = 4096;

/**
 * The open circuits by 4-tuple, either direction. Keys are a 30-bit hash (a small
 * integer for V8, so a lookup allocates nothing); circuits whose tuples share a
 * hash are chained through `bucketNext`. In front of the Map, a direct-mapped
 * cache by the hash's low bits answers most lookups with one array read (the
 * Map keeps the insertion order values() iterates in).
 */
export class CircuitTable {
  private readonly buckets = new Map<number, TcpCircuit>();
  private readonly cache: (TcpCircuit | undefined)[] = new Array<TcpCircuit | undefined>(CACHE_SLOTS).fill(undefined);
  size = 0;

  private static hash(ipA: number, portA: number, ipB: number, portB: number): number {
    // XOR of both ends: the same for either direction of the connection.
    return (Math.imul((ipA ^ ipB) | 0, 0x9e3779b1) ^ (portA ^ portB)) & 0x3fffffff;
  }

  get(srcIp: number, sport: number, dstIp: number, dport: number): TcpCircuit | undefined {
    const h = CircuitTable.hash(srcIp, sport, dstIp, dport);
    const slot = h & (CACHE_SLOTS - 1);
    let c = this.cache[slot];
    if (c !== undefined && c.joins(srcIp, sport, dstIp, dport)) return c;
    c = this.buckets.get(h);
    while (c && !c.joins(srcIp, sport, dstIp, dport)) c = c.bucketNext;
    if (c) this.cache[slot] = c;
    return c;
  }

  add(c: TcpCircuit): void {
    const h = CircuitTable.hash(c.clientIp, c.clientPort, c.serverIp, c.serverPort);
    c.bucketNext = this.buckets.get(h);
    this.buckets.set(h, c);
    this.size++;
  }

  has(c: TcpCircuit): boolean {
    return this.get(c.clientIp, c.clientPort, c.serverIp, c.serverPort) === c;
  }

  delete(c: TcpCircuit): boolean {
    const h = CircuitTable.hash(c.clientIp, c.clientPort, c.serverIp, c.serverPort);
    const slot = h & (CACHE_SLOTS - 1);
    if (this.cache[slot] === c) this.cache[slot] = undefined;
    let prev: TcpCircuit | undefined;
    for (let x = this.buckets.get(h); x; prev = x, x = x.bucketNext) {
      if (x !== c) continue;
      if (prev) prev.bucketNext = x.bucketNext;
      else if (x.bucketNext) this.buckets.set(h, x.bucketNext);
      else this.buckets.delete(h);
      x.bucketNext = undefined;
      this.size--;
      return true;
    }
    return false;
  }

  *values(): IterableIterator<TcpCircuit> {
    for (let c of this.buckets.values()) for (; c; c = c.bucketNext!) yield c;
  }
}
