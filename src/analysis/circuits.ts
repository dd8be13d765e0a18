// The TCP virtual circuits: who talked to whom, as which host and user, for how
// long, what they carried (channels, subscriptions, updates, flow control, echo
// probes), what the capture lost, and how each circuit ended (notes §11).

import type { Closer, Half, Instant, TcpCircuit } from '../dissect/circuits.js';
import type { CaEvent } from '../dissect/event.js';
import { monitorUpdateSelection, type DeclinedMessage, type MessageSelection } from '../dissect/options.js';
import { extendSpan, extendSpanAt, type Moment, type Span } from './moment.js';
import { PerCircuit } from './per-circuit.js';
import { stallSeconds, type ZeroWindowStall } from '../net/tcp-analysis.js';

/** What the messages of one circuit said, counted while it runs. */
interface CircuitTally {
  /** first and last CA message */
  messages: Span;
  /** PV names ('?' when the channel was created before the capture started) */
  created: string[];
  cleared: string[];
  createFailed: string[];
  /** channels the server said it no longer has (SERVER_DISCONN) */
  serverDisconnected: string[];
  subscriptions: number;
  cancelled: number;
  updates: number;
  eventsOff: number;
  eventsOn: number;
  echoRequests: number;
  echoResponses: number;
}

const UNKNOWN_PV = '?';

function emptyTally(): CircuitTally {
  return {
    messages: {},
    created: [],
    cleared: [],
    createFailed: [],
    serverDisconnected: [],
    subscriptions: 0,
    cancelled: 0,
    updates: 0,
    eventsOff: 0,
    eventsOn: 0,
    echoRequests: 0,
    echoResponses: 0,
  };
}

/** The TCP analysis of one direction of a circuit: the segments sent that way (definitions: TcpFlow, README). */
export interface TcpDirectionSummary {
  /** segments that take sequence space (data, SYN or FIN): what could be retransmitted */
  segments: number;
  retransmissions: number;
  /** retransmissions carrying bytes the capture had not seen (the first copy never reached it) */
  holesFilledLate: number;
  /** segments that came after a hole (Wireshark's lost_segment) */
  holes: number;
  /** holes never filled, and their bytes */
  gaps: number;
  gapBytes: number;
  outOfOrder: number;
  duplicateAcks: number;
  zeroWindows: number;
  windowFull: number;
  zeroWindowProbes: number;
  /** frame of the first retransmission (undefined: none) */
  firstRetransmissionFrame?: number;
}

/** A period one side of a circuit advertised a zero window (it had stopped reading). */
export interface CircuitStall extends ZeroWindowStall {
  /** who advertised the zero window */
  side: Closer;
  /** to the window update, or to the circuit's end (last packet) when the window never opened again */
  seconds: number;
}

export interface CircuitSummary extends Omit<CircuitTally, 'messages'> {
  /** first and last CA message (undefined when none was seen, e.g. a connection refused) */
  firstMessage?: Moment;
  lastMessage?: Moment;
  id: number;
  client: string;
  server: string;
  clientIp: number;
  hostName?: string;
  userName?: string;
  clientVersion?: number;
  serverVersion?: number;
  priority?: number;
  /** SYN time when captured, else the first packet seen */
  start: number;
  /** the same, exact (for printing) */
  startAt: Instant;
  /** the SYN's frame, else the first CA message's */
  startFrame?: number;
  /** FIN/RST time and frame; undefined while open at the end of the capture */
  end?: number;
  /** the same, exact (for printing) */
  endAt?: Instant;
  endFrame?: number;
  /** last packet seen */
  lastSeen: number;
  handshakeRtt?: number;
  /** CA bytes (TCP payload) and TCP segment bytes, each way */
  caBytesToServer: number;
  caBytesToClient: number;
  wireBytesToServer: number;
  wireBytesToClient: number;
  /** both directions (the per-direction counts are in tcpToServer / tcpToClient) */
  retransmissions: number;
  gaps: number;
  gapBytes: number;
  tcpToServer: TcpDirectionSummary;
  tcpToClient: TcpDirectionSummary;
  /** zero-window stalls, both sides, in the order they began (the longest few of each side when there were many) */
  stalls: CircuitStall[];
  /** how many there were */
  stallCount: number;
  endedBy?: 'fin' | 'rst';
  /** who sent the first FIN, or the RST */
  closer?: Closer;
  rstBy?: Closer;
  /** time and frame of the closer's first FIN, or of the RST */
  closeTime?: number;
  closeFrame?: number;
}

export interface ResetCircuit {
  circuit: CircuitSummary;
  /** other circuits of the same client host open when the reset came */
  othersOpen: number;
}

