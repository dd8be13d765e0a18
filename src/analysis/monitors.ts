// Monitors: one row per subscription (or per PV), answering "am I missing
// updates?": how many came and how regularly, the stalls (gaps much longer than
// the usual interval) with their cause where the capture shows one, the values
// a counter PV skipped (--sequence), and how far updates lag behind the IOC's
// time stamps.
//
// Monitor updates are most of a busy capture: they are read from their header
// words (DissectOptions.declined), never made into events; the few payload words
// needed (a DBR_TIME stamp, a scalar value for --sequence) are read from the
// message's bytes in place. Per update the analysis stores one float (the
// interval) and, for DBR_TIME types, one more (the lag); nothing is allocated.

import { f32be, f64be, i16be, i32be, u16be, u32be } from '../../protocols/bytes.js';
import { dbrBase, dbrValueOffset } from '../../protocols/ca/dbr.js';
import { epicsToUnixSeconds } from '../../protocols/ca/time.js';
import type { TcpCircuit } from '../dissect/circuits.js';
import type { CaEvent } from '../dissect/event.js';
import { pvFilter, type CaptureClock } from '../dissect/filter.js';
import { allButMonitorUpdates, declinedUpdate, type DeclinedMessage, type MessageSelection } from '../dissect/options.js';
import { quantileSorted } from './latency-stats.js';
import type { Moment } from './moment.js';
import { PerCircuit } from './per-circuit.js';

export type StallCause = 'zero window' | 'events off' | 'capture gap' | 'server silent' | 'none seen';

/** --gap: a multiple of the subscription's median interval, or seconds. */
export type GapRule = { factor: number } | { seconds: number };

export const DEFAULT_GAP: GapRule = { factor: 5 };
export const DEFAULT_INTERVAL_SEC = 1;

export interface MonitorOptions {
  gap?: GapRule;
  /** --sequence: the value of a numeric scalar is a counter stepping by `sequenceStep` (default 1) */
  sequence?: boolean;
  sequenceStep?: number;
  /** seconds of the rate intervals (default 1) */
  interval?: number;
  /** keep each row's updates per interval (--interval given, --plot) */
  series?: boolean;
  /** one row per subscription (default) or per PV */
  by?: 'subscription' | 'pv';
  /**
   * --pv: the subscriptions reported. Applied here, not by the runner: the causes
   * of a stall are messages of no PV (EVENTS_OFF) and the circuit's other
   * subscriptions (is the server silent on all of them?).
   */
  pv?: string[];
}

export interface MonitorStall {
  /** the updates before and after the gap */
  startFrame: number;
  endFrame: number;
  start: number;
  durationS: number;
  cause: StallCause;
}

export interface SequenceFindings {
  /** [first, last] values never seen, in the order found (the first MAX_LISTED) */
  missing: [number, number][];
  missingValues: number;
  /** a value the same as the one before */
  repeats: number;
  /** a value below the one before (not a wrap-around) */
  stepsBack: number;
  /** back to the lowest value so far from the highest: the counter wrapped (or restarted) */
  wraps: number;
  /** frames of the first repeats and steps back */
  repeatFrames: number[];
  stepBackFrames: number[];
  /** a value above the one before but not a whole number of steps above it */
  offStep: number;
  /** updates whose value was not a number the rule could follow (not a numeric scalar) */
  skipped: number;
}

export interface LagStats {
  /** the smallest capture time minus time stamp of the server (clock offset plus the least delay) */
  offsetS: number;
  /** lag beyond the offset */
  medianS: number;
  p99S: number;
  maxS: number;
  samples: number;
}

/** Updates per interval: counts[k] in [start + k * interval, start + (k + 1) * interval). */
export interface RateSeries {
  start: number;
  interval: number;
  counts: number[];
}

