// Ground truth for one direction of a synthetic TCP circuit: which packet
// completes each CA message the sender queued, as a receiver of the capture
// (not of the network) sees it. Packets that repeat bytes already captured are
// retransmissions; packets that start past the captured bytes arrived early;
// bytes the capture was told to miss become a gap when the next data packet
// shows that the stream went on past them.

import type { TruthEffect } from './truth.js';

/** A CA message queued on the stream, told the time of the packet that completes it. */
export interface StreamMessage {
  readonly type: string;
  /** the truth entry written when the completing packet is */
  effect(): TruthEffect;
  /** set to the scenario time (ns) of the completing packet, when the capture holds it */
  completedAt?: number;
}

export class StreamTruth {
  /** stream offset after everything queued so far */
  private queued = 0;
  /** bytes [0, covered) of the stream are in the capture, contiguously */
  private covered = 0;
  /** captured byte ranges past `covered`, from packets that arrived early */
  private early: Array<[number, number]> = [];
  /** bytes the capture misses, once the stream has gone past them */
  private missing: [number, number] | undefined;
  /** queued messages not yet complete, in stream order, with their end offsets */
  private waiting: Array<{ end: number; message: StreamMessage }> = [];

  /** @param firstSeq sequence number of the stream's first data byte (ISN + 1) */
  constructor(private readonly firstSeq: number) {}

  /** true while bytes known to be missing wait for a later packet to reveal the gap */
  get gapPending(): boolean {
    return this.missing !== undefined;
  }

  /** The messages of the next send, in order; returns the stream offset where the send starts. */
  queue(messages: readonly StreamMessage[], lengths: readonly number[]): number {
    const start = this.queued;
    messages.forEach((message, i) => {
      this.queued += lengths[i]!;
      this.waiting.push({ end: this.queued, message });
    });
    return start;
  }

  /** Stream bytes [start, end) will not be in the capture. */
  miss(start: number, end: number): void {
    if (this.missing) throw new Error('a second capture gap before the first one showed');
    this.missing = [start, end];
  }

  /** A captured packet carrying `len` data bytes from sequence number `seq`; its effects go to `effects`. */
  data(at: number, seq: number, len: number, effects: TruthEffect[]): void {
    // offsets grow past 2^32 on long circuits: place seq relative to what is covered
    const start = this.covered + ((seq - this.firstSeq - this.covered) | 0);
    const end = start + len;
    if (end <= this.covered) {
      effects.push({ kind: 'retransmission' });
      return;
    }
    if (this.missing && start >= this.missing[1]) this.revealGap(effects);
    if (start > this.covered) {
      this.early.push([start, end]);
      effects.push({ kind: 'out-of-order' });
      return;
    }
    this.covered = end;
    this.early.sort((a, b) => a[0] - b[0]);
    while (this.early.length > 0 && this.early[0]![0] <= this.covered) {
      this.covered = Math.max(this.covered, this.early.shift()![1]);
    }
    let done = 0;
    while (done < this.waiting.length && this.waiting[done]!.end <= this.covered) {
      const { message } = this.waiting[done++]!;
      message.completedAt = at;
      effects.push(message.effect());
    }
    if (done > 0) this.waiting.splice(0, done);
  }

  private revealGap(effects: TruthEffect[]): void {
    const [start, end] = this.missing!;
    this.missing = undefined;
    let lost = 0;
    while (lost < this.waiting.length && this.waiting[lost]!.end <= end) lost++;
    const lostTypes = this.waiting.splice(0, lost).map((w) => w.message.type);
    effects.push({ kind: 'gap', bytes: end - start, lostTypes });
    this.covered = end;
  }
}
