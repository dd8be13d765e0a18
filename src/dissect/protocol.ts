// The seam between the engine (capture, IPv4, UDP, TCP, circuits, budgets) and the
// protocols it decodes. A protocol registers a handler, as Wireshark's dissector
// tables do: the TCP server endpoints and UDP datagrams it claims (by port, by
// endpoints it learned, or by a content heuristic), who is client and server, and
// a stream consumer per TCP direction. The engine knows nothing of any protocol.

import type { Half, TcpCircuit } from './circuits.js';
import type { CaEvent } from './event.js';
import type { ResolvedOptions } from './options.js';
import type { DissectStats } from './stats.js';

export type Role = 'client' | 'server';

/** The packet being decoded (one object, rewritten by the engine for each packet): events take their time and frame from it. */
export interface PacketTime {
  sec: number;
  nsec: number;
  /** 1-based frame number */
  frame: number;
  /** Unix seconds as a float */
  now: number;
}

/** What a handler is given when the engine makes it (one per dissection). */
export interface HandlerContext {
  readonly options: ResolvedOptions;
  /** the dissection's counts: a handler adds its own (CA's are the top-level message counts; others go under `protocols`) */
  readonly stats: DissectStats;
  readonly packet: PacketTime;
  /** the consumer's event callback */
  readonly emit: (ev: CaEvent) => void;
}

/**
 * One direction of a TCP circuit, as its protocol reads it: the reassembled bytes
 * in order, holes the capture lost, and the end. Made by the handler at the
 * direction's first payload byte (a circuit that carries none costs none).
 */
export interface StreamHandler {
  push(buf: Buffer, off: number, len: number): void;
  gap(): void;
  end(): void;
}

export interface ProtocolHandler {
  /** short name, as events and stats give it: 'ca', 'pva' */
  readonly name: string;
  /**
   * Whether a TCP server of this protocol listens at ip:port: a port it claims,
   * or an endpoint it learned (CA: from search replies and beacons). A circuit
   * either of whose ends is one goes to this handler.
   */
  isServerEndpoint(ip: number, port: number): boolean;
  /**
   * Who sent the first payload of a circuit, from its content; undefined when it
   * does not tell. The engine asks the circuit's handler when the ports do not
   * say which end is the server (both or neither are server endpoints).
   */
  senderRole(buf: Buffer, off: number, len: number): Role | undefined;
  /**
   * Whether senderRole may also claim a circuit on ports no handler claims (a
   * heuristic dissector: it must be strict enough to be wrong almost never).
   */
  readonly heuristic: boolean;
  /** The handler's state for one circuit (TcpCircuit.protocolState makes it at first use, so a circuit that carries no message has none). */
  circuitState(c: TcpCircuit): object;
  /** The consumer of one direction of a circuit of this handler, made at its first payload byte. */
  stream(half: Half): StreamHandler;
  /**
   * A UDP datagram (payload at `off`, `len` bytes, possibly 0): true when it is
   * this protocol's (the engine then counts it and asks no other handler).
   */
  datagram(srcIp: number, sport: number, dstIp: number, dport: number, buf: Buffer, off: number, len: number): boolean;
  /** End of the capture, after every circuit was retired. */
  finish?(): void;
}

/** Makes a handler for one dissection. */
export type ProtocolFactory = (ctx: HandlerContext) => ProtocolHandler;
