// Which traffic is CA, and the limits that keep memory bounded on any input.

import { isMonitorUpdate, observeNeedsMessage } from '../../protocols/ca/circuit.js';
import { CMD, DEFAULT_REPEATER_PORT, DEFAULT_SERVER_PORT } from '../../protocols/ca/constants.js';
import type { TcpCircuit } from './circuits.js';
import type { ProtocolFactory } from './protocol.js';

/** A TCP message `wants` declined, as its header words (one view, reused for every message). */
export interface DeclinedMessage {
  command: number;
  fromClient: boolean;
  payloadSize: number;
  dataType: number;
  dataCount: number;
  parameter1: number;
  parameter2: number;
  circuit: TcpCircuit;
  /** the message's bytes: its payload starts at payloadOffset (valid only during the call; read, never keep) */
  buf: Buffer;
  payloadOffset: number;
  /** capture time of the packet that completed the message (Unix seconds and nanoseconds, and as a float), and its frame number */
  sec: number;
  nsec: number;
  time: number;
  frame: number;
}

/** A declined message that is a monitor update (protocols/ca/circuit.ts: isMonitorUpdate). */
export function declinedUpdate(m: DeclinedMessage): boolean {
  return isMonitorUpdate(m.command, m.fromClient, m.payloadSize);
}

/** `wants` of a consumer that takes every TCP message whole but the server's EVENT_ADD messages (offered to `declined`). */
export function allButMonitorUpdates(command: number, fromClient: boolean): boolean {
  return command !== CMD.EVENT_ADD || fromClient;
}

/**
 * What a report that tallies monitor updates from their header words reads: every
 * other TCP message whole (the empty EVENT_ADD confirming a cancel too: it is no
 * update), each update given to `update`, and the TCP analysis.
 */
export function monitorUpdateSelection(update: (m: DeclinedMessage) => void): MessageSelection {
  return {
    tcpAnalysis: true,
    wants: allButMonitorUpdates,
    declined: (m) => {
      if (!declinedUpdate(m)) return true;
      update(m);
      return false;
    },
    copyMessages: true,
  };
}

export interface DissectOptions {
  /** CA server port (UDP search and TCP); default EPICS_CA_SERVER_PORT or 5064 */
  serverPort?: number;
  /** beacon/repeater port; default EPICS_CA_REPEATER_PORT or 5065 */
  repeaterPort?: number;
  /** more server ports to decode, TCP and UDP (sites that run 5066/5067, a gateway on 5070 …) */
  ports?: number[];
  /** learn server TCP endpoints from search replies and beacons (default true) */
  learnPorts?: boolean;
  /** largest CA message reassembled; larger ones are skipped and counted (default 64 MiB) */
  maxMessageBytes?: number;
  /** bytes of incomplete messages held by all circuits together (default 256 MiB); a message that would pass it is skipped and counted as oversize */
  maxMessageBytesTotal?: number;
  /** out-of-order bytes held per TCP direction (default 8 MiB) and in all (default 256 MiB) */
  maxHeldPerStream?: number;
  maxHeldTotal?: number;
  /** TCP circuits tracked at once (default 200,000) */
  maxCircuits?: number;
  /**
   * TCP circuits open at once whose server has sent no payload yet (default 20,000): a scan or a
   * SYN flood opens many such; past this, the oldest of them is dropped first (counted), as a
   * SYN backlog does, so that they cannot fill memory. A CA server answers at once (VERSION,
   * then every request), so a real circuit leaves this set within a round trip.
   */
  maxUnansweredCircuits?: number;
  /** channels/subscriptions/outstanding ids per circuit (default 100,000) */
  maxIdsPerCircuit?: number;
  /** outstanding search ids (default 1,000,000) */
  maxSearchIds?: number;
  /** learned server endpoints and client sockets (default 100,000 each) */
  maxLearned?: number;
  /** environment to read EPICS_CA_* from (default process.env) */
  env?: Record<string, string | undefined>;
  /**
   * Which TCP messages the consumer wants as events, by command code and sender
   * (default: all). The others still update the circuit's state and the counts,
   * but no message object or event is made for them: an analysis that ignores
   * monitor updates says so and skips most of a busy capture's objects.
   */
  wants?: (command: number, fromClient: boolean) => boolean;
  /**
   * Told of each TCP message `wants` declined, with its header words, before the
   * circuit's state takes it: a consumer can tally the common case (a monitor
   * update) from the words and return true for a message it wants whole after
   * all, which is then decoded and delivered as an event. The view is reused:
   * copy what you keep.
   */
  declined?: (m: DeclinedMessage) => boolean;
  /**
   * Give each message delivered as an event its own copy of its bytes (default
   * false: a view of the capture's read buffer, which runDissection and dissect
   * never write again; CaMessageBase states the rule). No event then holds a view
   * of the input, so they read a file through one reused buffer. Worth it when few
   * messages are taken whole (the reports); a copy per message otherwise. Needed
   * when you feed a Dissector chunks you overwrite yourself.
   */
  copyMessages?: boolean;
  /**
   * Analyse every TCP segment (src/net/tcp-analysis.ts: retransmissions, holes,
   * windows, zero-window stalls; default true). Off, those counts stay 0 (each
   * direction's TcpFlow, DissectStats.retransmissions and outOfOrder) and a
   * consumer that reads none of them saves their cost, about a tenth of the
   * dissection's.
   */
  tcpAnalysis?: boolean;
  /**
   * The protocol handlers, in the order they are asked for each new circuit and
   * datagram (default: DEFAULT_PROTOCOLS of src/dissect/registry.ts: CA first).
   */
  protocols?: readonly ProtocolFactory[];
  /**
   * Told of every TCP segment of a circuit after its analysis (`cawire tcp`, latency
   * --split), as one reused view: copy what you keep. Unset, it costs one check per segment.
   */
  segments?: (s: SegmentView) => void;
  /**
   * Told of every UDP datagram no protocol handler claimed (counted as "other ports"),
   * as one reused view: the summary's DNS line reads port 53 from here.
   */
  otherDatagrams?: (d: DatagramView) => void;
}

