// The latency report: pair requests with responses over a whole capture and
// describe the latencies per server (or client, PV, circuit).
//
// `latency(source, options)` keeps the paired records (up to `keepRecords`) and
// computes the statistics with danfo.js groupby for up to DANFO_MAX_ROWS pairs,
// as the design card asks; above that, or when the records were not kept, the
// streaming accumulator gives the same numbers in a fraction of the memory
// (see BENCHMARKS.md).

import type { DataFrame } from 'danfojs';
import type { CaptureSource } from '../capture/source.js';
import type { DissectOptions } from '../dissect/options.js';
import type { TcpCircuit } from '../dissect/circuits.js';
import type { CaEvent } from '../dissect/event.js';
import type { CaptureClock, EventFilterSpec, TimeBound } from '../dissect/filter.js';
import type { MessageSelection } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';
import type { Analysis } from './analysis.js';
import { ClientNames, UNKNOWN_USER, hostOf, userOfCircuit, type ClientNameTable } from './client-names.js';
import { runAnalysis, type JoinedFile, type RunOptions } from './runner.js';
import { LatencyAccumulator, danfoStats, loadDanfo, millis, type LatencyDistribution, type LatencyStats } from './latency-stats.js';
import { LatencySplit, type SplitTimes } from './latency-split.js';
import { PAIR_KINDS, Pairer, type PairCounts, type PairKind, type PairRecord, type SearchConflict, type Unanswered } from './pairing.js';

/** host: the client's IP; user: the CA user@host names its circuit sent (client-names.ts) */
export type GroupBy = 'server' | 'client' | 'host' | 'user' | 'pv' | 'circuit';
export const GROUP_BY: readonly GroupBy[] = ['server', 'client', 'host', 'user', 'pv', 'circuit'];

/** Above this many pairs the statistics come from the streaming accumulator, not danfo.js. */
export const DANFO_MAX_ROWS = 200_000;

export interface LatencyOptions {
  /** kinds of pairs to measure; default create (channel creation, as caproto's benchmark) */
  kinds?: Iterable<PairKind>;
  /** what a statistics row describes; default server */
  by?: GroupBy;
  /** capture seconds a request may wait for its reply; default 60 */
  timeout?: number;
  /** only requests sent in [since, until): Unix seconds, or a bound relative to the first packet */
  since?: number | TimeBound;
  until?: number | TimeBound;
  dissect?: DissectOptions;
  /** most records kept in `records`; past it they are released (default: all) */
  keepRecords?: number;
  /** told of every pair in the window, as it is found */
  onRecord?: (r: PairRecord) => void;
  /** 'auto' (default): danfo.js for kept records up to DANFO_MAX_ROWS, else the accumulator */
  statsEngine?: 'auto' | 'danfo' | 'stream';
  /** aborting it ends the read at once: the result covers what was read (runDissection's `abort`) */
  stop?: AbortSignal;
  /** --every: the snapshot of the pairs so far each interval of capture time (runner.ts RunOptions.every) */
  every?: RunOptions<LatencyPart>['every'];
  /** the events paired: --pv, --host, --port, --duration (runner.ts); since/until above bound the requests instead */
  filter?: EventFilterSpec;
  /** split each TCP pair's time into network and server (latency-split.ts): records get networkMs, serverMs, retransmitted */
  split?: boolean;
}

/** --split: the network and server times (ms) of one kind and group, and how many of its pairs saw a retransmission. */
export interface SplitGroup {
  kind: PairKind;
  group: string;
  network: number[];
  server: number[];
  retransmitted: number;
}

export interface LatencyResult {
  /** the pairs in the window, in the order their replies came; empty when more than keepRecords */
  records: PairRecord[];
  recordsComplete: boolean;
  stats: LatencyStats[];
  statsEngine: 'danfo' | 'stream';
  /** each group's latencies (ms, sorted), for plots */
  distributions: LatencyDistribution[];
  /** requests in the window that got no reply */
  unanswered: Unanswered[];
  /** whole-capture counts from the pairer (pairs, unanswered, orphan replies, conflicts) */
  counts: PairCounts;
  conflicts: SearchConflict[];
  dissection: DissectResult;
  /** by user: the names the capture's circuits sent */
  names?: ClientNameTable;
  /** several sources joined: the files in the order read */
  joined?: JoinedFile[];
  /** --split: network and server times per kind and group */
  split?: SplitGroup[];
  /** the records as a danfo.js DataFrame (see FRAME_COLUMNS) */
  toDataFrame(): Promise<DataFrame>;
}

