// Every report's analysis by name, so that a worker thread builds the same one
// the main thread would (src/parallel/worker.ts): its options and its part
// survive a structured clone.

import type { Analysis } from './analysis.js';
import { BeaconAnalysis, type BeaconReport } from './beacons.js';
import { ClientNames, clientGroup, type ClientGrouping, type ClientNameTable } from './client-names.js';
import { CircuitAnalysis, type CircuitSummary } from './circuits.js';
import { MonitorAnalysis, type MonitorOptions, type MonitorRow } from './monitors.js';
import { LatencyAnalysis, type LatencyOptions, type LatencyPart } from './latency.js';
import type { PairKind, PairRecord } from './pairing.js';
import { SearchAnalysis, type ClientSearches, type NameSearches, type SearchStorm, type UnansweredSearch } from './searches.js';
import { SummaryAnalysis, type CaptureSummary, type SummaryOptions } from './summary.js';
import { TcpAnalysis, type TcpAnalysisOptions, type TcpPart } from './tcp.js';
import type { ExportOptions, ExportPart } from '../export/export-analysis.js';

/** What `cawire latency` pairs in each file: the `latency()` options that survive a structured clone. */
export interface LatencyTaskOptions extends Pick<LatencyOptions, 'by' | 'timeout' | 'since' | 'until' | 'split'> {
  kinds: PairKind[];
  /** list the pairs slower than this many seconds (-Infinity: every pair, for --raw); none: list nothing */
  listSlowerThan?: number;
}

export interface SearchTaskOptions {
  /** --storm RATE: the storms above it */
  storm?: number;
  /** the clients' rows: per ip:port (default), host, or user@host */
  by?: ClientGrouping;
}

/** The searches report's part: its rows (SearchReport without its log). */
export interface SearchPart {
  names: NameSearches[];
  unanswered: UnansweredSearch[];
  duplicates: NameSearches[];
  clients: ClientSearches[];
  storms?: SearchStorm[];
}

export interface AnalysisTypes {
  searches: { options: SearchTaskOptions; part: SearchPart };
  beacons: { options: { silence?: number }; part: BeaconReport };
  circuits: { options: Record<string, never>; part: CircuitSummary[] };
  summary: { options: SummaryOptions; part: CaptureSummary };
  latency: { options: LatencyTaskOptions; part: LatencyPart };
  monitors: { options: MonitorOptions; part: MonitorRow[] };
  tcp: { options: TcpAnalysisOptions; part: TcpPart };
  export: { options: ExportOptions; part: ExportPart };
}

export type AnalysisName = keyof AnalysisTypes;
export type PartOf<N extends AnalysisName> = AnalysisTypes[N]['part'];
export type OptionsOf<N extends AnalysisName> = AnalysisTypes[N]['options'];

function searches(o: SearchTaskOptions): Analysis<SearchPart> {
  const analysis = new SearchAnalysis();
  // By user, a client's names come from its host's circuits.
  const names = o.by === 'user' ? new ClientNames() : undefined;
  return {
    selection: () => analysis.selection(),
    event: (ev) => {
      analysis.event(ev);
      names?.event(ev);
    },
    // The search report's finish leaves it as it was: the snapshot is the same.
    finish: () => part(),
    snapshot: () => part(),
  };
  function part(): SearchPart {
    const report = analysis.finish();
    const table: ClientNameTable | undefined = names?.table();
    const by = o.by ?? 'socket';
    return {
      names: report.names,
      unanswered: report.unanswered,
      duplicates: report.duplicates,
      clients: by === 'socket' ? report.clients : report.clientsBy((client) => clientGroup(table, by, client)),
      storms: o.storm === undefined ? undefined : report.storms(o.storm),
    };
  }
}



function latency(o: LatencyTaskOptions): Analysis<LatencyPart> {
  const { listSlowerThan: bound, ...options } = o;
  const records: PairRecord[] = [];
  const analysis = new LatencyAnalysis({
    ...options,
    keepRecords: 0,
    onRecord: bound === undefined ? undefined : (r) => r.latency > bound && records.push(r),
  });
  return {
    selection: () => analysis.selection(),
    started: (clock) => analysis.started(clock),
    event: (ev) => analysis.event(ev),
    circuitEnded: (c) => analysis.circuitEnded(c),
    finish: (result) => ({ ...analysis.finish(result), records }),
    snapshot: (result) => ({ ...analysis.snapshot(result), records: [...records] }),
  };
}



type Builder<N extends AnalysisName> = (options: OptionsOf<N>) => Analysis<PartOf<N>>;

/** Analyses loaded when first asked for: export brings the Parquet writer, which no report needs at start-up. */
const LOADED_LATER: { [N in AnalysisName]?: () => Promise<Builder<N>> } = {
  export: async () => {
    const { ExportAnalysis } = await import('../export/export-analysis.js');
    return (o) => new ExportAnalysis(o);
  },
};

const BUILDERS: { [N in AnalysisName]?: Builder<N> } = {
  searches,
  // These classes are analyses as they are (their methods are called on them).
  beacons: (o) => new BeaconAnalysis(o.silence),
  circuits: () => new CircuitAnalysis(),
  summary: (o) => new SummaryAnalysis(o),
  latency,
  monitors: (o) => new MonitorAnalysis(o),
  tcp: (o) => new TcpAnalysis(o),
};

/** The analysis of a report, by name (loading its code first when it is loaded later). */
export async function buildAnalysis<N extends AnalysisName>(name: N, options: OptionsOf<N>): Promise<Analysis<PartOf<N>>> {
  const later = LOADED_LATER[name] as (() => Promise<Builder<N>>) | undefined;
  const build = (BUILDERS[name] as Builder<N> | undefined) ?? (await later!());
  return build(options);
}