/** A TCP segment of a circuit (DissectOptions.segments): one object, rewritten for each segment. */
export interface SegmentView {
  circuit: TcpCircuit;
  fromClient: boolean;
  /** sequence and acknowledgement numbers (unsigned 32-bit) */
  seq: number;
  ack: number;
  /** TCP header flags (byte 13: FIN 1, SYN 2, RST 4, PSH 8, ACK 16) */
  flags: number;
  /** the window field as sent (unscaled) */
  window: number;
  /** payload bytes on the wire */
  len: number;
  /** TcpFlag bits of the analysis (0 when it is off) */
  analysis: number;
  frame: number;
  sec: number;
  nsec: number;
  /** Unix seconds as a float */
  time: number;
}

/** A UDP datagram no handler claimed (DissectOptions.otherDatagrams): one object, rewritten for each. */
export interface DatagramView {
  srcIp: number;
  sport: number;
  dstIp: number;
  dport: number;
  /** the payload: buf[off, off + len) (a view of the capture: copy what you keep) */
  buf: Buffer;
  off: number;
  len: number;
  frame: number;
  /** Unix seconds as a float */
  time: number;
}

/** What an analysis reads, as dissection options (its selection()). */
export type MessageSelection = Pick<DissectOptions, 'wants' | 'declined' | 'copyMessages' | 'tcpAnalysis' | 'segments' | 'otherDatagrams'>;

export interface ResolvedOptions {
  serverPort: number;
  repeaterPort: number;
  /** UDP/TCP ports on which a server listens: serverPort plus `ports` */
  serverPorts: ReadonlySet<number>;
  learnPorts: boolean;
  maxMessageBytes: number;
  maxMessageBytesTotal: number;
  maxHeldPerStream: number;
  maxHeldTotal: number;
  maxCircuits: number;
  maxUnansweredCircuits: number;
  maxIdsPerCircuit: number;
  maxSearchIds: number;
  maxLearned: number;
  /** by command code * 2 + (1 if sent by the client): 1 when the message is made and delivered; codes past the table always are */
  wanted: Uint8Array;
  declined: DissectOptions['declined'];
  copyMessages: boolean;
  tcpAnalysis: boolean;
}

/** Command codes the `wanted` table covers (CA defines 0..27). */
export const WANTED_CODES = 64;

/** The delivered messages: those wanted, and those whose state CircuitState.observe reads from the message itself. */
function wantedTable(wants: DissectOptions['wants']): Uint8Array {
  const t = new Uint8Array(WANTED_CODES * 2);
  for (let c = 0; c < WANTED_CODES; c++) {
    for (const fromClient of [false, true]) t[c * 2 + (fromClient ? 1 : 0)] = !wants || wants(c, fromClient) || observeNeedsMessage(c, fromClient) ? 1 : 0;
  }
  return t;
}

function envPort(v: string | undefined, fallback: number): number {
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : fallback;
}

export function resolveOptions(o: DissectOptions = {}): ResolvedOptions {
  const env = o.env ?? process.env;
  const serverPort = o.serverPort ?? envPort(env.EPICS_CA_SERVER_PORT, DEFAULT_SERVER_PORT);
  const repeaterPort = o.repeaterPort ?? envPort(env.EPICS_CA_REPEATER_PORT, DEFAULT_REPEATER_PORT);
  return {
    serverPort,
    repeaterPort,
    serverPorts: new Set([serverPort, ...(o.ports ?? [])]),
    learnPorts: o.learnPorts ?? true,
    maxMessageBytes: o.maxMessageBytes ?? 64 * 1024 * 1024,
    maxMessageBytesTotal: o.maxMessageBytesTotal ?? 256 * 1024 * 1024,
    maxHeldPerStream: o.maxHeldPerStream ?? 8 * 1024 * 1024,
    maxHeldTotal: o.maxHeldTotal ?? 256 * 1024 * 1024,
    maxCircuits: o.maxCircuits ?? 200_000,
    maxUnansweredCircuits: o.maxUnansweredCircuits ?? 20_000,
    maxIdsPerCircuit: o.maxIdsPerCircuit ?? 100_000,
    maxSearchIds: o.maxSearchIds ?? 1_000_000,
    maxLearned: o.maxLearned ?? 100_000,
    wanted: wantedTable(o.wants),
    declined: o.declined,
    copyMessages: o.copyMessages === true,
    tcpAnalysis: o.tcpAnalysis ?? true,
  };
}