export interface MonitorRow {
  circuit: number;
  client: string;
  server: string;
  pv: string;
  subscriptionId?: number;
  /** --by pv: subscriptions added up */
  subscriptions: number;
  dataType: number;
  dataCount: number;
  mask?: number;
  cancelled: boolean;
  updates: number;
  /** CA bytes of the updates (header and payload) */
  bytes: number;
  first: Moment;
  last: Moment;
  /** (updates - 1) / seconds from first to last; 0 with one update */
  rateHz: number;
  bytesPerSec: number;
  /** updates per second in whole intervals between the first and the last (all when fewer than 3) */
  intervalRate: { min: number; median: number; max: number };
  interArrival?: { min: number; median: number; p99: number; max: number };
  longestGapS?: number;
  longestGapFrames?: [number, number];
  /** the gap a stall is longer than, in seconds (--gap) */
  stallThresholdS?: number;
  stalls: MonitorStall[];
  stallCount: number;
  lag?: LagStats;
  sequence?: SequenceFindings;
  series?: RateSeries;
}

/** Stalls and sequence faults listed per row; all are counted. */
const MAX_LISTED = 64;

/** A circuit-wide silence shorter than this is no cause of a stall; the recent MAX_SILENCES are kept. */
const MIN_SILENCE = 0.05;
const MAX_SILENCES = 4096;

const DBR_TIME_FIRST = 14;
const DBR_TIME_LAST = 20;

/** A growing float array (no allocation per value once grown). */
class FloatList {
  values = new Float32Array(16);
  n = 0;
  push(v: number): void {
    if (this.n === this.values.length) {
      const grown = new Float32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = v;
  }
  sorted(): Float32Array {
    return this.values.slice(0, this.n).sort();
  }
}

interface GapCandidate {
  seconds: number;
  startFrame: number;
  endFrame: number;
  start: number;
  end: number;
  /** the circuit (which had other subscriptions) carried no update at all for at least half the gap */
  circuitSilent: boolean;
}

/** The longest gaps of a subscription: a min-heap on typed arrays (no allocation per gap kept). */
class GapHeap {
  readonly seconds = new Float64Array(MAX_LISTED);
  readonly start = new Float64Array(MAX_LISTED);
  readonly startFrame = new Float64Array(MAX_LISTED);
  readonly endFrame = new Float64Array(MAX_LISTED);
  readonly silent = new Uint8Array(MAX_LISTED);
  n = 0;

  /** whether a gap this long would be kept */
  takes(g: number): boolean {
    return this.n < MAX_LISTED || g > this.seconds[0]!;
  }

  add(g: number, start: number, startFrame: number, endFrame: number, silent: boolean): void {
    let i: number;
    if (this.n < MAX_LISTED) {
      i = this.n++;
      while (i > 0) {
        const up = (i - 1) >> 1;
        if (this.seconds[up]! <= g) break;
        this.move(up, i);
        i = up;
      }
    } else {
      i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= MAX_LISTED) break;
        const c = l + 1 < MAX_LISTED && this.seconds[l + 1]! < this.seconds[l]! ? l + 1 : l;
        if (this.seconds[c]! >= g) break;
        this.move(c, i);
        i = c;
      }
    }
    this.seconds[i] = g;
    this.start[i] = start;
    this.startFrame[i] = startFrame;
    this.endFrame[i] = endFrame;
    this.silent[i] = silent ? 1 : 0;
  }

  private move(from: number, to: number): void {
    this.seconds[to] = this.seconds[from]!;
    this.start[to] = this.start[from]!;
    this.startFrame[to] = this.startFrame[from]!;
    this.endFrame[to] = this.endFrame[from]!;
    this.silent[to] = this.silent[from]!;
  }

  list(): GapCandidate[] {
    const out: GapCandidate[] = [];
    for (let i = 0; i < this.n; i++) {
      const seconds = this.seconds[i]!;
      out.push({ seconds, startFrame: this.startFrame[i]!, endFrame: this.endFrame[i]!, start: this.start[i]!, end: this.start[i]! + seconds, circuitSilent: this.silent[i] === 1 });
    }
    return out;
  }
}

