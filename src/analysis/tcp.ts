// `cawire tcp`: what TCP did inside each CA circuit. The counts (retransmissions,
// holes, gaps, duplicate ACKs, zero windows, stalls) are the circuits report's
// (CircuitAnalysis over the engine's TcpFlow: one implementation); this adds what
// needs every segment (DissectOptions.segments): round-trip samples per side
// (tcp-rtt.ts), bytes and segments each way, the window scale and the smallest
// window each side advertised, what each stall held back (the bytes the sender
// sent once the window opened, until all of it was acknowledged, and the
// subscriptions whose updates were among them), and `--trace`, one circuit
// packet by packet.

import type { TcpCircuit } from '../dissect/circuits.js';
import type { CaEvent } from '../dissect/event.js';
import { declinedUpdate, type DeclinedMessage, type MessageSelection, type SegmentView } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';
import { SCALE_NONE, SCALE_UNKNOWN, TcpFlag } from '../net/tcp-analysis.js';
import { CircuitAnalysis, type CircuitStall, type CircuitSummary } from './circuits.js';
import { PerCircuit } from './per-circuit.js';
import { RttSampler, rttStats, type RttStats } from './tcp-rtt.js';

const SYN = 0x02;
const FIN = 0x01;
const RST = 0x04;
const ACK = 0x10;

/** Signed distance a - b in sequence space (mod 2^32). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** What one side sent, beyond the circuits report's counts. */
export interface TcpSideSummary {
  /** segments of any kind, and their payload bytes */
  packets: number;
  payloadBytes: number;
  /** round trips from the capture point to the other side and back: samples from this side's segments and the other side's ACKs (ms) */
  rtt?: RttStats;
  /** the window scale shift this side's windows are scaled by; 'none' (not both SYNs offered it) or 'unknown' (handshake not captured: windows unscaled) */
  windowScale: number | 'none' | 'unknown';
  /** the smallest window this side advertised (bytes, scaled when the scale is known; the raw field when 'unknown'); undefined before a segment with ACK */
  minWindow?: number;
}

/** A zero-window stall with what it held back. */
export interface TcpStall extends CircuitStall {
  /** bytes the other side sent from the window update until all of them were acknowledged (the backlog); undefined when the window never opened */
  waitingBytes?: number;
  /** PVs of the subscriptions whose updates came in that backlog or during the stall */
  heldPvs: string[];
}

export interface TcpCircuitRow {
  circuit: CircuitSummary;
  /** what the client sent (to the server) and the server sent */
  client: TcpSideSummary;
  server: TcpSideSummary;
  stalls: TcpStall[];
}

/** One segment of the traced circuit. */
export interface TraceRow {
  frame: number;
  /** Unix seconds */
  time: number;
  /** seconds since the circuit's SYN (its first packet when the SYN was not captured) */
  relative: number;
  fromClient: boolean;
  /** TCP header flags */
  flags: number;
  /** relative sequence and acknowledgement numbers (the ACK undefined without the ACK flag) */
  seq: number;
  ack?: number;
  len: number;
  /** the window, scaled when the scale is known */
  window: number;
  /** false: the window scale is unknown (handshake not captured) and `window` is the raw field */
  windowScaled: boolean;
  /** bytes this side had sent and the other not acknowledged, after this segment */
  inFlight: number;
  /** TcpFlag bits */
  analysis: number;
  /** the CA messages that ended in this segment: 'ReadNotifyResponse TP:ai' */
  messages: string[];
}

export interface TcpTrace {
  circuit: number;
  client?: string;
  server?: string;
  rows: TraceRow[];
}

export interface TcpPart {
  rows: TcpCircuitRow[];
  /** --trace: the circuit asked for (rows empty when it was not found) */
  trace?: TcpTrace;
}

export interface TcpAnalysisOptions {
  /** the circuit to trace packet by packet */
  trace?: number;
}

/** A stall being followed: closed, then draining (the window opened; the sender's backlog not yet all acknowledged). */
interface StallTrack {
  startFrame: number;
  draining: boolean;
  waiting: number;
  held: Set<string>;
}

interface StallExtra {
  startFrame: number;
  waitingBytes?: number;
  heldPvs: string[];
}

/** One direction's state: what this side sent and the windows it advertised. */
class Side {
  readonly sampler = new RttSampler(true);
  packets = 0;
  payloadBytes = 0;
  minWindow = -1;
  /** highest sequence number sent + 1 (valid with hasNext) */
  nextSeq = 0;
  hasNext = false;
  /** the highest ACK this side sent (valid with hasAck) */
  highestAck = 0;
  hasAck = false;
  /** relative sequence numbers start here (valid with hasBase) */
  base = 0;
  hasBase = false;
  stall: StallTrack | undefined = undefined;
  readonly stalls: StallExtra[] = [];

  endStall(): void {
    const s = this.stall;
    if (!s) return;
    this.stalls.push({ startFrame: s.startFrame, waitingBytes: s.draining ? s.waiting : undefined, heldPvs: [...s.held] });
    this.stall = undefined;
  }
}

