// Monitors: one row per subscription (or per PV), answering "am I missing
// updates?": how many came and how regularly, the stalls (gaps much longer than
// the usual interval) with their cause where the capture shows one, the values
// a counter PV skipped (--sequence), and how far updates lag behind the IOC's
// time stamps.
//
// Monitor updates are most of a busy capture: they are read from their header
// words (DissectOptions.declined), never made into events; the few payload words
// needed (a DBR_TIME stamp, a scalar value for --sequence) are read from the
// message's bytes in place. Per update nothing is allocated and no Map is asked:
// the subscription's tally is found in a direct-mapped cache by circuit and id,
// the interval and the lag go into log-scale histograms (quantiles within 1/16
// of their value, exact min and max), and only the longest gaps are kept.

import { f32be, f64be, i16be, i32be, u16be, u32be } from '../../protocols/bytes.js';
import { dbrBase, dbrValueOffset } from '../../protocols/ca/dbr.js';
import { epicsToUnixSeconds } from '../../protocols/ca/time.js';
import type { TcpCircuit } from '../dissect/circuits.js';
import type { CaEvent } from '../dissect/event.js';
import { pvFilter, type CaptureClock } from '../dissect/filter.js';
import { monitorUpdateSelection, type DeclinedMessage, type MessageSelection } from '../dissect/options.js';
import { LogHistogram, coarseSlotOf, slotOf as histogramSlot } from './log-histogram.js';
import type { Moment } from './moment.js';
import { PerCircuit } from './per-circuit.js';

export type StallCause = 'zero window' | 'events off' | 'capture gap' | 'server silent' | 'none seen';

/** --gap: a multiple of the subscription's usual interval (usualInterval), or seconds. */
export type GapRule = { factor: number } | { seconds: number };

export const DEFAULT_GAP: GapRule = { factor: 5 };
export const DEFAULT_INTERVAL_SEC = 1;

export interface MonitorOptions {
  gap?: GapRule;
  /** --sequence: the value of a numeric scalar is a counter stepping by `sequenceStep` (default 1) */
  sequence?: boolean;
  /**
   * --lag: read each DBR_TIME update's time stamp for the lag behind it (off by
   * default: it is a tenth of the report's time on a busy capture)
   */
  lag?: boolean;
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
  /** time of the update before the gap: Unix seconds, and exactly as the capture has it */
  start: number;
  startSec: number;
  startNsec: number;
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

/** Sequence faults listed per row; all are counted. */
const MAX_LISTED = 64;
/**
 * The longest gaps kept per subscription, the stalls listed (all are counted). A
 * new gap is kept when it is longer than the shortest kept: in n updates that
 * happens about K * (1 + ln(n / K)) times, so K stays small.
 */
const GAPS_KEPT = 16;

/** A circuit-wide silence shorter than this is no cause of a stall; the recent MAX_SILENCES are kept. */
const MIN_SILENCE = 0.05;
const MAX_SILENCES = 4096;

const DBR_TIME_FIRST = 14;
const DBR_TIME_LAST = 20;

/** Slots of the tally cache (a power of two): a busy capture's subscriptions mostly each have their own. */
const CACHE_SLOTS = 8192;
const slotOf = (circuitId: number, id: number): number => ((Math.imul(circuitId, 0x9e3779b1) >>> 19) ^ id) & (CACHE_SLOTS - 1);

/**
 * The numbers of a tally that change with each update, in one Float64Array of
 * the analysis (HOT_STRIDE per tally, at tally.hot): as fields each would be a
 * box of its own, one more cache line to reach per update.
 */
const HOT_STRIDE = 8;
/** capture time of the last update */
const LAST_TIME = 0;
/** the longest gap, and the shortest */
const LONGEST_GAP = 1;
const SHORTEST_GAP = 2;
/** a gap longer than this is among the longest so far (GapHeap.floor) */
const KEPT_ABOVE = 3;
/** end of the current rate interval */
const BUCKET_END = 4;
/** lags less LAG_BASE (the first): the least and the greatest */
const LAG_BASE = 5;
const LAG_MIN = 6;
const LAG_MAX = 7;
const HOT_START = [0, -1, Infinity, -Infinity, Infinity, NaN, Infinity, -Infinity];

/**
 * Lags closer than this (0.98 ms) to the first share a slot of the histogram:
 * known within it (the least and greatest exactly), and mostly in runs, so that
 * network jitter does not touch the counts with every update.
 */
const LAG_FLOOR = 2 ** -10;

interface GapCandidate {
  seconds: number;
  startFrame: number;
  endFrame: number;
  start: number;
  startSec: number;
  startNsec: number;
  end: number;
  /** the circuit (which had other subscriptions) carried no update at all for at least half the gap */
  circuitSilent: boolean;
}

/** The longest gaps of a subscription: a min-heap on typed arrays (no allocation per gap kept). */
class GapHeap {
  readonly seconds = new Float64Array(GAPS_KEPT);
  readonly start = new Float64Array(GAPS_KEPT);
  readonly startSec = new Float64Array(GAPS_KEPT);
  readonly startNsec = new Float64Array(GAPS_KEPT);
  readonly startFrame = new Float64Array(GAPS_KEPT);
  readonly endFrame = new Float64Array(GAPS_KEPT);
  readonly silent = new Uint8Array(GAPS_KEPT);
  n = 0;

