// Round-trip times seen from the capture point, one direction of a circuit at a
// time: a segment that takes sequence space (data, SYN or FIN) sent one way, and
// the first ACK from the other side that covers it. Such a sample is the time
// from the capture point to the receiver and back (plus however long the
// receiver held its ACK back: a delayed ACK, or one that rode on its answer).
// Karn's rule: a segment retransmitted while it is timed gives no sample. One
// segment is timed at a time (as TCP stacks do), so there is about one sample
// per round trip. The SYN and its SYN-ACK (and the SYN-ACK and the ACK after it)
// are the handshake's samples, taken the same way.

/** How many of the latest samples `lowestRecent` looks at. */
export const RECENT_SAMPLES = 16;
/**
 * Samples kept per direction for the median and 90%; past it every other one is
 * dropped and the rest kept at half the rate (min and max are kept exact apart).
 * 4096 doubles a direction: a busy capture's hundreds of circuits stay a few MB.
 */
const MAX_KEPT = 1 << 12;

/** Signed distance a - b in sequence space (mod 2^32). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export class RttSampler {
  private timing = false;
  /** sequence number just past the timed segment, and when it was seen (Unix seconds) */
  private endSeq = 0;
  private sentAt = 0;
  /** the latest RECENT_SAMPLES samples (seconds), a ring */
  private readonly recent = new Float64Array(RECENT_SAMPLES);
  private recentCount = 0;
  /** every `stride`-th sample, in seconds (see MAX_KEPT); undefined when not kept */
  readonly kept: number[] | undefined;
  private stride = 1;
  private skipped = 0;
  /** samples taken, and the least and greatest of them (seconds) */
  count = 0;
  min = Infinity;
  max = -Infinity;

  constructor(keep: boolean) {
    this.kept = keep ? [] : undefined;
  }

  /**
   * A segment this direction sent: `seqLen` is its sequence space (payload, +1 for
   * SYN or FIN); `resent` whether the analysis called it a retransmission.
   */
  sent(seq: number, seqLen: number, resent: boolean, time: number): void {
    if (resent) {
      this.timing = false; // Karn: its ACK may answer either copy
      return;
    }
    if (this.timing || seqLen === 0) return;
    this.timing = true;
    this.endSeq = (seq + seqLen) | 0;
    this.sentAt = time;
  }

  /** An ACK from the other side; returns the sample it gave (seconds), or -1. */
  acked(ack: number, time: number): number {
    if (!this.timing || seqDiff(ack, this.endSeq) < 0) return -1;
    this.timing = false;
    const rtt = time - this.sentAt;
    if (rtt < 0) return -1;
    this.recent[this.count % RECENT_SAMPLES] = rtt;
    this.count++;
    this.recentCount = Math.min(this.recentCount + 1, RECENT_SAMPLES);
    if (rtt < this.min) this.min = rtt;
    if (rtt > this.max) this.max = rtt;
    this.keep(rtt);
    return rtt;
  }

  private keep(rtt: number): void {
    const kept = this.kept;
    if (!kept) return;
    if (++this.skipped < this.stride) return;
    this.skipped = 0;
    kept.push(rtt);
    if (kept.length >= MAX_KEPT) {
      for (let i = 0; i < kept.length / 2; i++) kept[i] = kept[2 * i]!;
      kept.length = kept.length >> 1;
      this.stride *= 2;
    }
  }

  /** The lowest of the latest RECENT_SAMPLES samples (seconds), or undefined before the first. */
  lowestRecent(): number | undefined {
    if (this.recentCount === 0) return undefined;
    let lo = Infinity;
    for (let i = 0; i < this.recentCount; i++) lo = Math.min(lo, this.recent[i]!);
    return lo;
  }
}

/** min, median, 90th percentile and max of samples in seconds, as milliseconds; undefined without samples. */
export interface RttStats {
  samples: number;
  min: number;
  p50: number;
  p90: number;
  max: number;
}

/** Nearest-rank percentile of sorted values. */
function rank(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** The statistics of a sampler's samples: min and max exact, the median and 90% of the samples kept. */
export function rttStats(s: Pick<RttSampler, 'kept' | 'count' | 'min' | 'max'>): RttStats | undefined {
  const kept = s.kept ?? [];
  if (kept.length === 0) return undefined;
  const ms = kept.map((x) => x * 1000).sort((a, b) => a - b);
  return { samples: s.count, min: s.min * 1000, p50: rank(ms, 0.5), p90: rank(ms, 0.9), max: s.max * 1000 };
}
