// TCP analysis of a connection, one direction at a time, by the rules of
// Wireshark's tcp.analysis flags (packet-tcp.c, tcp_analyze_sequence_number),
// so that its counts can be set beside tshark's for the same capture.
//
// A TcpFlow is what one endpoint sent: its segments' sequence numbers, and the
// ACK and window it advertised for the other direction. Its "next sequence
// number" is the highest seq + length (+1 for SYN or FIN) it has sent so far.
// The flags of a segment (TcpFlag), in Wireshark's words:
//
// - zero window probe: 1 byte at the next sequence number while the peer's window is 0;
// - zero window: the window field is 0 (no SYN, FIN or RST);
// - lost segment: it starts past the next sequence number: the capture did not
//   see the bytes before it (a hole);
// - keep-alive: 0 or 1 byte, one below the next sequence number;
// - window update: no data, same SEQ and ACK as before, a new non-zero window;
// - window full: its data reaches the right edge of the peer's window (needs the
//   window scale, so the handshake);
// - duplicate ACK: no data, same SEQ, ACK and non-zero window as the side's last segment;
// - and for a segment with data (or SYN/FIN) that does not advance the next
//   sequence number (and is no keep-alive): a fast retransmission (matches the
//   peer's last ACK after 2 or more duplicate ACKs, within 20 ms), else out of
//   order (within the handshake's round trip, or 3 ms, of the segment that set
//   the next sequence number, and not ending exactly there), else a spurious
//   retransmission (its data was already acknowledged), else a retransmission.
//   Fast and spurious retransmissions are retransmissions too.
//
// Two counts go beyond Wireshark's flags: a retransmission that carried bytes the
// capture had not seen (the caller says so: its reassembly knows) filled a hole
// late, its first copy never reached the capture point; and zero-window probes
// include keep-alives sent while the peer's window is 0, which is how Linux
// probes (Wireshark flags those keep-alive). A zero-window stall runs from a
// side's first zero window to its next segment with an open window.
//
// Per-packet code allocates nothing: the segment comes as whole numbers and the
// time in one reused clock (a float passed to a call is boxed); the state is
// numbers and bits; the common case (in order, nothing to flag) takes a short
// path. A direction's counts (TcpFlowEvents) are made at its first flagged
// segment, a stall record when a stall begins. segment() returns the flags of
// each segment, for a per-segment report (`cawire tcp`; RTT samples to come).

import { unixSeconds } from '../capture/types.js';

// The per-packet code reads its constants from const enums: tsc and esbuild write
// them as literals, where a module-level const is read with a check each time.

/** Analysis flags of one segment (bits). */
const enum Flag {
  RETRANSMISSION = 1 << 0,
  FAST_RETRANSMISSION = 1 << 1,
  SPURIOUS_RETRANSMISSION = 1 << 2,
  OUT_OF_ORDER = 1 << 3,
  /** Wireshark's lost_segment: the segment came after a hole */
  LOST_SEGMENT = 1 << 4,
  DUPLICATE_ACK = 1 << 5,
  ZERO_WINDOW = 1 << 6,
  WINDOW_FULL = 1 << 7,
  KEEP_ALIVE = 1 << 8,
  KEEP_ALIVE_ACK = 1 << 9,
  ZERO_WINDOW_PROBE = 1 << 10,
  ZERO_WINDOW_PROBE_ACK = 1 << 11,
  WINDOW_UPDATE = 1 << 12,
  /** a retransmission carrying bytes the capture had not seen */
  FILLED_HOLE = 1 << 13,
  /** the flags that are counted (the others only steer the analysis of later segments) */
  COUNTED = RETRANSMISSION | OUT_OF_ORDER | LOST_SEGMENT | DUPLICATE_ACK | ZERO_WINDOW | WINDOW_FULL | KEEP_ALIVE | ZERO_WINDOW_PROBE,
}

