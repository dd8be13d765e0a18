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
import { Pairer, type PairCounts, type PairKind, type PairRecord, type SearchConflict, type Unanswered } from './pairing.js';

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
  const dissection = await runDissection(source, options.dissect ?? {}, (ev) => pairer.event(ev), { listener: pairer });
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
