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
import { runDissection, type DissectResult } from '../dissect/run.js';
import { LatencyAccumulator, danfoStats, loadDanfo, millis, type LatencyDistribution, type LatencyStats } from './latency-stats.js';
import { PAIR_KINDS, Pairer, type PairCounts, type PairKind, type PairRecord, type SearchConflict, type Unanswered } from './pairing.js';

export type GroupBy = 'server' | 'client' | 'pv' | 'circuit';
export const GROUP_BY: readonly GroupBy[] = ['server', 'client', 'pv', 'circuit'];

/** Above this many pairs the statistics come from the streaming accumulator, not danfo.js. */
export const DANFO_MAX_ROWS = 200_000;

export interface LatencyOptions {
  /** kinds of pairs to measure; default create (channel creation, as caproto's benchmark) */
  kinds?: Iterable<PairKind>;
  /** what a statistics row describes; default server */
  by?: GroupBy;
  /** capture seconds a request may wait for its reply; default 60 */
  timeout?: number;
  /** only requests sent in [since, until), Unix seconds */
  since?: number;
  until?: number;
  dissect?: DissectOptions;
  /** most records kept in `records`; past it they are released (default: all) */
  keepRecords?: number;
  /** told of every pair in the window, as it is found */
  onRecord?: (r: PairRecord) => void;
  /** 'auto' (default): danfo.js for kept records up to DANFO_MAX_ROWS, else the accumulator */
  statsEngine?: 'auto' | 'danfo' | 'stream';
  /** aborting it ends the read at once: the result covers what was read (runDissection's `abort`) */
  stop?: AbortSignal;
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
  /** the records as a danfo.js DataFrame (see FRAME_COLUMNS) */
  toDataFrame(): Promise<DataFrame>;
}

/** The value a record is grouped by. */
export function groupKey(r: PairRecord, by: GroupBy): string {
  switch (by) {
    case 'server':
      return r.server;
    case 'client':
      return r.client;
    case 'pv':
      return r.pv ?? '';
    case 'circuit':
      return r.circuit === undefined ? '' : String(r.circuit);
  }
}

export async function latency(source: CaptureSource, options: LatencyOptions = {}): Promise<LatencyResult> {
  const kinds = new Set(options.kinds ?? ['create']);
  const by = options.by ?? 'server';
  const since = options.since ?? -Infinity;
  const until = options.until ?? Infinity;
  const keep = options.keepRecords ?? Infinity;
  const inWindow = (t: number): boolean => t >= since && t < until;

  const accumulator = new LatencyAccumulator();
  const columns = { kind: [] as PairKind[], group: [] as string[], latencyMs: [] as number[] };
  let records: PairRecord[] = [];
  let recordsComplete = true;
  const unanswered: Unanswered[] = [];
  const pairer = new Pairer(
    { timeout: options.timeout, kinds },
    (r) => {
      if (!inWindow(r.requestTime)) return;
      const group = groupKey(r, by);
      const ms = millis(r.latency);
      accumulator.add(r.kind, group, ms);
      options.onRecord?.(r);
      if (!recordsComplete) return;
      if (records.length >= keep) {
        recordsComplete = false;
        records = [];
        columns.kind = [];
        columns.group = [];
        columns.latencyMs = [];
        return;
      }
      records.push(r);
      columns.kind.push(r.kind);
      columns.group.push(group);
      columns.latencyMs.push(ms);
    },
    (u) => {
      if (inWindow(u.requestTime)) unanswered.push(u);
    },
  );
  // Only the messages the pairer reads become events: of the monitor updates, the first of each subscription.
  const dissection = await runDissection(source, { ...pairer.selection(), ...options.dissect }, (ev) => pairer.event(ev), {
    listener: pairer,
    abort: options.stop,
  });
  pairer.finish();

  const engine = options.statsEngine ?? 'auto';
  const useDanfo = engine !== 'stream' && recordsComplete && records.length > 0 && (engine === 'danfo' || records.length <= DANFO_MAX_ROWS);
  const distributions = accumulator.distributions();
  const stats = useDanfo ? await danfoStats(columns, distributions) : accumulator.stats();
  return {
    records,
    recordsComplete,
    stats,
    statsEngine: useDanfo ? 'danfo' : 'stream',
    distributions,
    unanswered,
    counts: pairer.counts,
    conflicts: pairer.conflicts,
    dissection,
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
  };
}