/** The analysis flags by name, as segment() returns them. */
export const TcpFlag = {
  RETRANSMISSION: Flag.RETRANSMISSION,
  FAST_RETRANSMISSION: Flag.FAST_RETRANSMISSION,
  SPURIOUS_RETRANSMISSION: Flag.SPURIOUS_RETRANSMISSION,
  OUT_OF_ORDER: Flag.OUT_OF_ORDER,
  LOST_SEGMENT: Flag.LOST_SEGMENT,
  DUPLICATE_ACK: Flag.DUPLICATE_ACK,
  ZERO_WINDOW: Flag.ZERO_WINDOW,
  WINDOW_FULL: Flag.WINDOW_FULL,
  KEEP_ALIVE: Flag.KEEP_ALIVE,
  KEEP_ALIVE_ACK: Flag.KEEP_ALIVE_ACK,
  ZERO_WINDOW_PROBE: Flag.ZERO_WINDOW_PROBE,
  ZERO_WINDOW_PROBE_ACK: Flag.ZERO_WINDOW_PROBE_ACK,
  WINDOW_UPDATE: Flag.WINDOW_UPDATE,
  FILLED_HOLE: Flag.FILLED_HOLE,
} as const;

/** TCP header flag bits (byte 13). */
const enum Tcp {
  FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  ACK = 0x10,
}

/** Wireshark's out-of-order window when the handshake's round trip is unknown. */
const DEFAULT_OUT_OF_ORDER_SEC = 0.003;
/** A retransmission this soon after the peer's duplicate ACKs is a fast retransmission. */
const FAST_RETRANSMISSION_SEC = 0.02;
/** Stall records kept per direction (the longest); all are counted. */
export const MAX_STALL_RECORDS = 8;

/** Window scale: unknown (handshake not seen), or not in use; else the shift 0..14. */
const enum Scale {
  UNKNOWN = -1,
  NONE = -2,
}
export const SCALE_UNKNOWN = Scale.UNKNOWN;
export const SCALE_NONE = Scale.NONE;

/** Where the capture is: set by the caller for each packet (one reused object, so no float is passed in a call). */
export interface TcpClock {
  /** whole seconds since originSec, and nanoseconds: small whole numbers, so times compare exactly to the nanosecond */
  sec: number;
  nsec: number;
  /** Unix seconds of the origin (e.g. the capture's first second) */
  originSec: number;
  frame: number;
}

export function newTcpClock(originSec = 0): TcpClock {
  return { sec: 0, nsec: 0, originSec, frame: 0 };
}

/** The clock's time in seconds since its origin. */
function secondsOf(c: TcpClock): number {
  return c.sec + c.nsec * 1e-9;
}

/** A period when one side advertised a zero window: it had stopped taking data. */
export interface ZeroWindowStall {
  startFrame: number;
  /** Unix seconds */
  startTime: number;
  /** the same exact (Unix seconds and nanoseconds), for printing */
  startSec: number;
  startNsec: number;
  /** the segment that opened the window again; undefined when it never was in the capture */
  endFrame?: number;
  endTime?: number;
  endSec?: number;
  endNsec?: number;
  /** zero-window segments the side sent during the stall */
  advertisements: number;
  /** probes the peer sent during the stall */
  probes: number;
}

/** Signed distance a - b in sequence space (mod 2^32). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** The window scale option's shift (RFC 7323) among the TCP options in buf[from, to), or -1 when there is none. */
export function windowScaleOption(buf: Buffer, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const kind = buf[i]!;
    if (kind === 0) break; // end of options
    if (kind === 1) {
      i++; // no-operation
      continue;
    }
    if (i + 1 >= to) break;
    const len = buf[i + 1]!;
    if (len < 2 || i + len > to) break;
    if (kind === 3 && len === 3) return buf[i + 2]!;
    i += len;
  }
  return -1;
}

/** What a direction's analysis counted: made at its first flagged segment (most directions have none). */
export class TcpFlowEvents {
  retransmissions = 0;
  /** frame of the first retransmission; undefined before one */
  firstRetransmissionFrame?: number = undefined;
  /** retransmissions that carried bytes the capture had not seen (their first copy never reached it) */
  holesFilledLate = 0;
  /** segments after a hole (Wireshark's lost_segment) */
  holes = 0;
  outOfOrder = 0;
  duplicateAcks = 0;
  zeroWindows = 0;
  windowFull = 0;
  /** probes of the peer's zero window (1-byte probes and keep-alives) */
  zeroWindowProbes = 0;
  keepAlives = 0;
  /** periods this side advertised a zero window */
  zeroWindowStalls = 0;
  /** the longest of them (at most MAX_STALL_RECORDS), in no particular order; undefined before one ended */
  stalls?: ZeroWindowStall[] = undefined;
  /** the stall in progress */
  stall?: ZeroWindowStall = undefined;
}