/** The value a record is grouped by (by user: with the names the capture's circuits sent; '?' without). */
export function groupKey(r: PairRecord, by: GroupBy, names?: ClientNameTable): string {
  switch (by) {
    case 'server':
      return r.server;
    case 'client':
      return r.client;
    case 'host':
      return hostOf(r.client);
    case 'user':
      return names ? userOfCircuit(names, r.circuit, r.client) : UNKNOWN_USER;
    case 'pv':
      return r.pv ?? '';
    case 'circuit':
      return r.circuit === undefined ? '' : String(r.circuit);
  }
}

/** A bound as Unix seconds, given the capture's first packet time. */
function boundAt(b: number | TimeBound | undefined, clock: CaptureClock, none: number): number {
  if (b === undefined) return none;
  if (typeof b === 'number') return b;
  return 'at' in b ? b.at : clock.firstTime + b.afterFirst;
}

/** What the latency analysis keeps beside its part: the records (up to keepRecords) for danfo.js. */
export interface LatencyAnalysisOptions extends Pick<LatencyOptions, 'kinds' | 'by' | 'timeout' | 'since' | 'until' | 'keepRecords' | 'onRecord' | 'split'> {}

/**
 * Pairs requests with replies (Pairer) and gathers the latencies of the pairs
 * whose request is in the window, per kind and group; its part is a LatencyPart.
 */
export class LatencyAnalysis implements Analysis<LatencyPart> {
  readonly accumulator = new LatencyAccumulator();
  columns = { kind: [] as PairKind[], group: [] as string[], latencyMs: [] as number[] };
  records: PairRecord[] = [];
  recordsComplete = true;
  readonly unanswered: Unanswered[] = [];
  readonly pairer: Pairer;
  private readonly by: GroupBy;
  /** by user: the names the circuits sent, and the pairs waiting for them (the group is known at the end) */
  private readonly names?: ClientNames;
  private readonly waiting: PairRecord[] = [];
  private clock: CaptureClock = { firstTime: NaN };
  /** --split: the pairs wait here for their response's segment, and their times are gathered per kind and group */
  private readonly split?: LatencySplit;
  private readonly splitGroups = new Map<string, SplitGroup>();

  constructor(private readonly options: LatencyAnalysisOptions = {}) {
    const kinds = new Set(options.kinds ?? ['create']);
    this.by = options.by ?? 'server';
    if (this.by === 'user') this.names = new ClientNames();
    const keep = options.keepRecords ?? Infinity;
    const paired = (r: PairRecord): void => {
        if (!this.inWindow(r.requestTime)) return;
        if (this.names) {
          this.waiting.push(r);
          options.onRecord?.(r);
          return;
        }
        const group = groupKey(r, this.by);
        const ms = millis(r.latency);
        this.accumulator.add(r.kind, group, ms);
        this.addSplit(r, group);
        options.onRecord?.(r);
        if (!this.recordsComplete) return;
        if (this.records.length >= keep) {
          this.recordsComplete = false;
          this.records = [];
          this.columns = { kind: [], group: [], latencyMs: [] };
          return;
        }
        this.records.push(r);
        this.columns.kind.push(r.kind);
        this.columns.group.push(group);
        this.columns.latencyMs.push(ms);
      };
    if (options.split) this.split = new LatencySplit(paired);
    this.pairer = new Pairer(
      { timeout: options.timeout, kinds },
      this.split ? (r) => this.split!.record(r) : paired,
      (u) => {
        if (this.inWindow(u.requestTime)) this.unanswered.push(u);
      },
    );
  }

  private inWindow(t: number): boolean {
    return t >= boundAt(this.options.since, this.clock, -Infinity) && t < boundAt(this.options.until, this.clock, Infinity);
  }

  started(clock: CaptureClock): void {
    this.clock = clock;
  }

  /** --split: a pair's network and server times, gathered per kind and group. */
  private addSplit(r: PairRecord & SplitTimes, group: string): void {
    if (r.networkMs === undefined || r.serverMs === undefined) return;
    const key = `${r.kind}\0${group}`;
    let g = this.splitGroups.get(key);
    if (!g) this.splitGroups.set(key, (g = { kind: r.kind, group, network: [], server: [], retransmitted: 0 }));
    g.network.push(r.networkMs);
    g.server.push(r.serverMs);
    if (r.retransmitted) g.retransmitted++;
  }

  /** Only the messages the pairer reads become events: of the monitor updates, the first of each subscription. --split: every segment too. */
  selection(): MessageSelection {
    const s = this.pairer.selection();
    const split = this.split;
    return split ? { ...s, tcpAnalysis: true, segments: (v) => split.segment(v) } : s;
  }