/** What one subscription's updates showed, while they come. */
class SubscriptionTally {
  pv: string;
  dataType: number;
  dataCount: number;
  mask: number | undefined;
  cancelled = false;
  updates = 0;
  bytes = 0;
  first: Moment = { sec: 0, nsec: 0, time: 0, frame: 0 };
  last: Moment = { sec: 0, nsec: 0, time: 0, frame: 0 };
  readonly intervals = new FloatList();
  longestGap = -1;
  longestFrom = 0;
  longestTo = 0;
  /** the longest gaps (MAX_LISTED), the stalls among them: a min-heap by length */
  readonly candidates = new GapHeap();
  /** rate intervals: the current one and the counts of those before (count -> intervals) */
  bucket = -1;
  bucketCount = 0;
  firstBucket = -1;
  firstBucketCount = 0;
  readonly countHistogram = new Map<number, number>();
  series: number[] | undefined;
  lagBase = NaN;
  readonly lags = new FloatList();
  seqPrev = NaN;
  seqMin = Infinity;
  seqMax = -Infinity;
  seq: SequenceFindings | undefined;
  /** its PV is one --pv names */
  wanted = true;

  constructor(
    readonly circuit: CircuitMonitors,
    readonly subscriptionId: number,
    pv: string | undefined,
    dataType: number,
    dataCount: number,
    mask: number | undefined,
  ) {
    this.pv = pv ?? '?';
    this.dataType = dataType;
    this.dataCount = dataCount;
    this.mask = mask;
  }
}

/** One circuit's subscriptions and what the causes of a stall need. */
class CircuitMonitors {
  readonly subs = new Map<number, SubscriptionTally>();
  /** subscriptions replaced by a new one of the same id */
  readonly replaced: SubscriptionTally[] = [];
  lastUpdate = -Infinity;
  streamGaps = 0;
  /** periods the capture lost bytes toward the client: [previous update, the update after] */
  readonly captureGaps: [number, number][] = [];
  /** EVENTS_OFF to EVENTS_ON (Infinity: never turned on) */
  readonly eventsOff: [number, number][] = [];
  /** the circuit's recent silences (no update on any subscription for MIN_SILENCE or more): [from, to], oldest first */
  readonly silences: [number, number][] = [];
  /** the client's zero-window stalls: [start, end] */
  zeroWindows: [number, number][] = [];
  id: number;
  client: string;
  server: string;
  silence(from: number, to: number): void {
    if (this.silences.length >= MAX_SILENCES) this.silences.splice(0, MAX_SILENCES / 2);
    this.silences.push([from, to]);
  }

  /** Whether the circuit carried no update at all for at least half of [from, to]. */
  silentDuring(from: number, to: number): boolean {
    const list = this.silences;
    for (let i = list.length - 1; i >= 0 && list[i]![1] > from; i--) {
      const [a, b] = list[i]!;
      if (Math.min(b, to) - Math.max(a, from) >= (to - from) / 2) return true;
    }
    return false;
  }

  constructor(c: TcpCircuit) {
    this.id = c.id;
    this.client = c.client;
    this.server = c.server;
  }
}

/** A scalar's value from a DBR payload (NaN when the type has no numbers). */
function scalarValue(buf: Buffer, payload: number, dataType: number): number {
  const at = payload + dbrValueOffset(dataType);
  switch (dbrBase(dataType)) {
    case 'SHORT':
      return i16be(buf, at);
    case 'FLOAT':
      return f32be(buf, at);
    case 'ENUM':
      return u16be(buf, at);
    case 'CHAR':
      return buf[at]!;
    case 'LONG':
      return i32be(buf, at);
    case 'DOUBLE':
      return f64be(buf, at);
    default:
      return NaN;
  }
}

const overlaps = (periods: readonly [number, number][], from: number, to: number): boolean => periods.some(([a, b]) => a < to && b > from);

