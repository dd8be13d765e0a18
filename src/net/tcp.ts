// One direction of a TCP connection put back in sequence order.
//
// In-order segments (the common case) are handed straight to the consumer as
// views of the capture buffer. Retransmitted bytes are dropped, overlaps trimmed,
// segments that arrive early are copied and held until the hole before them is
// filled. A hole is declared lost from the capture (a gap) when the receiver has
// acknowledged bytes past it, when the held bytes exceed the limits, or at the end.
// Which segments are retransmissions, out of order and so on is for TcpFlow
// (tcp-analysis.ts) to say; this only tells it how many bytes were new.

export interface StreamConsumer {
  data(buf: Buffer, off: number, len: number): void;
  /** `bytes` were lost from the capture before the next data */
  gap(bytes: number): void;
}

export interface TcpLimits {
  /** bytes held out of order per direction before a hole is given up as lost */
  maxHeldPerStream: number;
  /**
   * bytes charged per held segment on top of its data, against both limits: a copy
   * and its list entry cost about 250 bytes, so 1-byte segments must not count as 1
   */
  heldSegmentCost?: number;
}

/** Bytes held out of order across all streams; shared so the total stays bounded too. */
export class HeldBudget {
  held = 0;
  constructor(readonly max: number) {}
}

export interface TcpStreamStats {
  /** payload bytes delivered in order */
  bytes: number;
  /** holes given up as lost from the capture, and their bytes */
  gaps: number;
  gapBytes: number;
}

interface Held {
  seq: number;
  data: Buffer;
}

/** Segments held per direction at most: an insertion shifts the list, so its length is bounded too (8192 x 1448 B > 8 MiB). */
const MAX_HELD_SEGMENTS = 8192;

/** The held list of every stream that has held nothing yet (never written: hold() gives a stream its own list first). */
const NOTHING_HELD: Held[] = [];

/** Signed distance a - b in sequence space (mod 2^32). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export class TcpStream {
  private next = 0;
  private started = false;
  /** highest ACK the peer sent (valid when peerAcked) */
  private peerAck = 0;
  private peerAcked = false;
  private held: Held[] = NOTHING_HELD;
  private heldBytes = 0;
  readonly stats: TcpStreamStats = { bytes: 0, gaps: 0, gapBytes: 0 };

  constructor(
    private readonly consumer: StreamConsumer,
    private readonly limits: TcpLimits,
    private readonly budget: HeldBudget,
  ) {}

  /** The SYN fixes the initial sequence number: data starts at isn + 1. */
  syn(isn: number): void {
    if (this.started && this.stats.bytes > 0) return;
    this.next = (isn + 1) >>> 0;
    this.started = true;
  }

  /** Sequence number after the last byte delivered (or skipped as lost). */
  get nextSeq(): number {
    return this.next;
  }

  /** The peer acknowledged everything before `ack`. */
  ack(ack: number): void {
    if (!this.peerAcked || seqDiff(ack, this.peerAck) > 0) {
      this.peerAck = ack;
      this.peerAcked = true;
    }
    if (this.held.length > 0 && seqDiff(ack, this.held[0]!.seq) >= 0) this.skipToHeld();
  }

  /**
   * A segment's payload. Returns how many of its bytes were new: not delivered
   * before nor held already (bytes of a hole given up as a gap count as old).
   */
  segment(seq: number, buf: Buffer, off: number, len: number): number {
    if (len === 0) return 0;
    if (!this.started) {
      this.next = seq;
      this.started = true;
    }
    let d = seqDiff(seq, this.next);
    if (d < 0) {
      // Starts before what we have: a retransmission, maybe with new bytes at its end.
      if (d + len <= 0) return 0;
      off -= d;
      len += d;
      seq = this.next;
      d = 0;
    }
    if (d > 0) {
      // Early: a hole before it. If the peer already acknowledged past the hole, the capture lost it.
      const added = this.hold(seq, buf, off, len);
      if (this.peerAcked && seqDiff(this.peerAck, seq) >= 0) this.skipToHeld();
      else this.enforceLimits();
      return added;
    }
    this.deliver(buf, off, len);
    if (this.held.length > 0) this.drain();
    return len;
  }

  /** End of capture or connection: give up on holes and deliver what is held. */
  flush(): void {
    while (this.held.length > 0) this.skipToHeld();
  }

  private deliver(buf: Buffer, off: number, len: number): void {
    this.next = (this.next + len) >>> 0;
    this.stats.bytes += len;
    this.consumer.data(buf, off, len);
  }

  /** Holds an early segment; returns its bytes, or 0 when a held segment already has them. */
  private hold(seq: number, buf: Buffer, off: number, len: number): number {
    // Keep the list sorted by seq (binary search: segments may come in any order); duplicates of a held segment are retransmissions.
    let i = 0;
    for (let hi = this.held.length; i < hi; ) {
      const mid = (i + hi) >>> 1;
      if (seqDiff(this.held[mid]!.seq, seq) > 0) hi = mid;
      else i = mid + 1;
    }
    const prev = this.held[i - 1];
    if (prev && prev.seq === seq && prev.data.length >= len) return 0;
    const data = Buffer.from(buf.subarray(off, off + len));
    if (this.held === NOTHING_HELD) this.held = [];
    this.held.splice(i, 0, { seq, data });
    const cost = len + (this.limits.heldSegmentCost ?? 0);
    this.heldBytes += cost;
    this.budget.held += cost;
    return len;
  }

  /** Deliver held segments that now continue the stream. */
  private drain(): void {
    while (this.held.length > 0) {
      const h = this.held[0]!;
      const d = seqDiff(h.seq, this.next);
      if (d > 0) return;
      this.held.shift();
      const cost = h.data.length + (this.limits.heldSegmentCost ?? 0);
      this.heldBytes -= cost;
      this.budget.held -= cost;
      const skip = -d;
      if (skip >= h.data.length) continue; // its bytes came again in the segment that filled the hole
      this.deliver(h.data, skip, h.data.length - skip);
    }
  }

  /** Declare the hole before the first held segment lost, then deliver what follows. */
  private skipToHeld(): void {
    const first = this.held[0];
    if (!first) return;
    const lost = seqDiff(first.seq, this.next);
    if (lost > 0) {
      this.stats.gaps++;
      this.stats.gapBytes += lost;
      this.next = first.seq;
      this.consumer.gap(lost);
    }
    this.drain();
  }

  private enforceLimits(): void {
    while (
      this.held.length > 0 &&
      (this.heldBytes > this.limits.maxHeldPerStream || this.budget.held > this.budget.max || this.held.length > MAX_HELD_SEGMENTS)
    ) {
      this.skipToHeld();
    }
  }
}