/** The counts of a direction with nothing to count. */
const NO_EVENTS: Readonly<TcpFlowEvents> = Object.freeze(new TcpFlowEvents());

/** TcpFlow.state bits: one field for what would be seven, since every circuit has two flows. */
const enum St {
  HAS_NEXT = 1 << 0,
  HAS_ACK = 1 << 1,
  /** the last window came on a SYN, which is never scaled */
  WINDOW_ON_SYN = 1 << 2,
  /** this side's last segment was a keep-alive / a zero window probe */
  LAST_KEEP_ALIVE = 1 << 3,
  LAST_PROBE = 1 << 4,
  /** `handshake` holds the latest SYN's time / the round trip */
  SYN_SEEN = 1 << 5,
  RTT_KNOWN = 1 << 6,
  /** duplicate ACKs in a row (2 bits, stops at 3: only "2 or more" matters) */
  DUP_SHIFT = 7,
  DUP_MASK = 3 << DUP_SHIFT,
  /** two or more duplicate ACKs */
  DUPS_2 = 2 << DUP_SHIFT,
  /** a zero-window stall of this side is in progress */
  STALLED = 1 << 9,
  /** the bits that outlive a segment */
  KEPT = SYN_SEEN | RTT_KNOWN | STALLED,
}

/**
 * One direction of a TCP connection: what one endpoint sent, and the analysis of
 * it. Small (every circuit has two): numbers and bits, the counts made when first needed.
 */
export class TcpFlow {
  /** highest sequence number sent + 1, as int32 (valid with HAS_NEXT) */
  private nextSeq = 0;
  /** the ACK of this side's last segment, as int32 (valid with HAS_ACK) */
  private lastAck = 0;
  /** the window field of this side's last segment; -1 before one */
  private window = -1;
  /** window scale shift of the windows this side advertises: SCALE_UNKNOWN, SCALE_NONE, or 0..14 */
  winScale: number = Scale.UNKNOWN;
  private state = 0;
  /** when nextSeq last moved, and when this side's last segment came (seconds since the clock's origin) */
  private nextSeqTime = 0;
  private lastAckTime = 0;
  /**
   * The connection's handshake, kept by both flows: the time of its latest SYN
   * (without ACK) until the first ACK without SYN, then the round trip between
   * the two (Wireshark's iRTT: its out-of-order window).
   */
  private handshake = 0;
  /** segments that take sequence space (data, SYN or FIN): those that can be retransmitted */
  segments = 0;
  private ev?: TcpFlowEvents = undefined;

  /** What was counted (all zero when nothing was). */
  get events(): Readonly<TcpFlowEvents> {
    return this.ev ?? NO_EVENTS;
  }

  /** The handshake's round trip as the capture saw it (SYN to the first ACK), in seconds; undefined until seen. */
  get firstRtt(): number | undefined {
    return this.state & St.RTT_KNOWN ? this.handshake : undefined;
  }

  /**
   * A SYN (synAck: with ACK) from this side, with its window scale option's shift
   * or -1: whether windows are scaled, as RFC 7323 and Wireshark decide it (both
   * SYNs must carry the option; the SYN is never scaled itself).
   */
  synOptions(rev: TcpFlow, synAck: boolean, shift: number): void {
    if (shift >= 0) this.winScale = Math.min(shift, 14);
    else {
      this.winScale = Scale.NONE;
      rev.winScale = Scale.NONE;
    }
    if (synAck && rev.winScale === Scale.NONE) this.winScale = Scale.NONE;
  }