export class MonitorAnalysis {
  private readonly circuits = new PerCircuit<CircuitMonitors>();
  private readonly ended: CircuitMonitors[] = [];
  private readonly interval: number;
  private readonly step: number;
  private origin = NaN;
  private clock: CaptureClock | undefined;
  private readonly wants: ((pv: string | undefined) => boolean) | undefined;

  constructor(private readonly o: MonitorOptions = {}) {
    this.interval = o.interval ?? DEFAULT_INTERVAL_SEC;
    this.step = o.sequenceStep ?? 1;
    this.wants = pvFilter({ pv: o.pv });
  }

  private newTally(cm: CircuitMonitors, id: number, pv: string | undefined, dataType: number, dataCount: number, mask: number | undefined): SubscriptionTally {
    const s = new SubscriptionTally(cm, id, pv, dataType, dataCount, mask);
    if (this.wants) s.wanted = this.wants(pv);
    cm.subs.set(id, s);
    return s;
  }

  selection(): MessageSelection {
    return {
      tcpAnalysis: true,
      wants: allButMonitorUpdates,
      declined: (m) => {
        if (!declinedUpdate(m)) return true;
        this.update(m);
        return false;
      },
      copyMessages: true,
    };
  }

  started(clock: CaptureClock): void {
    this.clock = clock;
  }

  event(ev: CaEvent): void {
    const c = ev.circuit;
    if (!c) return;
    switch (ev.type) {
      case 'EventAddRequest': {
        const cm = this.circuitOf(c);
        const r = ev.command;
        const old = cm.subs.get(r.subscriptionid);
        if (old && old.updates > 0) cm.replaced.push(old);
        this.newTally(cm, r.subscriptionid, ev.pv, r.data_type, r.data_count, r.mask);
        break;
      }
      case 'EventCancelRequest': {
        const s = this.circuits.get(c)?.subs.get(ev.command.parameter2);
        if (s) s.cancelled = true;
        break;
      }
      case 'EventsOffRequest':
        this.circuitOf(c).eventsOff.push([ev.timestamp, Infinity]);
        break;
      case 'EventsOnRequest': {
        const off = this.circuits.get(c)?.eventsOff.at(-1);
        if (off && off[1] === Infinity) off[1] = ev.timestamp;
        break;
      }
    }
  }

  private circuitOf(c: TcpCircuit): CircuitMonitors {
    let cm = this.circuits.get(c);
    if (!cm) this.circuits.set(c, (cm = new CircuitMonitors(c)));
    return cm;
  }

