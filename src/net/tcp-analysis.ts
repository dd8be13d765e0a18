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
// Per-packet code allocates nothing: the segment comes in one reused view, the
// state is numbers and bits. A direction's counts (TcpFlowEvents) are made at its
// first flagged segment, a stall record when a stall begins. segment() returns the
// flags of each segment, for a per-segment report.

/** Analysis flags of one segment (bits). */
export const TcpFlag = {
  RETRANSMISSION: 1 << 0,
  FAST_RETRANSMISSION: 1 << 1,
  SPURIOUS_RETRANSMISSION: 1 << 2,
  OUT_OF_ORDER: 1 << 3,
  /** Wireshark's lost_segment: the segment came after a hole */
  LOST_SEGMENT: 1 << 4,
  DUPLICATE_ACK: 1 << 5,
  ZERO_WINDOW: 1 << 6,
  WINDOW_FULL: 1 << 7,
  KEEP_ALIVE: 1 << 8,
  KEEP_ALIVE_ACK: 1 << 9,
  ZERO_WINDOW_PROBE: 1 << 10,
  ZERO_WINDOW_PROBE_ACK: 1 << 11,
  WINDOW_UPDATE: 1 << 12,
  /** a retransmission carrying bytes the capture had not seen */
  FILLED_HOLE: 1 << 13,
} as const;

/** TCP header flag bits (byte 13). */
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/** Wireshark's out-of-order window when the handshake's round trip is unknown. */
const DEFAULT_OUT_OF_ORDER_SEC = 0.003;
/** A retransmission this soon after the peer's duplicate ACKs is a fast retransmission. */
const FAST_RETRANSMISSION_SEC = 0.02;
/** Stall records kept per direction (the longest); all are counted. */
export const MAX_STALL_RECORDS = 8;

/** Window scale: unknown (handshake not seen), or not in use; else the shift 0..14. */
export const SCALE_UNKNOWN = -1;
export const SCALE_NONE = -2;

/** One segment, filled in by the caller for each packet (one reused object). */
export interface TcpSegmentView {
  seq: number;
  ack: number;
  /** TCP header flags (byte 13) */
  flags: number;
  /** the window field as sent (unscaled) */
  window: number;
  /** payload bytes on the wire */
  len: number;
  /** payload bytes the capture had not seen before (the caller's reassembly knows) */
  newBytes: number;
  /** capture time in seconds from any fixed origin, exact to the nanosecond: for the timing rules */
  t: number;
  /** capture time, Unix seconds: recorded in stalls */
  now: number;
  frame: number;
}

export function newSegmentView(): TcpSegmentView {
  return { seq: 0, ack: 0, flags: 0, window: 0, len: 0, newBytes: 0, t: 0, now: 0, frame: 0 };
}