  /** a gap is kept when it is longer than this */
  floor(): number {
    return this.n < GAPS_KEPT ? -Infinity : this.seconds[0]!;
  }

  /** whether every gap longer than g is here (none longer was pushed out) */
  holdsAllAbove(g: number): boolean {
    return this.floor() <= g;
  }

  add(g: number, start: number, startSec: number, startNsec: number, startFrame: number, endFrame: number, silent: boolean): void {
    let i: number;
    if (this.n < GAPS_KEPT) {
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
        if (l >= GAPS_KEPT) break;
        const c = l + 1 < GAPS_KEPT && this.seconds[l + 1]! < this.seconds[l]! ? l + 1 : l;
        if (this.seconds[c]! >= g) break;
        this.move(c, i);
        i = c;
      }
    }
    this.seconds[i] = g;
    this.start[i] = start;
    this.startSec[i] = startSec;
    this.startNsec[i] = startNsec;
    this.startFrame[i] = startFrame;
    this.endFrame[i] = endFrame;
    this.silent[i] = silent ? 1 : 0;
  }

  private move(from: number, to: number): void {
    this.seconds[to] = this.seconds[from]!;
    this.start[to] = this.start[from]!;
    this.startSec[to] = this.startSec[from]!;
    this.startNsec[to] = this.startNsec[from]!;
    this.startFrame[to] = this.startFrame[from]!;
    this.endFrame[to] = this.endFrame[from]!;
    this.silent[to] = this.silent[from]!;
  }

  list(): GapCandidate[] {
    const out: GapCandidate[] = [];
    for (let i = 0; i < this.n; i++) {
      const seconds = this.seconds[i]!;
      out.push({ seconds, startFrame: this.startFrame[i]!, endFrame: this.endFrame[i]!, start: this.start[i]!, startSec: this.startSec[i]!, startNsec: this.startNsec[i]!, end: this.start[i]! + seconds, circuitSilent: this.silent[i] === 1 });
    }
    return out;
  }
}