  /** One monitor update, from its header words and the few payload words it needs. */
  update(m: DeclinedMessage): void {
    const c = m.circuit;
    const cm = this.circuitOf(c);
    const id = m.parameter2;
    let s = cm.subs.get(id);
    if (s === undefined) {
      // subscribed before the capture began (or its request was not kept): what the update's header says
      const sub = c.ca.subscriptions.get(id);
      s = this.newTally(cm, id, sub?.channel?.name, sub?.dataType ?? m.dataType, sub?.dataCount ?? m.dataCount, sub?.mask);
    }
    const t = m.time;
    // a stretch of bytes toward the client the capture lost since the circuit's last update
    const gaps = c.toClient.stream.stats.gaps;
    if (gaps !== cm.streamGaps) {
      cm.streamGaps = gaps;
      cm.captureGaps.push([cm.lastUpdate, t]);
    }
    if (t - cm.lastUpdate >= MIN_SILENCE) cm.silence(cm.lastUpdate, t);
    if (!s.wanted) {
      cm.lastUpdate = t;
      return;
    }
    if (Number.isNaN(this.origin)) this.origin = this.clock ? this.clock.firstTime : t;
    const bucket = Math.floor((t - this.origin) / this.interval);
    if (s.updates === 0) {
      s.first.sec = m.sec;
      s.first.nsec = m.nsec;
      s.first.time = t;
      s.first.frame = m.frame;
      s.bucket = s.firstBucket = bucket;
      if (this.o.series) s.series = [];
    } else {
      const gap = t - s.last.time;
      s.intervals.push(gap);
      if (gap > s.longestGap) {
        s.longestGap = gap;
        s.longestFrom = s.last.frame;
        s.longestTo = m.frame;
      }
      if (s.candidates.takes(gap)) s.candidates.add(gap, s.last.time, s.last.frame, m.frame, cm.subs.size > 1 && cm.silentDuring(s.last.time, t));
      if (bucket !== s.bucket) this.closeBuckets(s, bucket);
    }
    s.bucketCount++;
    s.updates++;
    // header: 16 bytes, 24 when extended (a payload or count past 16 bits)
    const ps = m.payloadSize;
    s.bytes += ps + (ps >= 0xffff || m.dataCount >= 0xffff ? 24 : 16);
    s.last.sec = m.sec;
    s.last.nsec = m.nsec;
    s.last.time = t;
    s.last.frame = m.frame;
    cm.lastUpdate = t;
    const type = m.dataType;
    if (type >= DBR_TIME_FIRST && type <= DBR_TIME_LAST && ps >= 12) {
      // DBR_TIME_*: status, severity, then the time stamp (EPICS seconds, nanoseconds)
      const sec = u32be(m.buf, m.payloadOffset + 4);
      if (sec !== 0) {
        const lag = t - epicsToUnixSeconds(sec, u32be(m.buf, m.payloadOffset + 8));
        if (Number.isNaN(s.lagBase)) s.lagBase = lag;
        s.lags.push(lag - s.lagBase);
      }
    }
    if (this.o.sequence) this.sequence(s, m, type);
  }

  /** Counts of the intervals before `bucket` into the histogram (or the series); empty ones in between count 0. */
  private closeBuckets(s: SubscriptionTally, bucket: number): void {
    const h = s.countHistogram;
    if (s.bucket === s.firstBucket) s.firstBucketCount = s.bucketCount;
    else h.set(s.bucketCount, (h.get(s.bucketCount) ?? 0) + 1);
    s.series?.push(s.bucketCount);
    const empty = bucket - s.bucket - 1;
    if (empty > 0) {
      h.set(0, (h.get(0) ?? 0) + empty);
      if (s.series) for (let k = 0; k < empty; k++) s.series.push(0);
    }
    s.bucket = bucket;
    s.bucketCount = 0;
  }

  /** --sequence: the scalar's value against the one before (mcsd's `$NF != p + 1`). */
  private sequence(s: SubscriptionTally, m: DeclinedMessage, type: number): void {
    const q = (s.seq ??= { missing: [], missingValues: 0, repeats: 0, stepsBack: 0, wraps: 0, offStep: 0, repeatFrames: [], stepBackFrames: [], skipped: 0 });
    const v = m.dataCount === 1 && m.payloadSize >= dbrValueOffset(type) + 1 ? scalarValue(m.buf, m.payloadOffset, type) : NaN;
    if (Number.isNaN(v)) {
      q.skipped++;
      return;
    }
    const prev = s.seqPrev;
    const step = this.step;
    if (!Number.isNaN(prev)) {
      const expected = prev + step;
      if (v === expected) {
        // the common case
      } else if (v === prev) {
        q.repeats++;
        if (q.repeatFrames.length < MAX_LISTED) q.repeatFrames.push(m.frame);
      } else if (v > expected && Number.isInteger((v - prev) / step)) {
        q.missingValues += (v - prev) / step - 1;
        if (q.missing.length < MAX_LISTED) q.missing.push([expected, v - step]);
      } else if (v > prev) {
        q.offStep++;
      } else if (v <= s.seqMin && prev >= s.seqMax) {
        q.wraps++;
      } else {
        q.stepsBack++;
        if (q.stepBackFrames.length < MAX_LISTED) q.stepBackFrames.push(m.frame);
      }
    }
    s.seqPrev = v;
    if (v < s.seqMin) s.seqMin = v;
    if (v > s.seqMax) s.seqMax = v;
  }