  event(ev: CaEvent): void {
    this.names?.event(ev);
    this.pairer.event(ev);
  }

  circuitEnded(c: TcpCircuit): void {
    this.pairer.circuitEnded(c);
    this.split?.circuitEnded(c);
  }

  /** The names the circuits sent (by user), for the groups of unanswered requests. */
  nameTable(): ClientNameTable | undefined {
    return this.names?.table();
  }

  finish(result: DissectResult): LatencyPart {
    this.pairer.finish();
    this.split?.finish();
    const names = this.names?.table();
    if (names) {
      // By user: the pairs wait for the names (a search's client sends them on a circuit after it).
      for (const r of this.waiting) {
        const group = groupKey(r, 'user', names);
        const ms = millis(r.latency);
        this.accumulator.add(r.kind, group, ms);
        this.addSplit(r, group);
        if (this.records.length < (this.options.keepRecords ?? Infinity)) {
          this.records.push(r);
          this.columns.kind.push(r.kind);
          this.columns.group.push(group);
          this.columns.latencyMs.push(ms);
        } else this.recordsComplete = false;
      }
      this.waiting.length = 0;
    }
    return this.part(this.accumulator, result, names);
  }

  /** --every: the pairs so far (requests still waiting are not yet unanswered; by user, grouped by the names sent so far). */
  snapshot(result: DissectResult): LatencyPart {
    const names = this.names?.table();
    if (!names || this.waiting.length === 0) return this.part(this.accumulator, result, names);
    const acc = LatencyAccumulator.fromDistributions(this.accumulator.distributions());
    for (const r of this.waiting) acc.add(r.kind, groupKey(r, 'user', names), millis(r.latency));
    return this.part(acc, result, names);
  }

  private part(acc: LatencyAccumulator, result: DissectResult, names: ClientNameTable | undefined): LatencyPart {
    return {
      distributions: acc.distributions(),
      records: [],
      unanswered: this.unanswered,
      counts: this.pairer.counts,
      conflicts: this.pairer.conflicts,
      dissection: result,
      names,
      split: this.split ? [...this.splitGroups.values()] : undefined,
    };
  }
}

/** Pairs the requests of a capture (several sources: rotated files joined as one capture, runner.ts). */
export async function latency(source: CaptureSource | readonly CaptureSource[], options: LatencyOptions = {}): Promise<LatencyResult> {
  const analysis = new LatencyAnalysis(options);
  const sources = Array.isArray(source) ? (source as readonly CaptureSource[]) : [source as CaptureSource];
  const { part, result: dissection, joined } = await runAnalysis(sources, analysis, { dissect: options.dissect, abort: options.stop, filter: options.filter, every: options.every });
  const { records, recordsComplete, columns } = analysis;
  const keep = options.keepRecords ?? Infinity;
  const engine = options.statsEngine ?? 'auto';
  const useDanfo = engine !== 'stream' && recordsComplete && records.length > 0 && (engine === 'danfo' || records.length <= DANFO_MAX_ROWS);
  const distributions = part.distributions;
  const stats = useDanfo ? await danfoStats(columns, distributions) : analysis.accumulator.stats();
  return {
    records,
    recordsComplete,
    stats,
    statsEngine: useDanfo ? 'danfo' : 'stream',
    distributions,
    unanswered: part.unanswered,
    counts: part.counts,
    conflicts: part.conflicts,
    dissection,
    joined,
    names: part.names,
    split: part.split,
    toDataFrame: () => {
      if (!recordsComplete) return Promise.reject(new Error(`more than ${keep} pairs: the records were not kept`));
      return recordsToDataFrame(records);
    },
  };
}

/** The DataFrame columns of a record: a missing PV is '' and a missing circuit NaN. */
const FRAME_COLUMNS: readonly [string, (r: PairRecord) => string | number][] = [
  ['kind', (r) => r.kind],
  ['pv', (r) => r.pv ?? ''],
  ['client', (r) => r.client],
  ['server', (r) => r.server],
  ['circuit', (r) => r.circuit ?? NaN],
  ['request_time', (r) => r.requestTime],
  ['response_time', (r) => r.responseTime],
  ['latency_ms', (r) => millis(r.latency)],
  ['request_frame', (r) => r.requestFrame],
  ['response_frame', (r) => r.responseFrame],
  ['outcome', (r) => r.outcome],
];