  /**
   * Analyses a segment sent by this side (`rev` is the other direction) and returns
   * its TcpFlag bits. seq and ack are taken mod 2^32 (signed 32-bit costs least);
   * window is the field as sent; len the payload bytes on the wire, newBytes those
   * the capture had not seen before (the caller's reassembly knows).
   */
  segment(rev: TcpFlow, seq: number, ack: number, flags: number, window: number, len: number, newBytes: number, clock: TcpClock): number {
    // Small, so that the common case is decided without a call.
    return this.inOrder(rev, seq | 0, ack | 0, flags, window, len, clock) ? 0 : this.analyze(rev, seq | 0, ack | 0, flags, window, len, newBytes, clock);
  }

  /**
   * The common case, taken when the rules would flag nothing: data at the next
   * sequence number that neither was acknowledged already nor fills the peer's
   * window, or no data and an ACK that moved; open windows, no stall, not the
   * handshake's last ACK. Returns false to leave the segment to the rules.
   * (Sequence arithmetic written out, `(a - b) | 0`: no call in this path.)
   */
  private inOrder(rev: TcpFlow, seq: number, ack: number, flags: number, window: number, len: number, clock: TcpClock): boolean {
    const state = this.state;
    const k = state & (St.HAS_NEXT | St.STALLED | St.SYN_SEEN | St.RTT_KNOWN);
    if ((k !== St.HAS_NEXT && k !== (St.HAS_NEXT | St.SYN_SEEN | St.RTT_KNOWN)) || seq !== this.nextSeq || flags & (Tcp.SYN | Tcp.FIN | Tcp.RST) || window === 0 || rev.window === 0) {
      return false;
    }
    const moved = !(state & St.HAS_ACK) || ack !== this.lastAck;
    const t = secondsOf(clock);
    if (len > 1) {
      const end = (seq + len) | 0;
      const revState = rev.state;
      if (revState & St.HAS_ACK) {
        if (((end - rev.lastAck) | 0) <= 0) return false; // spurious
        const shift = rev.winScale;
        if (shift !== Scale.UNKNOWN) {
          const edge = (rev.lastAck + (revState & St.WINDOW_ON_SYN || shift < 0 ? rev.window : rev.window << shift)) | 0;
          if (end === edge) return false; // window full
        }
      }
      this.nextSeq = end;
      this.nextSeqTime = t;
      this.segments++;
    } else if (len !== 0 || !moved) return false;
    this.state = (state & (St.KEPT | (moved ? 0 : St.DUP_MASK))) | St.HAS_NEXT | (flags & Tcp.ACK ? St.HAS_ACK : 0);
    this.window = window;
    this.lastAck = ack;
    this.lastAckTime = t;
    return true;
  }