/** What one subscription's updates showed, while they come. */
class SubscriptionTally {
  // The fields each update reads or writes first (V8 lays them out in this order: one or two cache lines).
  /** the circuit while the dissector has it (the tally cache's check; undefined once it ended); initialised here to be laid out near the start */
  tcp: TcpCircuit | undefined = undefined;
  /** its PV is one --pv names */
  wanted = true;
  updates = 0;
  bytes = 0;
  bucketCount = 0;
  /** the last update (fields of the tally, not a Moment: one object less to reach per update; its time is hot) */
  lastSec = 0;
  lastNsec = 0;
  lastFrame = 0;
  /** the last run of one slot of the intervals (of the lags), not in the histogram yet (LogHistogram.addRun) */
  intervalSlot = 0;
  intervalRun = 0;
  lagSlot = 0;
  lagRun = 0;
  /**
   * DBR_TIME_*: capture time minus the time stamp of each update but the first
   * (which carries the time the value last changed, however old), less LAG_BASE,
   * the first such lag: the lags near the least are known within 1/16 of their
   * distance from it.
   */
  lags: LogHistogram | undefined;
  longestFrom = 0;
  longestTo = 0;
  pv: string;
  dataType: number;
  dataCount: number;
  mask: number | undefined;
  cancelled = false;
  first: Moment = { sec: 0, nsec: 0, time: 0, frame: 0 };
  /** the times between two updates (the least and greatest are hot) */
  readonly intervals = new LogHistogram();
  /** the longest gaps (GAPS_KEPT), the stalls among them: a min-heap by length */
  readonly candidates = new GapHeap();
  /** rate intervals: the current one (ending at BUCKET_END) and the counts of those before (count -> intervals) */
  bucket = -1;
  firstBucket = -1;
  firstBucketCount = 0;
  readonly countHistogram = new Map<number, number>();
  series: number[] | undefined;
  seqPrev = NaN;
  seqMin = Infinity;
  seqMax = -Infinity;
  seq: SequenceFindings | undefined;

  constructor(
    readonly circuit: CircuitMonitors,
    readonly subscriptionId: number,
    /** where its hot numbers start in the analysis's `hot` */
    readonly hot: number,
    pv: string | undefined,
    dataType: number,
    dataCount: number,
    mask: number | undefined,
  ) {
    this.tcp = circuit.tcp;
    this.pv = pv ?? '?';
    this.dataType = dataType;
    this.dataCount = dataCount;
    this.mask = mask;
  }
}

/** One circuit's subscriptions and what the causes of a stall need. */
class CircuitMonitors {
  /** the circuit while the dissector has it (undefined once ended: the tally cache then misses) */
  tcp: TcpCircuit | undefined;
  /** it ended: zeroWindows are final */
  ended = false;
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
    this.tcp = c;
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

/** The client's zero-window stalls of a circuit: [start, end] (one still open ends at `end`). */
const zeroWindowsOf = (c: TcpCircuit, end: number): [number, number][] => (c.toServer.tcp.events?.stalls ?? []).map((z) => [z.startTime, z.endTime ?? end]);

const overlaps = (periods: readonly [number, number][], from: number, to: number): boolean => periods.some(([a, b]) => a < to && b > from);

export class MonitorAnalysis {
  private readonly circuits = new PerCircuit<CircuitMonitors>();
  private readonly ended: CircuitMonitors[] = [];
  private readonly interval: number;
  private readonly step: number;
  private readonly withLag: boolean;
  private origin = NaN;
  private clock: CaptureClock | undefined;
  private readonly wants: ((pv: string | undefined) => boolean) | undefined;
  /** tally cache: the tally last found for (circuit, id) in slotOf's slot */
  private readonly cached = new Array<SubscriptionTally | undefined>(CACHE_SLOTS).fill(undefined);
  /** the tallies' hot numbers (HOT_STRIDE each), and how many tallies have theirs */
  private hot = new Float64Array(64 * HOT_STRIDE);
  private tallies = 0;

  constructor(private readonly o: MonitorOptions = {}) {
    this.interval = o.interval ?? DEFAULT_INTERVAL_SEC;
    this.step = o.sequenceStep ?? 1;
    this.withLag = o.lag === true;
    this.wants = pvFilter({ pv: o.pv });
  }