/** One row per record; times are Unix seconds, latency_ms milliseconds. */
export async function recordsToDataFrame(records: readonly PairRecord[]): Promise<DataFrame> {
  const dfd = await loadDanfo();
  const names = FRAME_COLUMNS.map(([name]) => name);
  // danfo.js refuses empty column arrays, but takes an empty row list with column names
  if (records.length === 0) return new dfd.DataFrame([], { columns: names });
  return new dfd.DataFrame(Object.fromEntries(FRAME_COLUMNS.map(([name, value]) => [name, records.map(value)])));
}

// ---- several captures ------------------------------------------------------

/**
 * One capture's share of a report over several captures (what a worker sends
 * back): its latency values per group, its listed records, its unanswered
 * requests and its counts. Each capture is paired on its own: a request in one
 * file is never answered by a reply in another.
 */
export interface LatencyPart {
  distributions: LatencyDistribution[];
  /** the records the caller listed (--raw, --slower-than), in the order their replies came */
  records: PairRecord[];
  unanswered: Unanswered[];
  counts: PairCounts;
  conflicts: SearchConflict[];
  dissection: DissectResult;
  /** by user: the names the capture's circuits sent (each file's own) */
  names?: ClientNameTable;
  /** --split: network and server times per kind and group */
  split?: SplitGroup[];
}

/** A record, request or conflict with the capture it came from (its frames are that file's). */
export type FromFile<T> = T & { file: string };

/** The report over several captures: statistics over the union of their pairs. */
export interface MergedLatency {
  stats: LatencyStats[];
  distributions: LatencyDistribution[];
  /** by request time, then file order, then request frame */
  records: FromFile<PairRecord>[];
  /** by request time, then file order, then request frame */
  unanswered: FromFile<Unanswered>[];
  /** summed */
  counts: PairCounts;
  /** file order, then each file's order */
  conflicts: FromFile<SearchConflict>[];
  /** --split: every file's times per kind and group */
  split?: SplitGroup[];
}

function sumCounts(parts: readonly PairCounts[]): PairCounts {
  const zero = () => Object.fromEntries(PAIR_KINDS.map((k) => [k, 0])) as Record<PairKind, number>;
  const sum: PairCounts = { pairs: zero(), unanswered: zero(), orphanResponses: zero(), searchConflicts: 0 };
  for (const c of parts) {
    for (const k of PAIR_KINDS) {
      sum.pairs[k] += c.pairs[k];
      sum.unanswered[k] += c.unanswered[k];
      sum.orphanResponses[k] += c.orphanResponses[k];
    }
    sum.searchConflicts += c.searchConflicts;
  }
  return sum;
}

/** Items of every file by request time, then file order, then request frame (frames are per file). */
function byRequestTime<T extends { requestTime: number; requestFrame: number }>(files: readonly string[], lists: readonly (readonly T[])[]): FromFile<T>[] {
  const all: [number, T][] = [];
  lists.forEach((list, i) => {
    for (const item of list) all.push([i, item]);
  });
  all.sort(([fa, a], [fb, b]) => a.requestTime - b.requestTime || fa - fb || a.requestFrame - b.requestFrame);
  return all.map(([i, item]) => ({ ...item, file: files[i]! }));
}

/**
 * Merges the parts of `files` (same order): statistics from the streaming
 * accumulator over every file's values (the same numbers as one accumulator fed
 * every pair), counts summed, records and unanswered requests in time order.
 */
export function mergeLatencyParts(files: readonly string[], parts: readonly LatencyPart[]): MergedLatency {
  const accumulator = LatencyAccumulator.fromDistributions(...parts.map((p) => p.distributions));
  return {
    stats: accumulator.stats(),
    distributions: accumulator.distributions(),
    records: byRequestTime(files, parts.map((p) => p.records)),
    unanswered: byRequestTime(files, parts.map((p) => p.unanswered)),
    counts: sumCounts(parts.map((p) => p.counts)),
    conflicts: parts.flatMap((p, i) => p.conflicts.map((c) => ({ ...c, file: files[i]! }))),
    split: parts.some((p) => p.split) ? mergeSplit(parts.flatMap((p) => p.split ?? [])) : undefined,
  };
}

/** Split groups of several files as one per kind and group. */
function mergeSplit(groups: readonly SplitGroup[]): SplitGroup[] {
  const out = new Map<string, SplitGroup>();
  for (const g of groups) {
    const key = `${g.kind}\0${g.group}`;
    const m = out.get(key);
    if (!m) out.set(key, { ...g, network: [...g.network], server: [...g.server] });
    else {
      m.network.push(...g.network);
      m.server.push(...g.server);
      m.retransmitted += g.retransmitted;
    }
  }
  return [...out.values()];
}