  /** The rules, in Wireshark's order. */
  private analyze(rev: TcpFlow, seq: number, ack: number, flags: number, window: number, len: number, newBytes: number, clock: TcpClock): number {
    const control = flags & (Tcp.SYN | Tcp.FIN | Tcp.RST);
    const state = this.state;
    const hasNext = (state & St.HAS_NEXT) !== 0;
    const t = secondsOf(clock);
    let a = 0;

    if (flags & Tcp.SYN) {
      if (!(flags & Tcp.ACK)) this.timeSyn(rev, t);
    } else if (flags & Tcp.ACK && (state & (St.SYN_SEEN | St.RTT_KNOWN)) === St.SYN_SEEN) {
      this.handshake = rev.handshake = t - this.handshake;
      this.state |= St.RTT_KNOWN;
      rev.state |= St.RTT_KNOWN;
    }

    if (len === 1 && hasNext && seq === this.nextSeq && rev.window === 0) {
      a |= Flag.ZERO_WINDOW_PROBE;
    } else {
      if (window === 0 && control === 0) a |= Flag.ZERO_WINDOW;
      if (hasNext && seqDiff(seq, this.nextSeq) > 0 && !(flags & Tcp.RST)) a |= Flag.LOST_SEGMENT;
      if (len <= 1 && hasNext && seqDiff(seq, this.nextSeq) === -1 && control === 0) a |= Flag.KEEP_ALIVE;
      // A segment without data repeating this side's SEQ and ACK: a window update, or an ACK repeated.
      const repeats = len === 0 && control === 0 && hasNext && seq === this.nextSeq && state & St.HAS_ACK && ack === this.lastAck;
      if (repeats && window !== 0 && window !== this.window) a |= Flag.WINDOW_UPDATE;
      if (len > 0 && control === 0 && rev.winScale !== Scale.UNKNOWN && rev.state & St.HAS_ACK && rev.window >= 0 && seqDiff(seq + len, rev.rightEdge()) === 0) {
        a |= Flag.WINDOW_FULL;
      }
      if (repeats && window === this.window) {
        if (window !== 0 && rev.state & St.LAST_KEEP_ALIVE) a |= Flag.KEEP_ALIVE_ACK;
        else if (window === 0 && rev.state & St.LAST_PROBE) a |= Flag.ZERO_WINDOW_PROBE_ACK;
        else if (window !== 0) a |= Flag.DUPLICATE_ACK;
      }
    }
    if ((len > 0 || flags & (Tcp.SYN | Tcp.FIN)) && !(a & Flag.KEEP_ALIVE)) a |= this.resent(rev, seq, flags, len, t);

    // The highest sequence number so far (a zero window probe does not move it).
    const next = (seq + len + (flags & (Tcp.SYN | Tcp.FIN) ? 1 : 0)) | 0;
    if ((!hasNext || seqDiff(next, this.nextSeq) > 0) && !(a & Flag.ZERO_WINDOW_PROBE)) {
      this.nextSeq = next;
      this.nextSeqTime = t;
    }
    // Duplicate ACKs in a row: one more, or none when the ACK moved.
    let dups = (state & St.DUP_MASK) >> St.DUP_SHIFT;
    if (a & Flag.DUPLICATE_ACK) dups = Math.min(dups + 1, 3);
    else if (!(state & St.HAS_ACK) || ack !== this.lastAck) dups = 0;
    this.state =
      (this.state & St.KEPT) |
      St.HAS_NEXT |
      (flags & Tcp.ACK ? St.HAS_ACK : 0) |
      (flags & Tcp.SYN ? St.WINDOW_ON_SYN : 0) |
      (a & Flag.KEEP_ALIVE ? St.LAST_KEEP_ALIVE : 0) |
      (a & Flag.ZERO_WINDOW_PROBE ? St.LAST_PROBE : 0) |
      (dups << St.DUP_SHIFT);
    this.window = window;
    this.lastAck = ack;
    this.lastAckTime = t;

    if (len > 0 || flags & (Tcp.SYN | Tcp.FIN)) this.segments++;
    if (a & Flag.COUNTED || this.state & St.STALLED) a = this.count(rev, a, window, flags, newBytes, clock);
    return a;
  }

  /** The sequence number just past the window this side advertised last (scale known; the SYN's window is never scaled). */
  private rightEdge(): number {
    const scaled = this.state & St.WINDOW_ON_SYN || this.winScale < 0 ? this.window : this.window << this.winScale;
    return (this.lastAck + scaled) | 0;
  }

  /** A SYN without ACK: the handshake's clock starts (again), for both flows. */
  private timeSyn(rev: TcpFlow, t: number): void {
    if (this.state & St.RTT_KNOWN) return;
    this.handshake = rev.handshake = t;
    this.state |= St.SYN_SEEN;
    rev.state |= St.SYN_SEEN;
  }

  /** A segment with data, SYN or FIN that may not advance the sequence: which kind of resend, if any. */
  private resent(rev: TcpFlow, seq: number, flags: number, len: number, t: number): number {
    const hasNext = (this.state & St.HAS_NEXT) !== 0;
    let notAdvanced = hasNext && seqDiff(seq, this.nextSeq) < 0;
    // More than a byte from one below the next sequence number: new data after a zero window probe.
    if (len > 1 && seqDiff(seq, this.nextSeq) === -1) notAdvanced = false;
    if (notAdvanced && rev.state & St.DUPS_2 && rev.lastAck === seq && inWindow(t - rev.lastAckTime, FAST_RETRANSMISSION_SEC)) {
      return Flag.RETRANSMISSION | Flag.FAST_RETRANSMISSION;
    }
    const rtt = this.state & St.RTT_KNOWN && this.handshake > 0 ? this.handshake : DEFAULT_OUT_OF_ORDER_SEC;
    const end = (seq + len + (flags & (Tcp.SYN | Tcp.FIN) ? 1 : 0)) | 0;
    // (one that ends where the sequence has got to is a resend of the last segment, not out of order)
    if (notAdvanced && inWindow(t - this.nextSeqTime, rtt) && seqDiff(this.nextSeq, end) !== 0) return Flag.OUT_OF_ORDER;
    if (len > 0 && rev.state & St.HAS_ACK && seqDiff(seq + len, rev.lastAck) <= 0) return Flag.RETRANSMISSION | Flag.SPURIOUS_RETRANSMISSION;
    return notAdvanced ? Flag.RETRANSMISSION : 0;
  }