  private newTally(cm: CircuitMonitors, id: number, pv: string | undefined, dataType: number, dataCount: number, mask: number | undefined): SubscriptionTally {
    const at = this.tallies++ * HOT_STRIDE;
    if (at === this.hot.length) {
      const grown = new Float64Array(2 * at);
      grown.set(this.hot);
      this.hot = grown;
    }
    this.hot.set(HOT_START, at);
    const s = new SubscriptionTally(cm, id, at, pv, dataType, dataCount, mask);
    if (this.wants) s.wanted = this.wants(pv);
    cm.subs.set(id, s);
    this.cached[slotOf(cm.id, id)] = s;
    return s;
  }

  selection(): MessageSelection {
    return monitorUpdateSelection((m) => this.update(m));
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
    const id = m.parameter2;
    let s = this.cached[slotOf(c.id, id)];
    if (s === undefined || s.tcp !== c || s.subscriptionId !== id) s = this.tallyOf(c, id, m);
    const cm = s.circuit;
    const t = m.time;
    // a stretch of bytes toward the client the capture lost since the circuit's last update
    const gaps = c.toClient.stream.stats.gaps;
    if (gaps !== cm.streamGaps) {
      cm.streamGaps = gaps;
      cm.captureGaps.push([cm.lastUpdate, t]);
    }
    if (t - cm.lastUpdate >= MIN_SILENCE) cm.silence(cm.lastUpdate, t);
    cm.lastUpdate = t;
    if (!s.wanted) return;
    const type = m.dataType;
    const ps = m.payloadSize;
    const hot = this.hot;
    const at = s.hot;
    if (s.updates === 0) this.firstUpdate(s, m);
    else {
      const gap = t - hot[at + LAST_TIME]!;
      const slot = histogramSlot(gap);
      if (slot === s.intervalSlot) s.intervalRun++;
      else {
        if (s.intervalRun) s.intervals.addRun(s.intervalSlot, s.intervalRun);
        s.intervalSlot = slot;
        s.intervalRun = 1;
      }
      if (gap > hot[at + LONGEST_GAP]!) {
        hot[at + LONGEST_GAP] = gap;
        s.longestFrom = s.lastFrame;
        s.longestTo = m.frame;
      }
      if (gap < hot[at + SHORTEST_GAP]!) hot[at + SHORTEST_GAP] = gap;
      if (gap > hot[at + KEPT_ABOVE]!) this.keepGap(s, gap, m.frame);
      if (t >= hot[at + BUCKET_END]!) this.closeBuckets(s, t);
      if (this.withLag && type >= DBR_TIME_FIRST && type <= DBR_TIME_LAST && ps >= 12) {
        // DBR_TIME_*: status, severity, then the time stamp (EPICS seconds, nanoseconds)
        const sec = u32be(m.buf, m.payloadOffset + 4);
        if (sec !== 0) {
          const lag = t - epicsToUnixSeconds(sec, u32be(m.buf, m.payloadOffset + 8));
          if (s.lags === undefined) {
            s.lags = new LogHistogram();
            hot[at + LAG_BASE] = lag;
          }
          const d = lag - hot[at + LAG_BASE]!;
          const slot = coarseSlotOf(d, LAG_FLOOR);
          if (slot === s.lagSlot) s.lagRun++;
          else {
            if (s.lagRun) s.lags.addRun(s.lagSlot, s.lagRun);
            s.lagSlot = slot;
            s.lagRun = 1;
          }
          if (d < hot[at + LAG_MIN]!) hot[at + LAG_MIN] = d;
          if (d > hot[at + LAG_MAX]!) hot[at + LAG_MAX] = d;
        }
      }
    }
    s.bucketCount++;
    s.updates++;
    // header: 16 bytes, 24 when extended (a payload or count past 16 bits)
    s.bytes += ps + (ps >= 0xffff || m.dataCount >= 0xffff ? 24 : 16);
    s.lastSec = m.sec;
    s.lastNsec = m.nsec;
    hot[at + LAST_TIME] = t;
    s.lastFrame = m.frame;
    if (this.o.sequence) this.sequence(s, m, type);
  }