  /** The engine retired a circuit: its client's zero-window stalls are final. */
  circuitEnded(c: TcpCircuit): void {
    const cm = this.circuits.get(c);
    if (!cm) return;
    const end = c.endTime ?? c.lastSeen;
    cm.zeroWindows = (c.toServer.tcp.events?.stalls ?? []).map((z) => [z.startTime, z.endTime ?? end]);
    this.circuits.delete(c);
    this.ended.push(cm);
  }

  finish(): MonitorRow[] {
    const all = [...this.ended, ...this.circuits.values()].sort((a, b) => a.id - b.id);
    const rows: MonitorRow[] = [];
    for (const cm of all) {
      for (const s of [...cm.replaced, ...cm.subs.values()]) if (s.updates > 0 && s.wanted) rows.push(this.row(s));
    }
    lagOffsetsPerServer(rows);
    return this.o.by === 'pv' ? byPv(rows, this.o, this.interval) : rows;
  }

  private row(s: SubscriptionTally): MonitorRow {
    const cm = s.circuit;
    s.series?.push(s.bucketCount); // the last interval (partial)
    const sorted = s.intervals.sorted();
    const interArrival = sorted.length
      ? { min: sorted[0]!, median: quantileSorted(sorted, 0.5), p99: quantileSorted(sorted, 0.99), max: s.longestGap }
      : undefined;
    const threshold = stallThreshold(this.o.gap ?? DEFAULT_GAP, sorted.length ? usualInterval(sorted) : undefined);
    let stallCount = 0;
    if (threshold !== undefined) for (let i = 0; i < sorted.length; i++) if (sorted[i]! > threshold) stallCount++;
    const stalls =
      threshold === undefined
        ? []
        : s.candidates
            .list()
            .filter((g) => g.seconds > threshold)
            .sort((a, b) => a.startFrame - b.startFrame)
            .map((g): MonitorStall => ({ startFrame: g.startFrame, endFrame: g.endFrame, start: g.start, durationS: g.seconds, cause: causeOf(cm, g) }));
    const span = s.last.time - s.first.time;
    const lag = s.lags.n ? lagOf(s) : undefined;
    return {
      circuit: cm.id,
      client: cm.client,
      server: cm.server,
      pv: s.pv,
      subscriptionId: s.subscriptionId,
      subscriptions: 1,
      dataType: s.dataType,
      dataCount: s.dataCount,
      mask: s.mask,
      cancelled: s.cancelled,
      updates: s.updates,
      bytes: s.bytes,
      first: { ...s.first },
      last: { ...s.last },
      rateHz: span > 0 ? (s.updates - 1) / span : 0,
      bytesPerSec: span > 0 ? s.bytes / span : 0,
      intervalRate: intervalRates(s, this.interval),
      interArrival,
      longestGapS: interArrival ? s.longestGap : undefined,
      longestGapFrames: interArrival ? [s.longestFrom, s.longestTo] : undefined,
      stallThresholdS: threshold,
      stalls,
      stallCount: Math.max(stallCount, stalls.length),
      lag,
      sequence: s.seq,
      series: s.series ? { start: this.origin + s.firstBucket * this.interval, interval: this.interval, counts: s.series } : undefined,
    };
  }
}

/**
 * A subscription's usual interval, which --gap Nx scales: the upper quartile of
 * its intervals. After a stall the queued updates arrive in a burst, milliseconds
 * apart, and can be most of the intervals (slow_consumer: the median is 4 ms for a
 * 10 Hz PV); the quartile above them stays at the PV's own period.
 */
export function usualInterval(sorted: ArrayLike<number>): number {
  return quantileSorted(sorted, 0.75);
}

/** The stall threshold in seconds (undefined: no interval to scale). */
function stallThreshold(rule: GapRule, median: number | undefined): number | undefined {
  if ('seconds' in rule) return rule.seconds;
  return median === undefined ? undefined : rule.factor * median;
}