/** Seconds from start to end (or to the last packet of a circuit still open). */
export function circuitDuration(c: CircuitSummary): number {
  return (c.end ?? c.lastSeen) - c.start;
}

/** Retransmissions per segment, both directions (0 when no segment took sequence space). */
export function retransmissionRate(c: CircuitSummary): number {
  const segments = c.tcpToServer.segments + c.tcpToClient.segments;
  return segments ? c.retransmissions / segments : 0;
}

/** The longest zero-window stall of a circuit, if it had any. */
export function longestStall(c: CircuitSummary): CircuitStall | undefined {
  return c.stalls.reduce<CircuitStall | undefined>((a, s) => (a && a.seconds >= s.seconds ? a : s), undefined);
}

/** 'client window 0 for 38.314 s (frames 2271-2310, 7 probes)': who advertised it, how long, from which frame to the update. */
export function stallText(s: CircuitStall): string {
  const probes = s.probes === 0 ? '' : s.probes === 1 ? ', 1 probe' : `, ${s.probes} probes`;
  return `${s.side} window 0 for ${s.seconds.toFixed(3)} s (frames ${s.startFrame}-${s.endFrame ?? 'end'}${probes})`;
}

function directionSummary(h: Half): TcpDirectionSummary {
  const t = h.tcp.events;
  return {
    segments: h.tcp.segments,
    retransmissions: t.retransmissions,
    holesFilledLate: t.holesFilledLate,
    holes: t.holes,
    gaps: h.stream.stats.gaps,
    gapBytes: h.stream.stats.gapBytes,
    outOfOrder: t.outOfOrder,
    duplicateAcks: t.duplicateAcks,
    zeroWindows: t.zeroWindows,
    windowFull: t.windowFull,
    zeroWindowProbes: t.zeroWindowProbes,
    firstRetransmissionFrame: t.firstRetransmissionFrame,
  };
}

/** Both sides' zero-window stalls by start frame; one never ended lasts to the circuit's last packet. */
function circuitStalls(c: TcpCircuit): CircuitStall[] {
  const out: CircuitStall[] = [];
  for (const [h, side] of [[c.toServer, 'client'], [c.toClient, 'server']] as const) {
    // With one in progress (a snapshot of an open circuit: --every) that one too.
    const progress = h.tcp.events.stall;
    for (const s of progress ? [...(h.tcp.events.stalls ?? []), progress] : (h.tcp.events.stalls ?? [])) {
      out.push({ ...s, side, seconds: s.endTime === undefined ? (c.endTime ?? c.lastSeen) - s.startTime : stallSeconds(s) });
    }
  }
  return out.sort((a, b) => a.startFrame - b.startFrame);
}

/** How a circuit ended, in words: 'FIN by client', 'RST by server', 'open at end', with the channels the server disconnected. */
export function circuitEnding(c: CircuitSummary): string {
  const how = c.endedBy === 'rst' ? `RST by ${c.rstBy}` : c.endedBy === 'fin' ? `FIN by ${c.closer}` : 'open at end';
  return c.serverDisconnected.length ? `${how}, ServerDisconn x${c.serverDisconnected.length}` : how;
}

/** Channels the circuit still carried at its end: created, and neither cleared, refused nor disconnected by the server. */
export function openChannels(c: CircuitSummary): number {
  return c.created.length - c.cleared.length - c.createFailed.length - c.serverDisconnected.length;
}

/** Counts each circuit's messages; told by the engine when a circuit ends; `finish()` gives one row per circuit. */
export class CircuitAnalysis {
  private readonly tallies = new PerCircuit<CircuitTally>();
  private readonly done: CircuitSummary[] = [];

  event(ev: CaEvent): void {
    const c = ev.circuit;
    if (!c) return;
    const t = this.tallyOf(c);
    extendSpan(t.messages, ev);
    const pv = ev.pv ?? UNKNOWN_PV;
    switch (ev.type) {
      case 'CreateChanRequest':
        t.created.push(pv);
        break;
      case 'ClearChannelResponse':
        t.cleared.push(pv);
        break;
      case 'CreateChFailResponse':
        t.createFailed.push(pv);
        break;
      case 'ServerDisconnResponse':
        t.serverDisconnected.push(pv);
        break;
      case 'EventAddRequest':
        t.subscriptions++;
        break;
      case 'EventCancelRequest':
        t.cancelled++;
        break;
      case 'EventAddResponse':
        t.updates++;
        break;
      case 'EventsOffRequest':
        t.eventsOff++;
        break;
      case 'EventsOnRequest':
        t.eventsOn++;
        break;
      case 'EchoRequest':
        t.echoRequests++;
        break;
      case 'EchoResponse':
        t.echoResponses++;
        break;
    }
  }