  /** A gap among the longest so far, kept with whether the whole circuit was silent through it. */
  private keepGap(s: SubscriptionTally, gap: number, frame: number): void {
    const cm = s.circuit;
    const from = this.hot[s.hot + LAST_TIME]!;
    // a circuit-wide silence lies between two updates of every subscription: none fits in a gap shorter than MIN_SILENCE
    const silent = gap >= MIN_SILENCE && cm.subs.size > 1 && cm.silentDuring(from, from + gap);
    s.candidates.add(gap, from, s.lastSec, s.lastNsec, s.lastFrame, frame, silent);
    this.hot[s.hot + KEPT_ABOVE] = s.candidates.floor();
  }

  /** The tally of a subscription the cache did not hold (now it does). */
  private tallyOf(c: TcpCircuit, id: number, m: DeclinedMessage): SubscriptionTally {
    const cm = this.circuitOf(c);
    const s = cm.subs.get(id);
    if (s !== undefined) {
      this.cached[slotOf(c.id, id)] = s;
      return s;
    }
    // subscribed before the capture began (or its request was not kept): what the update's header says
    const sub = c.ca.subscriptions.get(id);
    return this.newTally(cm, id, sub?.channel?.name, sub?.dataType ?? m.dataType, sub?.dataCount ?? m.dataCount, sub?.mask);
  }

  private firstUpdate(s: SubscriptionTally, m: DeclinedMessage): void {
    const t = m.time;
    if (Number.isNaN(this.origin)) this.origin = this.clock ? this.clock.firstTime : t;
    s.first.sec = m.sec;
    s.first.nsec = m.nsec;
    s.first.time = t;
    s.first.frame = m.frame;
    s.bucket = s.firstBucket = Math.floor((t - this.origin) / this.interval);
    this.hot[s.hot + BUCKET_END] = this.origin + (s.bucket + 1) * this.interval;
    if (this.o.series) s.series = [];
  }

  /** Counts of the intervals before the one of time t into the histogram (or the series); empty ones in between count 0. */
  private closeBuckets(s: SubscriptionTally, t: number): void {
    const bucket = Math.max(s.bucket + 1, Math.floor((t - this.origin) / this.interval));
    this.hot[s.hot + BUCKET_END] = this.origin + (bucket + 1) * this.interval;
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
    cm.zeroWindows = zeroWindowsOf(c, c.endTime ?? c.lastSeen);
    cm.ended = true;
    cm.tcp = undefined;
    for (const s of cm.subs.values()) s.tcp = undefined;
    for (const s of cm.replaced) s.tcp = undefined;
    this.circuits.delete(c);
    this.ended.push(cm);
  }

  finish(): MonitorRow[] {
    return this.rows();
  }

  /** --every: the rows so far (a circuit still open: its zero windows so far); the tallies are left as they are. */
  snapshot(): MonitorRow[] {
    return this.rows();
  }

  private rows(): MonitorRow[] {
    const all = [...this.ended, ...this.circuits.values()].sort((a, b) => a.id - b.id);
    const rows: MonitorRow[] = [];
    for (const cm of all) {
      const zeroWindows = cm.ended || !cm.tcp ? cm.zeroWindows : zeroWindowsOf(cm.tcp, cm.tcp.lastSeen);
      for (const s of [...cm.replaced, ...cm.subs.values()]) if (s.updates > 0 && s.wanted) rows.push(this.row(s, zeroWindows));
    }
    lagOffsetsPerServer(rows);
    return this.o.by === 'pv' ? byPv(rows, this.o, this.interval) : rows;
  }