class CircuitTcp {
  readonly client = new Side();
  readonly server = new Side();
  /** the traced circuit's messages that ended in the packet being decoded */
  pending: string[] | undefined = undefined;
}

/** The window scale a TcpFlow uses, in the report's words. */
function scaleOf(shift: number): TcpSideSummary['windowScale'] {
  return shift === SCALE_UNKNOWN ? 'unknown' : shift === SCALE_NONE ? 'none' : shift;
}

/** What a circuit's sides measured, kept when it ends. */
interface EndedCircuit {
  client: TcpSideSummary;
  server: TcpSideSummary;
  client_stalls: StallExtra[];
  server_stalls: StallExtra[];
}

/** The circuits report with the per-segment facts; `finish()` gives one row per CA circuit. */
export class TcpAnalysis {
  private readonly circuits = new CircuitAnalysis();
  private readonly state = new PerCircuit<CircuitTcp>();
  private readonly ended = new Map<number, EndedCircuit>();
  private readonly trace?: TcpTrace;
  /** RTT samples are timed in seconds since this whole second (the first segment's): exact to the nanosecond */
  private originSec = -1;

  constructor(options: TcpAnalysisOptions = {}) {
    if (options.trace !== undefined) this.trace = { circuit: options.trace, rows: [] };
  }

  selection(): MessageSelection {
    const base = this.circuits.selection();
    return {
      ...base,
      declined: (m) => {
        if (declinedUpdate(m)) this.update(m);
        return base.declined!(m);
      },
      segments: (s) => this.segment(s),
    };
  }

  event(ev: CaEvent): void {
    this.circuits.event(ev);
    const c = ev.circuit;
    if (!c) return;
    const fromClient = ev.srcIp === c.clientIp && ev.sport === c.clientPort;
    if (ev.type === 'EventAddResponse' && ev.pv !== undefined) this.held(c, fromClient, ev.pv);
    if (c.id === this.trace?.circuit) this.message(c, `${ev.type}${ev.pv === undefined ? '' : ` ${ev.pv}`}`);
  }

  /** A monitor update known by its header words (the circuits report counts it). */
  private update(m: DeclinedMessage): void {
    const c = m.circuit;
    const pv = c.ca.subscriptions.get(m.parameter2)?.channel?.name;
    if (pv !== undefined) this.held(c, m.fromClient, pv);
    if (c.id === this.trace?.circuit) this.message(c, `EventAddResponse${pv === undefined ? '' : ` ${pv}`}`);
  }

  /** An update on its way to a side whose window is (or was just) closed: held back by the stall. */
  private held(c: TcpCircuit, fromClient: boolean, pv: string): void {
    const st = this.state.get(c);
    const receiver = st && (fromClient ? st.server : st.client);
    receiver?.stall?.held.add(pv);
  }

  private message(c: TcpCircuit, text: string): void {
    const st = this.stateOf(c);
    (st.pending ??= []).push(text);
  }

  private stateOf(c: TcpCircuit): CircuitTcp {
    let st = this.state.get(c);
    if (!st) this.state.set(c, (st = new CircuitTcp()));
    return st;
  }

  private segment(v: SegmentView): void {
    const c = v.circuit;
    if (c.protocol !== 'ca') return;
    const st = this.stateOf(c);
    const me = v.fromClient ? st.client : st.server;
    const peer = v.fromClient ? st.server : st.client;
    const flags = v.flags;
    const seqLen = v.len + (flags & (SYN | FIN) ? 1 : 0);
    me.packets++;
    me.payloadBytes += v.len;
    const resent = (v.analysis & TcpFlag.RETRANSMISSION) !== 0;
    if (this.originSec < 0) this.originSec = v.sec;
    const t = v.sec - this.originSec + v.nsec * 1e-9;
    me.sampler.sent(v.seq, seqLen, resent, t);
    if (flags & ACK) peer.sampler.acked(v.ack, t);

    // Relative numbers (the trace): from the SYN, else one below the first sequence number seen.
    if (!me.hasBase) {
      me.base = flags & SYN ? v.seq : (v.seq - 1) | 0;
      me.hasBase = true;
    }
    if (flags & ACK && !peer.hasBase) {
      peer.base = (v.ack - 1) | 0;
      peer.hasBase = true;
    }
    const end = (v.seq + seqLen) | 0;
    if (!(v.analysis & TcpFlag.ZERO_WINDOW_PROBE) && (!me.hasNext || seqDiff(end, me.nextSeq) > 0)) {
      me.nextSeq = end;
      me.hasNext = true;
    }
    if (flags & ACK && (!me.hasAck || seqDiff(v.ack, me.highestAck) > 0)) {
      me.highestAck = v.ack | 0;
      me.hasAck = true;
    }

    // The window this side advertises (a SYN's is never scaled).
    const shift = (v.fromClient ? c.toServer : c.toClient).tcp.winScale;
    const scaled = !(flags & SYN) && shift >= 0;
    const window = scaled ? v.window * 2 ** shift : v.window;
    if (flags & ACK && !(flags & RST) && (me.minWindow < 0 || window < me.minWindow)) me.minWindow = window;

    // This side's stall: from a zero window; draining once it opens, until the other side's backlog is acknowledged.
    if (v.analysis & TcpFlag.ZERO_WINDOW) {
      if (me.stall?.draining) me.endStall();
      me.stall ??= { startFrame: v.frame, draining: false, waiting: 0, held: new Set() };
    } else if (me.stall) {
      if (!me.stall.draining && v.window > 0 && !(flags & RST)) me.stall.draining = true;
      if (me.stall.draining && me.stall.waiting > 0 && flags & ACK && peer.hasNext && seqDiff(v.ack, peer.nextSeq) >= 0) me.endStall();
    }
    if (peer.stall?.draining && v.len > 0 && !resent) peer.stall.waiting += v.len;

    if (c.id === this.trace?.circuit) this.traceRow(c, st, v, window, scaled || shift === SCALE_NONE || (flags & SYN) !== 0);
  }