  /** What the report reads, as dissection options: monitor updates are counted from their header words; the TCP analysis. */
  selection(): MessageSelection {
    return monitorUpdateSelection((m) => this.update(m));
  }

  /** A monitor update known by its header words (DissectOptions.declined): counted as its event would be. */
  update(m: DeclinedMessage): void {
    const t = this.tallyOf(m.circuit);
    extendSpanAt(t.messages, m);
    t.updates++;
  }

  private tallyOf(c: TcpCircuit): CircuitTally {
    let t = this.tallies.get(c);
    if (!t) this.tallies.set(c, (t = emptyTally()));
    return t;
  }

  /** The engine's circuitEnded hook: the circuit's counters are final now. */
  circuitEnded(c: TcpCircuit): void {
    if (c.protocol !== 'ca') return; // the engine tracks other protocols' circuits too (a pvAccess one): not CA's
    const t = this.tallies.get(c) ?? emptyTally();
    this.tallies.delete(c);
    this.done.push(circuitRow(c, t));
  }

  /** One row per circuit, in the order they started. */
  finish(): CircuitSummary[] {
    return this.done.sort((a, b) => a.id - b.id);
  }

  /** --every: the rows of the circuits ended so far and of those still open (`open`: the dissector's), in the order they started. */
  snapshot(_result: unknown, open: readonly TcpCircuit[]): CircuitSummary[] {
    const rows = open.filter((c) => c.protocol === 'ca').map((c) => circuitRow(c, this.tallies.get(c) ?? emptyTally()));
    return [...this.done, ...rows].sort((a, b) => a.id - b.id);
  }
}

/** A circuit's row: its tally and what the engine knows of it (so far, for one still open). */
function circuitRow(c: TcpCircuit, t: CircuitTally): CircuitSummary {
  const up = directionSummary(c.toServer);
  const down = directionSummary(c.toClient);
  // Field by field: a spread of the tally gave every summary a hidden class of its own, and every
  // pass over thousands of them (summary, restarts) a megamorphic property lookup per field read.
  return {
    created: t.created,
    cleared: t.cleared,
    createFailed: t.createFailed,
    serverDisconnected: t.serverDisconnected,
    subscriptions: t.subscriptions,
    cancelled: t.cancelled,
    updates: t.updates,
    eventsOff: t.eventsOff,
    eventsOn: t.eventsOn,
    echoRequests: t.echoRequests,
    echoResponses: t.echoResponses,
    firstMessage: t.messages.first,
    lastMessage: t.messages.last,
    id: c.id,
    client: c.client,
    server: c.server,
    clientIp: c.clientIp,
    hostName: c.ca.hostName,
    userName: c.ca.userName,
    clientVersion: c.ca.clientVersion,
    serverVersion: c.ca.serverVersion,
    priority: c.ca.priority,
    start: c.synTime ?? c.firstSeen,
    startAt: c.synTime !== undefined ? { sec: c.synSec, nsec: c.synNsec } : { sec: c.firstSec, nsec: c.firstNsec },
    startFrame: c.synFrame ?? t.messages.first?.frame,
    end: c.endTime,
    endAt: c.endTime !== undefined ? { sec: c.endSec, nsec: c.endNsec } : undefined,
    endFrame: c.endFrame,
    lastSeen: c.lastSeen,
    handshakeRtt: c.handshakeRtt,
    caBytesToServer: c.toServer.stream.stats.bytes,
    caBytesToClient: c.toClient.stream.stats.bytes,
    wireBytesToServer: c.toServer.wireBytes,
    wireBytesToClient: c.toClient.wireBytes,
    retransmissions: up.retransmissions + down.retransmissions,
    gaps: up.gaps + down.gaps,
    gapBytes: up.gapBytes + down.gapBytes,
    tcpToServer: up,
    tcpToClient: down,
    stalls: circuitStalls(c),
    stallCount: c.toServer.tcp.events.zeroWindowStalls + c.toClient.tcp.events.zeroWindowStalls,
    endedBy: c.endedBy,
    closer: c.closer,
    rstBy: c.rstBy,
    closeTime: c.closeTime,
    closeFrame: c.closeFrame,
  };
}

/** Circuits cut by a reset, each with the number of other circuits of its client host open at that moment. */
export function resetCircuits(circuits: readonly CircuitSummary[]): ResetCircuit[] {
  return circuits
    .filter((c) => c.endedBy === 'rst')
    .map((circuit) => {
      const when = circuit.end!;
      const othersOpen = circuits.filter(
        (o) => o !== circuit && o.clientIp === circuit.clientIp && o.start <= when && (o.end === undefined || o.end > when),
      ).length;
      return { circuit, othersOpen };
    });
}