  private row(s: SubscriptionTally, zeroWindows: readonly [number, number][]): MonitorRow {
    const cm = s.circuit;
    // the runs not counted yet
    if (s.intervalRun) s.intervals.addRun(s.intervalSlot, s.intervalRun);
    s.intervalRun = 0;
    if (s.lags && s.lagRun) s.lags.addRun(s.lagSlot, s.lagRun);
    s.lagRun = 0;
    const h = s.intervals;
    const hot = this.hot.subarray(s.hot, s.hot + HOT_STRIDE);
    const min = hot[SHORTEST_GAP]!;
    const max = hot[LONGEST_GAP]!;
    const interArrival = h.n ? { min, median: h.quantile(0.5, min, max), p99: h.quantile(0.99, min, max), max } : undefined;
    const threshold = stallThreshold(this.o.gap ?? DEFAULT_GAP, h.n ? usualInterval(h, min, max) : undefined);
    // exact while the longest gaps kept hold every one above the threshold; else the histogram's count (within a bin)
    const kept = threshold === undefined ? [] : s.candidates.list().filter((g) => g.seconds > threshold);
    const stallCount = threshold === undefined ? 0 : s.candidates.holdsAllAbove(threshold) ? kept.length : Math.max(kept.length, h.countAbove(threshold, max));
    const stalls =
      threshold === undefined
        ? []
        : kept
            .sort((a, b) => a.startFrame - b.startFrame)
            .map((g): MonitorStall => ({ startFrame: g.startFrame, endFrame: g.endFrame, start: g.start, startSec: g.startSec, startNsec: g.startNsec, durationS: g.seconds, cause: causeOf(cm, g, zeroWindows) }));
    const span = hot[LAST_TIME]! - s.first.time;
    const lag = s.lags ? lagOf(s.lags, hot[LAG_BASE]!, hot[LAG_MIN]!, hot[LAG_MAX]!) : undefined;
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
      last: { sec: s.lastSec, nsec: s.lastNsec, time: hot[LAST_TIME]!, frame: s.lastFrame },
      rateHz: span > 0 ? (s.updates - 1) / span : 0,
      bytesPerSec: span > 0 ? s.bytes / span : 0,
      intervalRate: intervalRates(s, this.interval),
      interArrival,
      longestGapS: interArrival ? max : undefined,
      longestGapFrames: interArrival ? [s.longestFrom, s.longestTo] : undefined,
      stallThresholdS: threshold,
      stalls,
      stallCount,
      lag,
      sequence: s.seq,
      // the last interval (partial) too
      series: s.series ? { start: this.origin + s.firstBucket * this.interval, interval: this.interval, counts: [...s.series, s.bucketCount] } : undefined,
    };
  }
}

/**
 * A subscription's usual interval, which --gap Nx scales: the upper quartile of
 * its intervals. After a stall the queued updates arrive in a burst, milliseconds
 * apart, and can be most of the intervals (slow_consumer: the median is 4 ms for a
 * 10 Hz PV); the quartile above them stays at the PV's own period.
 */
export function usualInterval(intervals: LogHistogram, min: number, max: number): number {
  return intervals.quantile(0.75, min, max);
}

/** The stall threshold in seconds (undefined: no interval to scale). */
function stallThreshold(rule: GapRule, median: number | undefined): number | undefined {
  if ('seconds' in rule) return rule.seconds;
  return median === undefined ? undefined : rule.factor * median;
}

/** The first cause the capture shows, in order: the client stopped reading, asked the server to stop, the capture lost bytes, the server sent nothing at all. */
function causeOf(cm: CircuitMonitors, g: GapCandidate, zeroWindows: readonly [number, number][]): StallCause {
  if (overlaps(zeroWindows, g.start, g.end)) return 'zero window';
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

/** Lag statistics from the lags less `base`, whose least and greatest are min and max. */
function lagOf(lags: LogHistogram, base: number, min: number, max: number): LagStats {
  return { offsetS: base + min, medianS: lags.quantile(0.5, min, max) - min, p99S: lags.quantile(0.99, min, max) - min, maxS: max - min, samples: lags.n };
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