  private traceRow(c: TcpCircuit, st: CircuitTcp, v: SegmentView, window: number, windowScaled: boolean): void {
    const me = v.fromClient ? st.client : st.server;
    const peer = v.fromClient ? st.server : st.client;
    const t = this.trace!;
    t.client = c.client;
    t.server = c.server;
    const inFlight = me.hasNext && peer.hasAck ? Math.max(0, seqDiff(me.nextSeq, peer.highestAck)) : 0;
    t.rows.push({
      frame: v.frame,
      time: v.time,
      relative: v.time - (c.synTime ?? c.firstSeen),
      fromClient: v.fromClient,
      flags: v.flags,
      seq: seqDiff(v.seq, me.base) >>> 0,
      ack: v.flags & ACK ? seqDiff(v.ack, peer.base) >>> 0 : undefined,
      len: v.len,
      window,
      windowScaled,
      inFlight,
      analysis: v.analysis,
      messages: st.pending ?? [],
    });
    st.pending = undefined;
  }

  circuitEnded(c: TcpCircuit): void {
    if (c.protocol !== 'ca') return;
    this.circuits.circuitEnded(c);
    const st = this.state.get(c) ?? new CircuitTcp();
    this.state.delete(c);
    st.client.endStall();
    st.server.endStall();
    this.ended.set(c.id, sidesOf(c, st));
  }

  finish(_result?: DissectResult): TcpPart {
    return { rows: tcpRows(this.circuits.finish(), this.ended), trace: this.trace };
  }

  /** --every: the rows so far, of the circuits still open too (a stall in progress as it stands). */
  snapshot(_result: unknown, open: readonly TcpCircuit[]): TcpPart {
    const ended = new Map(this.ended);
    for (const c of open) if (c.protocol === 'ca') ended.set(c.id, sidesOf(c, this.state.get(c) ?? new CircuitTcp(), true));
    return { rows: tcpRows(this.circuits.snapshot(_result, open), ended), trace: this.trace };
  }
}

/** A circuit's per-side facts (`open`: a stall in progress is listed as it stands, the state left as it is). */
function sidesOf(c: TcpCircuit, st: CircuitTcp, open = false): EndedCircuit {
  const side = (s: Side, shift: number): TcpSideSummary => ({
    packets: s.packets,
    payloadBytes: s.payloadBytes,
    rtt: rttStats(s.sampler),
    windowScale: scaleOf(shift),
    minWindow: s.minWindow < 0 ? undefined : s.minWindow,
  });
  const stalls = (s: Side) => (open && s.stall ? [...s.stalls, { startFrame: s.stall.startFrame, waitingBytes: s.stall.draining ? s.stall.waiting : undefined, heldPvs: [...s.stall.held] }] : s.stalls);
  // A side's RTT samples are its segments' round trips to the other side: the client's measure the server's end.
  return {
    client: side(st.client, c.toServer.tcp.winScale),
    server: side(st.server, c.toClient.tcp.winScale),
    client_stalls: stalls(st.client),
    server_stalls: stalls(st.server),
  };
}

/** The report's rows: each circuit's row with its sides' facts, its stalls with the bytes waiting and PVs held. */
function tcpRows(circuits: readonly CircuitSummary[], ended: ReadonlyMap<number, EndedCircuit>): TcpCircuitRow[] {
  return circuits.map((circuit): TcpCircuitRow => {
    const e = ended.get(circuit.id)!;
    const stalls = circuit.stalls.map((s): TcpStall => {
      const extra = (s.side === 'client' ? e.client_stalls : e.server_stalls).find((x) => x.startFrame === s.startFrame);
      return { ...s, waitingBytes: extra?.waitingBytes, heldPvs: extra?.heldPvs ?? [] };
    });
    return { circuit, client: e.client, server: e.server, stalls };
  });
}