/** The first cause the capture shows, in order: the client stopped reading, asked the server to stop, the capture lost bytes, the server sent nothing at all. */
function causeOf(cm: CircuitMonitors, g: GapCandidate): StallCause {
  if (overlaps(cm.zeroWindows, g.start, g.end)) return 'zero window';
  if (overlaps(cm.eventsOff, g.start, g.end)) return 'events off';
  if (cm.captureGaps.some(([a, b]) => a >= g.start && b <= g.end)) return 'capture gap';
  if (g.circuitSilent) return 'server silent';
  return 'none seen';
}

/** Updates per second per interval: min, median and max over the whole intervals (the first and last are partial), or over all when fewer than 3. */
function intervalRates(s: SubscriptionTally, interval: number): { min: number; median: number; max: number } {
  let pairs: [number, number][];
  if (s.bucket - s.firstBucket >= 2) pairs = [...s.countHistogram];
  else if (s.bucket === s.firstBucket) pairs = [[s.bucketCount, 1]];
  else pairs = s.firstBucketCount === s.bucketCount ? [[s.bucketCount, 2]] : [[s.firstBucketCount, 1], [s.bucketCount, 1]];
  pairs.sort((a, b) => a[0] - b[0]);
  const total = pairs.reduce((n, [, k]) => n + k, 0);
  const at = (rank: number): number => {
    let seen = 0;
    for (const [c, k] of pairs) {
      seen += k;
      if (rank < seen) return c;
    }
    return pairs[pairs.length - 1]![0];
  };
  const median = total % 2 ? at((total - 1) / 2) : (at(total / 2 - 1) + at(total / 2)) / 2;
  return { min: pairs[0]![0] / interval, median: median / interval, max: pairs[pairs.length - 1]![0] / interval };
}

function lagOf(s: SubscriptionTally): LagStats {
  const sorted = s.lags.sorted();
  const min = sorted[0]!;
  return {
    offsetS: s.lagBase + min,
    medianS: quantileSorted(sorted, 0.5) - min,
    p99S: quantileSorted(sorted, 0.99) - min,
    maxS: sorted[sorted.length - 1]! - min,
    samples: sorted.length,
  };
}

/** One offset per server host (its clock against the capture's): each row's lag is measured from its server's smallest. */
function lagOffsetsPerServer(rows: MonitorRow[]): void {
  const host = (r: MonitorRow) => r.server.slice(0, r.server.lastIndexOf(':'));
  const least = new Map<string, number>();
  for (const r of rows) if (r.lag) least.set(host(r), Math.min(least.get(host(r)) ?? Infinity, r.lag.offsetS));
  for (const r of rows) {
    if (!r.lag) continue;
    const offset = least.get(host(r))!;
    const more = r.lag.offsetS - offset;
    r.lag = { offsetS: offset, medianS: r.lag.medianS + more, p99S: r.lag.p99S + more, maxS: r.lag.maxS + more, samples: r.lag.samples };
  }
}

/** Rows added up per PV. */
function byPv(rows: readonly MonitorRow[], o: MonitorOptions, interval: number): MonitorRow[] {
  const groups = new Map<string, MonitorRow[]>();
  for (const r of rows) {
    const g = groups.get(r.pv);
    if (g) g.push(r);
    else groups.set(r.pv, [r]);
  }
  return [...groups.values()].map((g) => (g.length === 1 ? { ...g[0]!, subscriptionId: undefined } : mergeRows(g, interval)));
}