/** A period when one side advertised a zero window: it had stopped taking data. */
export interface ZeroWindowStall {
  startFrame: number;
  /** Unix seconds */
  startTime: number;
  /** the segment that opened the window again; undefined when it never was in the capture */
  endFrame?: number;
  endTime?: number;
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

/** Flags that are counted (the others only steer the analysis of later segments). */
const COUNTED =
  TcpFlag.RETRANSMISSION |
  TcpFlag.OUT_OF_ORDER |
  TcpFlag.LOST_SEGMENT |
  TcpFlag.DUPLICATE_ACK |
  TcpFlag.ZERO_WINDOW |
  TcpFlag.WINDOW_FULL |
  TcpFlag.KEEP_ALIVE |
  TcpFlag.ZERO_WINDOW_PROBE;

// TcpFlow.state bits. One field for what would be seven, since every circuit has two flows.
const HAS_NEXT = 1 << 0;
const HAS_ACK = 1 << 1;
/** the last window came on a SYN, which is never scaled */
const WINDOW_ON_SYN = 1 << 2;
/** this side's last segment was a keep-alive / a zero window probe */
const LAST_KEEP_ALIVE = 1 << 3;
const LAST_PROBE = 1 << 4;
/** `handshake` holds the latest SYN's time / the round trip */
const SYN_SEEN = 1 << 5;
const RTT_KNOWN = 1 << 6;
/** duplicate ACKs in a row (2 bits, stops at 3: only "2 or more" matters) */
const DUP_SHIFT = 7;
const DUP_MASK = 3 << DUP_SHIFT;

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
  winScale: number = SCALE_UNKNOWN;
  private state = 0;
  /** when nextSeq last moved, and when this side's last segment came (TcpSegmentView.t) */
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
    return this.state & RTT_KNOWN ? this.handshake : undefined;
  }

  /**
   * A SYN (synAck: with ACK) from this side, with its window scale option's shift
   * or -1: whether windows are scaled, as RFC 7323 and Wireshark decide it (both
   * SYNs must carry the option; the SYN is never scaled itself).
   */
  synOptions(rev: TcpFlow, synAck: boolean, shift: number): void {
    if (shift >= 0) this.winScale = Math.min(shift, 14);
    else {
      this.winScale = SCALE_NONE;
      rev.winScale = SCALE_NONE;
    }
    if (synAck && rev.winScale === SCALE_NONE) this.winScale = SCALE_NONE;
  }

  /** Analyses segment `s`, sent by this side (`rev` is the other direction); returns its TcpFlag bits. */
  segment(rev: TcpFlow, s: TcpSegmentView): number {
    const seq = s.seq | 0;
    const ack = s.ack | 0;
    const len = s.len;
    const window = s.window;
    const flags = s.flags;
    const control = flags & (SYN | FIN | RST);
    const state = this.state;
    const hasNext = (state & HAS_NEXT) !== 0;
    let a = 0;

    if (flags & SYN) {
      if (!(flags & ACK)) this.timeSyn(rev, s.t);
    } else if (flags & ACK && (state & (SYN_SEEN | RTT_KNOWN)) === SYN_SEEN) {
      this.handshake = rev.handshake = s.t - this.handshake;
      this.state |= RTT_KNOWN;
      rev.state |= RTT_KNOWN;
    }

    if (len === 1 && hasNext && seq === this.nextSeq && rev.window === 0) {
      a |= TcpFlag.ZERO_WINDOW_PROBE;
    } else {
      if (window === 0 && control === 0) a |= TcpFlag.ZERO_WINDOW;
      if (hasNext && seqDiff(seq, this.nextSeq) > 0 && !(flags & RST)) a |= TcpFlag.LOST_SEGMENT;
      if (len <= 1 && hasNext && seqDiff(seq, this.nextSeq) === -1 && control === 0) a |= TcpFlag.KEEP_ALIVE;
      // A segment without data repeating this side's SEQ and ACK: a window update, or an ACK repeated.
      const repeats = len === 0 && control === 0 && hasNext && seq === this.nextSeq && state & HAS_ACK && ack === this.lastAck;
      if (repeats && window !== 0 && window !== this.window) a |= TcpFlag.WINDOW_UPDATE;
      if (len > 0 && control === 0 && rev.winScale !== SCALE_UNKNOWN && rev.state & HAS_ACK && rev.window >= 0) {
        const scaled = rev.state & WINDOW_ON_SYN || rev.winScale < 0 ? rev.window : rev.window * 2 ** rev.winScale;
        if (seqDiff(seq + len, rev.lastAck + scaled) === 0) a |= TcpFlag.WINDOW_FULL;
      }
      if (repeats && window === this.window) {
        if (window !== 0 && rev.state & LAST_KEEP_ALIVE) a |= TcpFlag.KEEP_ALIVE_ACK;
        else if (window === 0 && rev.state & LAST_PROBE) a |= TcpFlag.ZERO_WINDOW_PROBE_ACK;
        else if (window !== 0) a |= TcpFlag.DUPLICATE_ACK;
      }
    }
    if ((len > 0 || flags & (SYN | FIN)) && !(a & TcpFlag.KEEP_ALIVE)) a |= this.resent(rev, s, seq);

    // The highest sequence number so far (a zero window probe does not move it).
    const next = (seq + len + (flags & (SYN | FIN) ? 1 : 0)) | 0;
    if ((!hasNext || seqDiff(next, this.nextSeq) > 0) && !(a & TcpFlag.ZERO_WINDOW_PROBE)) {
      this.nextSeq = next;
      this.nextSeqTime = s.t;
    }
    // Duplicate ACKs in a row: one more, or none when the ACK moved.
    let dups = (state & DUP_MASK) >> DUP_SHIFT;
    if (a & TcpFlag.DUPLICATE_ACK) dups = Math.min(dups + 1, 3);
    else if (!(state & HAS_ACK) || ack !== this.lastAck) dups = 0;
    this.state =
      (this.state & (SYN_SEEN | RTT_KNOWN)) |
      HAS_NEXT |
      (flags & ACK ? HAS_ACK : 0) |
      (flags & SYN ? WINDOW_ON_SYN : 0) |
      (a & TcpFlag.KEEP_ALIVE ? LAST_KEEP_ALIVE : 0) |
      (a & TcpFlag.ZERO_WINDOW_PROBE ? LAST_PROBE : 0) |
      (dups << DUP_SHIFT);
    this.window = window;
    this.lastAck = ack;
    this.lastAckTime = s.t;

    if (len > 0 || flags & (SYN | FIN)) this.segments++;
    if (a & COUNTED || this.ev?.stall) a = this.count(rev, s, a);
    return a;
  }

  /** A SYN without ACK: the handshake's clock starts (again), for both flows. */
  private timeSyn(rev: TcpFlow, t: number): void {
    if (this.state & RTT_KNOWN) return;
    this.handshake = rev.handshake = t;
    this.state |= SYN_SEEN;
    rev.state |= SYN_SEEN;
  }

  /** A segment with data, SYN or FIN that may not advance the sequence: which kind of resend, if any. */
  private resent(rev: TcpFlow, s: TcpSegmentView, seq: number): number {
    const len = s.len;
    const hasNext = (this.state & HAS_NEXT) !== 0;
    let notAdvanced = hasNext && seqDiff(seq, this.nextSeq) < 0;
    // More than a byte from one below the next sequence number: new data after a zero window probe.
    if (len > 1 && seqDiff(seq, this.nextSeq) === -1) notAdvanced = false;
    if (notAdvanced && rev.state & (2 << DUP_SHIFT) && rev.lastAck === seq && inWindow(s.t - rev.lastAckTime, FAST_RETRANSMISSION_SEC)) {
      return TcpFlag.RETRANSMISSION | TcpFlag.FAST_RETRANSMISSION;
    }
    const rtt = this.state & RTT_KNOWN && this.handshake > 0 ? this.handshake : DEFAULT_OUT_OF_ORDER_SEC;
    const end = seq + len + (s.flags & (SYN | FIN) ? 1 : 0);
    // (one that ends where the sequence has got to is a resend of the last segment, not out of order)
    if (notAdvanced && inWindow(s.t - this.nextSeqTime, rtt) && seqDiff(this.nextSeq, end) !== 0) return TcpFlag.OUT_OF_ORDER;
    if (len > 0 && rev.state & HAS_ACK && seqDiff(seq + len, rev.lastAck) <= 0) return TcpFlag.RETRANSMISSION | TcpFlag.SPURIOUS_RETRANSMISSION;
    return notAdvanced ? TcpFlag.RETRANSMISSION : 0;
  }

  /** Counts a flagged segment (and follows a stall); returns its flags with FILLED_HOLE when it filled one. */
  private count(rev: TcpFlow, s: TcpSegmentView, a: number): number {
    const e = (this.ev ??= new TcpFlowEvents());
    if (a & TcpFlag.RETRANSMISSION) {
      e.retransmissions++;
      e.firstRetransmissionFrame ??= s.frame;
      if (s.newBytes > 0) {
        a |= TcpFlag.FILLED_HOLE;
        e.holesFilledLate++;
      }
    }
    if (a & TcpFlag.OUT_OF_ORDER) e.outOfOrder++;
    if (a & TcpFlag.LOST_SEGMENT) e.holes++;
    if (a & TcpFlag.DUPLICATE_ACK) e.duplicateAcks++;
    if (a & TcpFlag.WINDOW_FULL) e.windowFull++;
    if (a & TcpFlag.KEEP_ALIVE) e.keepAlives++;
    if (a & TcpFlag.ZERO_WINDOW) {
      e.zeroWindows++;
      if (!e.stall) {
        e.zeroWindowStalls++;
        e.stall = { startFrame: s.frame, startTime: s.now, endFrame: undefined, endTime: undefined, advertisements: 0, probes: 0 };
      }
      e.stall.advertisements++;
    } else if (e.stall && s.window > 0 && !(s.flags & RST)) {
      e.stall.endFrame = s.frame;
      e.stall.endTime = s.now;
      keep(e, e.stall);
      e.stall = undefined;
    }
    // Probes of the peer's closed window: Wireshark's zero window probes, and keep-alives (how Linux probes).
    if (a & TcpFlag.ZERO_WINDOW_PROBE || (a & TcpFlag.KEEP_ALIVE && rev.window === 0)) {
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