  /** Counts a flagged segment (and follows a stall); returns its flags with FILLED_HOLE when it filled one. */
  private count(rev: TcpFlow, a: number, window: number, flags: number, newBytes: number, clock: TcpClock): number {
    const e = (this.ev ??= new TcpFlowEvents());
    if (a & Flag.RETRANSMISSION) {
      e.retransmissions++;
      e.firstRetransmissionFrame ??= clock.frame;
      if (newBytes > 0) {
        a |= Flag.FILLED_HOLE;
        e.holesFilledLate++;
      }
    }
    if (a & Flag.OUT_OF_ORDER) e.outOfOrder++;
    if (a & Flag.LOST_SEGMENT) e.holes++;
    if (a & Flag.DUPLICATE_ACK) e.duplicateAcks++;
    if (a & Flag.WINDOW_FULL) e.windowFull++;
    if (a & Flag.KEEP_ALIVE) e.keepAlives++;
    if (a & Flag.ZERO_WINDOW) {
      e.zeroWindows++;
      if (!e.stall) {
        e.zeroWindowStalls++;
        const startTime = unixSeconds(clock.originSec + clock.sec, clock.nsec);
        e.stall = {
          startFrame: clock.frame,
          startTime,
          startSec: clock.originSec + clock.sec,
          startNsec: clock.nsec,
          endFrame: undefined,
          endTime: undefined,
          endSec: undefined,
          endNsec: undefined,
          advertisements: 0,
          probes: 0,
        };
        this.state |= St.STALLED;
      }
      e.stall.advertisements++;
    } else if (e.stall && window > 0 && !(flags & Tcp.RST)) {
      e.stall.endFrame = clock.frame;
      e.stall.endTime = unixSeconds(clock.originSec + clock.sec, clock.nsec);
      e.stall.endSec = clock.originSec + clock.sec;
      e.stall.endNsec = clock.nsec;
      keep(e, e.stall);
      e.stall = undefined;
      this.state &= ~St.STALLED;
    }
    // Probes of the peer's closed window: Wireshark's zero window probes, and keep-alives (how Linux probes).
    if (a & Flag.ZERO_WINDOW_PROBE || (a & Flag.KEEP_ALIVE && rev.window === 0)) {
      e.zeroWindowProbes++;
      const stall = rev.ev?.stall;
      if (stall) stall.probes++;
    }
    return a;
  }

  /** The end of the capture or of the circuit: a stall still in progress is kept, without an end. */
  finish(): void {
    const e = this.ev;
    if (!e?.stall) return;
    keep(e, e.stall);
    e.stall = undefined;
    this.state &= ~St.STALLED;
  }
}

/** Keeps a stall record: while there is room, else in place of a shorter one (one without an end counts as longest). */
function keep(e: TcpFlowEvents, stall: ZeroWindowStall): void {
  const list = (e.stalls ??= []);
  if (list.length < MAX_STALL_RECORDS) {
    list.push(stall);
    return;
  }
  let shortest = 0;
  for (let i = 1; i < list.length; i++) if (stallSeconds(list[i]!) < stallSeconds(list[shortest]!)) shortest = i;
  if (stallSeconds(stall) > stallSeconds(list[shortest]!)) list[shortest] = stall;
}

/** 0 <= dt < limit (a packet stamped before the reference is not within it, as in Wireshark's unsigned arithmetic). */
function inWindow(dt: number, limit: number): boolean {
  return dt >= 0 && dt < limit;
}

/** How long a stall lasted; Infinity while it has no end. */
export function stallSeconds(s: ZeroWindowStall): number {
  return s.endTime === undefined ? Infinity : s.endTime - s.startTime;
}