function mergeRows(g: readonly MonitorRow[], interval: number): MonitorRow {
  const first = g.reduce((a, r) => (r.first.time < a.first.time ? r : a)).first;
  const last = g.reduce((a, r) => (r.last.time > a.last.time ? r : a)).last;
  const updates = g.reduce((n, r) => n + r.updates, 0);
  const bytes = g.reduce((n, r) => n + r.bytes, 0);
  const span = last.time - first.time;
  const longest = g.reduce((a, r) => ((r.longestGapS ?? -1) > (a.longestGapS ?? -1) ? r : a));
  const ia = g.filter((r) => r.interArrival).map((r) => r.interArrival!);
  const lags = g.filter((r) => r.lag).map((r) => r.lag!);
  const seqs = g.filter((r) => r.sequence).map((r) => r.sequence!);
  const series = mergeSeries(g.map((r) => r.series).filter((s) => s !== undefined), interval);
  const same = <T>(f: (r: MonitorRow) => T): T | undefined => (g.every((r) => f(r) === f(g[0]!)) ? f(g[0]!) : undefined);
  return {
    circuit: same((r) => r.circuit) ?? -1,
    client: same((r) => r.client) ?? `${new Set(g.map((r) => r.client)).size} clients`,
    server: same((r) => r.server) ?? `${new Set(g.map((r) => r.server)).size} servers`,
    pv: g[0]!.pv,
    subscriptionId: undefined,
    subscriptions: g.length,
    dataType: same((r) => r.dataType) ?? -1,
    dataCount: same((r) => r.dataCount) ?? -1,
    mask: same((r) => r.mask),
    cancelled: g.every((r) => r.cancelled),
    updates,
    bytes,
    first,
    last,
    rateHz: span > 0 ? (updates - g.length) / span : 0,
    bytesPerSec: span > 0 ? bytes / span : 0,
    intervalRate: {
      min: g.reduce((a, r) => a + r.intervalRate.min, 0),
      median: g.reduce((a, r) => a + r.intervalRate.median, 0),
      max: g.reduce((a, r) => a + r.intervalRate.max, 0),
    },
    interArrival: ia.length
      ? { min: Math.min(...ia.map((x) => x.min)), median: Math.max(...ia.map((x) => x.median)), p99: Math.max(...ia.map((x) => x.p99)), max: Math.max(...ia.map((x) => x.max)) }
      : undefined,
    longestGapS: longest.longestGapS,
    longestGapFrames: longest.longestGapFrames,
    stallThresholdS: undefined,
    stalls: g.flatMap((r) => r.stalls).sort((a, b) => a.startFrame - b.startFrame),
    stallCount: g.reduce((n, r) => n + r.stallCount, 0),
    lag: lags.length
      ? { offsetS: Math.min(...lags.map((l) => l.offsetS)), medianS: Math.max(...lags.map((l) => l.medianS)), p99S: Math.max(...lags.map((l) => l.p99S)), maxS: Math.max(...lags.map((l) => l.maxS)), samples: lags.reduce((n, l) => n + l.samples, 0) }
      : undefined,
    sequence: seqs.length
      ? {
          missing: seqs.flatMap((q) => q.missing),
          missingValues: seqs.reduce((n, q) => n + q.missingValues, 0),
          repeats: seqs.reduce((n, q) => n + q.repeats, 0),
          stepsBack: seqs.reduce((n, q) => n + q.stepsBack, 0),
          wraps: seqs.reduce((n, q) => n + q.wraps, 0),
          offStep: seqs.reduce((n, q) => n + q.offStep, 0),
          repeatFrames: seqs.flatMap((q) => q.repeatFrames),
          stepBackFrames: seqs.flatMap((q) => q.stepBackFrames),
          skipped: seqs.reduce((n, q) => n + q.skipped, 0),
        }
      : undefined,
    series,
  };
}

/** Series on one time grid, added up. */
function mergeSeries(list: readonly RateSeries[], interval: number): RateSeries | undefined {
  if (list.length === 0) return undefined;
  const start = Math.min(...list.map((s) => s.start));
  const counts: number[] = [];
  for (const s of list) {
    const at = Math.round((s.start - start) / interval);
    s.counts.forEach((n, k) => (counts[at + k] = (counts[at + k] ?? 0) + n));
  }
  for (let k = 0; k < counts.length; k++) counts[k] ??= 0;
  return { start, interval, counts };
}
