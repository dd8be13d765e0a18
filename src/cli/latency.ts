// `cawire latency [FILE…|-]`: pair requests with their replies and describe the
// latencies per server, as caproto's benchmark example does for CreateChan: a
// line counting the unanswered requests, then count, mean, std, min, 25%, 50%,
// 75%, max in milliseconds per server.

import { Option, type Command } from 'commander';
import { GROUP_BY, DANFO_MAX_ROWS, latency, mergeLatencyParts, type GroupBy, type MergedLatency, type SplitGroup } from '../analysis/latency.js';
import type { SplitTimes } from '../analysis/latency-split.js';
import { LatencyAccumulator, millis, type LatencyStats } from '../analysis/latency-stats.js';
import { DEFAULT_TIMEOUT_SEC, PAIR_KINDS, type PairCounts, type PairKind, type PairRecord, type SearchConflict, type Unanswered } from '../analysis/pairing.js';
import { CaptureError } from '../capture/types.js';
import type { DissectResult } from '../dissect/run.js';
import { plotFormat, writeLatencyPlot } from '../output/plot.js';
import { LineWriter } from '../output/sink.js';
import { formatReport, formatTable, noteLines, tableLayout, type Column, type ReportFormat } from '../output/table.js';
import { formatTime, useCaptureTimes } from '../output/times.js';
import { safeText } from '../output/values.js';
import { DESCRIPTIONS } from './commands.js';
import { UNKNOWN_USER, hostOf, userOfHost, type ClientNameTable } from '../analysis/client-names.js';
import type { TimeBound } from '../dissect/filter.js';
import {
  DURATION_HELP,
  REPORT_FILES_HELP,
  UsageError,
  addDisplayOptions,
  addEveryOption,
  addInputOptions,
  addJobsOption,
  addJoinOption,
  checkFiles,
  collect,
  contiguousNote,
  dissectOptions,
  filterSpec,
  inputSource,
  durationOption,
  parsePortList,
  reportEnd,
  runCommand,
  type InputOptionValues,
} from './common.js';
import { joinNote } from './report-run.js';
import { parseTimeBound } from './units.js';

/** Every file's host names, for --by user over several files. */
function mergeNames(tables: readonly (ClientNameTable | undefined)[]): ClientNameTable | undefined {
  if (!tables.some(Boolean)) return undefined;
  const hosts = new Map<string, string[]>();
  for (const t of tables) {
    for (const [ip, list] of t?.hosts ?? []) hosts.set(ip, [...new Set([...(hosts.get(ip) ?? []), ...list])]);
  }
  return { circuits: new Map(), hosts };
}
import { EveryReport } from './every.js';
import { stoppedBySignals } from './interrupt.js';

interface LatencyCliOptions extends InputOptionValues {
  kind: PairKind | 'all';
  /** --every, seconds */
  every?: number;
  by: GroupBy;
  raw?: boolean;
  csv?: boolean;
  json?: boolean;
  /** seconds */
  slowerThan?: number;
  since?: TimeBound;
  until?: TimeBound;
  pv?: string[];
  host?: string[];
  port?: number[];
  duration?: number;
  join?: boolean;
  /** seconds */
  timeout: number;
  plot?: string;
  unanswered?: boolean;
  quiet?: boolean;
  jobs?: number;
  danfo?: boolean;
  split?: boolean;
}

export { parseTime } from './units.js';

/** [one, many] for "N … were unanswered". */
const UNANSWERED_TEXT: Readonly<Record<PairKind, [string, string]>> = {
  search: ['search was unanswered', 'searches were unanswered'],
  handshake: ['TCP connection request (SYN) was unanswered', 'TCP connection requests (SYN) were unanswered'],
  create: ['channel creation request was unanswered', 'channel creation requests were unanswered'],
  read: ['read request was unanswered', 'read requests were unanswered'],
  write: ['write request was unanswered', 'write requests were unanswered'],
  subscribe: ['subscription got no first update', 'subscriptions got no first update'],
  echo: ['echo request was unanswered', 'echo requests were unanswered'],
  connect: ['searched channel never connected', 'searched channels never connected'],
};

const KIND_TITLES: Readonly<Record<PairKind, string>> = {
  search: 'Search',
  handshake: 'TCP handshake',
  create: 'CreateChan',
  read: 'ReadNotify',
  write: 'WriteNotify',
  subscribe: 'EventAdd (first update)',
  echo: 'Echo',
  connect: 'Time to connect (first search to CreateChan reply)',
};

function unansweredLine(kinds: readonly PairKind[], unanswered: readonly Unanswered[]): string {
  const per = new Map<PairKind, number>(kinds.map((k) => [k, 0]));
  for (const u of unanswered) per.set(u.kind, per.get(u.kind)! + 1);
  if (kinds.length === 1) {
    const n = per.get(kinds[0]!)!;
    return `${n} ${UNANSWERED_TEXT[kinds[0]!][n === 1 ? 0 : 1]}`;
  }
  const parts = [...per].filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  return `${unanswered.length} ${unanswered.length === 1 ? 'request was' : 'requests were'} unanswered${parts.length ? ` (${parts.join(', ')})` : ''}`;
}


/** Milliseconds: three decimals in tables (blank for NaN), full precision in CSV/JSON (NaN as "NaN": table.ts jsonNumber). */
const msCell = (format: ReportFormat) => (v: number) => (format === 'table' ? (Number.isNaN(v) ? '' : v.toFixed(3)) : v);

/**
 * A statistics row with what the table says beside the table, for CSV/JSON:
 * `unanswered`, the requests of its kind and group that got no reply (the
 * line above the table; rows of one kind add up to its count), and for
 * searches `conflicts` and `conflict_frames`, the names answered by more than
 * one server that involve its group (the lines under the table).
 */
interface StatsRow extends LatencyStats {
  unanswered: number;
  conflicts?: SearchConflict[];
}

/** The group of an unanswered request (groupKey's rule; it names no circuit, so by circuit its group is '', by user its host's names). */
function unansweredGroup(u: Unanswered, by: GroupBy, names?: ClientNameTable): string {
  if (by === 'server') return u.server ?? '';
  if (by === 'client') return u.client;
  if (by === 'host') return hostOf(u.client);
  if (by === 'user') return names ? userOfHost(names, u.client) : UNKNOWN_USER;
  if (by === 'pv') return u.pv ?? '';
  return '';
}

/** Whether a search conflict involves a statistics group. */
function conflictIn(c: SearchConflict, by: GroupBy, group: string, names?: ClientNameTable): boolean {
  if (by === 'server') return c.servers.includes(group);
  if (by === 'client') return c.client === group;
  if (by === 'host') return hostOf(c.client) === group;
  if (by === 'user') return (names ? userOfHost(names, c.client) : UNKNOWN_USER) === group;
  if (by === 'pv') return c.pv === group;
  return group === '';
}

/**
 * The statistics rows with their unanswered counts and conflicts; a group whose
 * requests all went unanswered gets a row of its own (count 0, statistics NaN)
 * after its kind's other rows, so that nothing the table's notes say is lost.
 */
function statsRows(report: Report, kinds: readonly PairKind[], by: GroupBy): StatsRow[] {
  const key = (kind: PairKind, group: string) => `${kind}\0${group}`;
  const unanswered = new Map<string, number>();
  for (const u of report.unanswered) {
    const k = key(u.kind, unansweredGroup(u, by, report.names));
    unanswered.set(k, (unanswered.get(k) ?? 0) + 1);
  }
  const row = (s: LatencyStats): StatsRow => {
    const r: StatsRow = { ...s, unanswered: unanswered.get(key(s.kind, s.group)) ?? 0 };
    unanswered.delete(key(s.kind, s.group));
    if (s.kind === 'search') r.conflicts = report.conflicts.filter((c) => conflictIn(c, by, s.group, report.names));
    return r;
  };
  const rows: StatsRow[] = [];
  for (const kind of kinds) {
    for (const s of report.stats) if (s.kind === kind) rows.push(row(s));
    for (const [k, n] of [...unanswered]) {
      const [of, group] = k.split('\0') as [PairKind, string];
      if (of !== kind) continue;
      rows.push({ ...row({ kind, group, count: 0, mean: NaN, std: NaN, min: NaN, q25: NaN, q50: NaN, q75: NaN, max: NaN }), unanswered: n });
    }
  }
  return rows;
}

function statsColumns(format: ReportFormat, by: GroupBy, showKind: boolean): Column<LatencyStats>[] {
  const ms = msCell(format);
  const num = (title: string, key: string, pick: (s: LatencyStats) => number): Column<LatencyStats> => ({ title, key, value: (s) => ms(pick(s)), align: 'right' });
  return [
    ...(showKind ? [{ title: 'kind', value: (s: LatencyStats) => s.kind }] : []),
    { title: by === 'pv' ? 'PV' : by, key: by, value: (s) => (format === 'table' ? safeText(s.group) || '(none)' : s.group) },
    { title: 'count', value: (s) => s.count, align: 'right' },
    num('mean', 'mean_ms', (s) => s.mean),
    num('std', 'std_ms', (s) => s.std),
    num('min', 'min_ms', (s) => s.min),
    num('25%', 'p25_ms', (s) => s.q25),
    num('50%', 'p50_ms', (s) => s.q50),
    num('75%', 'p75_ms', (s) => s.q75),
    num('max', 'max_ms', (s) => s.max),
  ];
}

/** The notes beside the statistics table, as keys of each row (StatsRow). */
const NOTE_COLUMNS: Column<StatsRow>[] = [
  { title: 'unanswered', value: (s) => s.unanswered, align: 'right' },
  { title: 'conflicts', value: (s) => s.conflicts?.length, align: 'right' },
  { title: 'conflict frames', key: 'conflict_frames', value: (s) => s.conflicts?.map((c) => c.frame) },
];

/** A wire string for a cell: control characters escaped in tables, exact in CSV/JSON. */
const wireText = (format: ReportFormat) => (s: string | undefined) => (format === 'table' ? safeText(s ?? '') : (s ?? ''));

/** With several captures, rows name theirs first: frame numbers are the file's. */
type Filed<T> = T & { file?: string };

function fileColumn<T>(several: boolean): Column<Filed<T>>[] {
  return several ? [{ title: 'file', value: (r) => r.file ?? '' }] : [];
}

/** --split: a pair's network and server times and whether a retransmission was in it. */
const SPLIT_RECORD_COLUMNS: Column<PairRecord & SplitTimes>[] = [
  { title: 'network ms', key: 'network_ms', value: (r) => r.networkMs, table: (r) => r.networkMs?.toFixed(3), align: 'right' },
  { title: 'server ms', key: 'server_ms', value: (r) => r.serverMs, table: (r) => r.serverMs?.toFixed(3), align: 'right' },
  { title: 'retransmitted', value: (r) => r.retransmitted },
];

/** Nearest-rank percentile of values (ms), NaN without any. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** The split table: per kind and group, the network and the server times (ms). */
function splitColumns(format: ReportFormat, by: GroupBy, showKind: boolean): Column<SplitGroup>[] {
  const ms = msCell(format);
  const stat = (title: string, key: string, pick: (g: SplitGroup) => number[], p: number): Column<SplitGroup> => ({ title, key, value: (g) => ms(percentile(pick(g), p)), align: 'right' });
  return [
    ...(showKind ? [{ title: 'kind', value: (g: SplitGroup) => g.kind }] : []),
    { title: by === 'pv' ? 'PV' : by, key: by, value: (g) => (format === 'table' ? safeText(g.group) || '(none)' : g.group) },
    { title: 'pairs', value: (g) => g.network.length, align: 'right' },
    { title: 'retransmitted', value: (g) => g.retransmitted, align: 'right' },
    stat('network 50%', 'network_ms_p50', (g) => g.network, 0.5),
    stat('network 90%', 'network_ms_p90', (g) => g.network, 0.9),
    stat('network max', 'network_ms_max', (g) => g.network, 1),
    stat('server 50%', 'server_ms_p50', (g) => g.server, 0.5),
    stat('server 90%', 'server_ms_p90', (g) => g.server, 0.9),
    stat('server max', 'server_ms_max', (g) => g.server, 1),
  ];
}

/** --split in CSV/JSON statistics: each row's split, as keys of the row. */
function splitStatsColumns(format: ReportFormat, report: Report): Column<StatsRow>[] {
  const groups = new Map((report.split ?? []).map((g) => [`${g.kind}\0${g.group}`, g]));
  const none: SplitGroup = { kind: 'create', group: '', network: [], server: [], retransmitted: 0 };
  return splitColumns(format, 'server', false)
    .slice(1)
    .map((c): Column<StatsRow> => ({ title: `split ${c.title}`, key: c.key ?? `split_${c.title}`, value: (s) => c.value(groups.get(`${s.kind}\0${s.group}`) ?? none), align: c.align }));
}

function recordColumns(format: ReportFormat, several: boolean, split = false): Column<Filed<PairRecord>>[] {
  const text = wireText(format);
  return [
    ...fileColumn<PairRecord>(several),
    { title: 'kind', value: (r) => r.kind },
    { title: 'PV', key: 'pv', value: (r) => text(r.pv) },
    { title: 'client', value: (r) => r.client },
    { title: 'server', value: (r) => r.server },
    { title: 'circuit', value: (r) => r.circuit, align: 'right' },
    { title: 'request time', key: 'request_time', value: (r) => formatTime(r.requestSec, r.requestNsec) },
    { title: 'latency ms', key: 'latency_ms', value: (r) => millis(r.latency), align: 'right' },
    { title: 'request frame', key: 'request_frame', value: (r) => r.requestFrame, align: 'right' },
    { title: 'response frame', key: 'response_frame', value: (r) => r.responseFrame, align: 'right' },
    { title: 'outcome', value: (r) => r.outcome },
    ...(split ? SPLIT_RECORD_COLUMNS : []),
  ];
}

function unansweredColumns(format: ReportFormat, several: boolean): Column<Filed<Unanswered>>[] {
  const text = wireText(format);
  return [
    ...fileColumn<Unanswered>(several),
    { title: 'kind', value: (u) => u.kind },
    { title: 'PV', key: 'pv', value: (u) => text(u.pv) },
    { title: 'client', value: (u) => u.client },
    { title: 'server', value: (u) => u.server ?? '' },
    { title: 'request time', key: 'request_time', value: (u) => formatTime(u.requestSec, u.requestNsec) },
    { title: 'request frame', key: 'request_frame', value: (u) => u.requestFrame, align: 'right' },
    { title: 'reason', value: (u) => u.reason },
  ];
}

function checkOptions(o: LatencyCliOptions): void {
  if (!(o.timeout > 0)) throw new UsageError('--timeout must be longer than 0');
  if (o.csv && o.json) throw new UsageError('choose one of --csv and --json');
  if (o.unanswered && (o.raw || o.slowerThan !== undefined)) throw new UsageError('--unanswered lists requests without replies; it does not combine with --raw or --slower-than');
  if (o.since && o.until && 'at' in o.since && 'at' in o.until && o.since.at >= o.until.at) throw new UsageError('--since must be earlier than --until');
  if (o.plot && !plotFormat(o.plot)) throw new UsageError(`--plot writes .svg or .png files, not '${o.plot}'`);
}

/** What the report prints, from one capture or merged from several (MergedLatency's parts, the file optional). */
interface Report extends Pick<MergedLatency, 'stats' | 'distributions' | 'counts'> {
  /** the pairs listed (--raw, --slower-than), in listing order */
  listed: Filed<PairRecord>[];
  unanswered: Filed<Unanswered>[];
  conflicts: Filed<SearchConflict>[];
  /** several captures: rows name their file */
  several: boolean;
  /** by user: the names the circuits sent (several captures: every file's hosts) */
  names?: ClientNameTable;
  /** --split: network and server times per kind and group */
  split?: SplitGroup[];
}

/** Notes on stderr: replies without their request, then what the dissector skipped. */
function reportNotes(counts: PairCounts, dissection: DissectResult, kinds: readonly PairKind[], label = ''): void {
  const orphans = kinds.filter((k) => counts.orphanResponses[k] > 0).map((k) => `${k} ${counts.orphanResponses[k]}`);
  if (orphans.length) process.stderr.write(`cawire: ${label ? `${label}: ` : ''}replies whose request is not in the capture (or came after --timeout): ${orphans.join(', ')}\n`);
  reportEnd(dissection, label);
}

function conflictLines(report: Report): string[] {
  const n = report.counts.searchConflicts;
  if (n === 0) return [];
  return [
    `${n} ${n === 1 ? 'name was' : 'names were'} answered by more than one server:`,
    ...report.conflicts.map((c) => noteLines(`  ${safeText(c.pv)} (client ${c.client}, ${c.file === undefined ? '' : `${c.file} `}frame ${c.frame}): ${c.servers.join(', ')}`)),
  ];
}

/** What goes to stdout: the listing asked for, or the unanswered line and the statistics. */
function reportTexts(o: LatencyCliOptions, kinds: readonly PairKind[], report: Report): string[] {
  const format: ReportFormat = o.csv ? 'csv' : o.json ? 'json' : 'table';
  if (o.raw || o.slowerThan !== undefined) return [formatReport(format, recordColumns(format, report.several, o.split), report.listed, o.slowerThan === undefined ? 'no pairs found' : `no pairs slower than ${millis(o.slowerThan)} ms found`)];
  if (o.unanswered) return [formatReport(format, unansweredColumns(format, report.several), report.unanswered, 'no unanswered requests found')];
  const columns = statsColumns(format, o.by, kinds.length > 1);
  const split = o.split ? splitStatsColumns(format, report) : [];
  if (format !== 'table') return [formatReport<StatsRow>(format, [...columns, ...NOTE_COLUMNS, ...split], statsRows(report, kinds, o.by))];
  return [
    unansweredLine(kinds, report.unanswered),
    formatTable(columns, report.stats, tableLayout(), 'no pairs found'),
    ...(kinds.includes('search') ? conflictLines(report) : []),
    ...(o.split ? splitTable(report, kinds, o.by) : []),
  ];
}

/** --split in a table: network and server times per group (ms), under the statistics. */
function splitTable(report: Report, kinds: readonly PairKind[], by: GroupBy): string[] {
  const groups = (report.split ?? []).filter((g) => g.network.length > 0).sort((a, b) => kinds.indexOf(a.kind) - kinds.indexOf(b.kind) || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  const head = 'network (capture point to server and back, estimated) and server time, ms; a pair with a retransmission counts all on the network:';
  return [noteLines(head), formatTable(splitColumns('table', by, kinds.length > 1), groups, tableLayout(), 'no TCP pairs to split found')];
}

/** Writes the report to stdout (or `texts`, made of it: --every) and the plot; false when the reader of stdout went away. */
async function writeReport(o: LatencyCliOptions, kinds: readonly PairKind[], report: Report, texts = reportTexts(o, kinds, report)): Promise<boolean> {
  const out = new LineWriter();
  for (const text of texts) if (text) out.line(text);
  if (o.plot) {
    const series = report.distributions.map((d) => ({ name: `${kinds.length > 1 ? `${d.kind} ` : ''}${safeText(d.group) || '(none)'}`, values: d.values }));
    const what = kinds.length > 1 ? 'Latency' : `${KIND_TITLES[kinds[0]!]} latency`;
    await writeLatencyPlot(o.plot, series, { title: `${what} per ${o.by}` });
    if (!o.quiet) process.stderr.write(`cawire: wrote ${o.plot}\n`);
  }
  await out.end();
  return !out.closed;
}

/** The listing order of pairs: by request time, then frame. */
const byRequest = (a: PairRecord, b: PairRecord): number => a.requestTime - b.requestTime || a.requestFrame - b.requestFrame;

/** One capture, in this thread: statistics from the streaming accumulator, or from danfo.js with --danfo. */
async function latencyOfOne(o: LatencyCliOptions, kinds: readonly PairKind[], files: string[], stop: AbortSignal): Promise<void> {
  const listing = o.raw || o.slowerThan !== undefined;
  const bound = o.slowerThan ?? -Infinity;
  const listed: PairRecord[] = [];
  const format: ReportFormat = o.csv ? 'csv' : o.json ? 'json' : 'table';
  const every = o.every === undefined ? undefined : new EveryReport<Report>(o.every, format, (r) => reportTexts(o, kinds, r).filter(Boolean).join('\n'));
  const result = await latency(o.join ? files : inputSource(files[0]), {
    kinds,
    by: o.by,
    timeout: o.timeout,
    since: o.since,
    until: o.until,
    dissect: dissectOptions(o),
    filter: filterSpec(o, false),
    // danfo.js needs the records; without --danfo none are kept (the accumulator has the values).
    statsEngine: o.danfo ? 'danfo' : 'stream',
    split: o.split,
    keepRecords: o.danfo && !listing && !o.unanswered ? DANFO_MAX_ROWS : 0,
    onRecord: listing ? (r) => r.latency > bound && listed.push(r) : undefined,
    stop,
    every: every && {
      seconds: every.seconds,
      snapshot: (part, dissection, at) => {
        const stats = LatencyAccumulator.fromDistributions(part.distributions).stats();
        every.snapshot({ ...part, stats, listed: [...listed].sort(byRequest), several: false }, dissection, at);
      },
      flush: () => every.flush(),
    },
  });
  listed.sort(byRequest);
  useCaptureTimes([result.dissection.capture]);
  const report: Report = { ...result, listed, several: false };
  const texts = every ? [await every.final(report, result.dissection)] : undefined;
  if (!(await writeReport(o, kinds, report, texts)) || o.quiet) return;
  if (result.joined) process.stderr.write(`${joinNote(result.joined)}\n`);
  reportNotes(result.counts, result.dissection, kinds);
}

/**
 * Several captures, each paired on a worker thread (src/parallel): statistics
 * from the streaming accumulator over the union of every file's latencies. A
 * signal (`stop`) ends the files being read; the report covers what was read,
 * and leaves out the files not yet begun.
 */
async function latencyOfSeveral(o: LatencyCliOptions, kinds: readonly PairKind[], files: string[], stop: AbortSignal): Promise<void> {
  const { defaultJobs, pairFiles } = await import('../parallel/pool.js');
  const listing = o.raw || o.slowerThan !== undefined;
  const parts = await pairFiles(
    files,
    {
      kinds: [...kinds],
      by: o.by,
      timeout: o.timeout,
      since: o.since,
      until: o.until,
      dissect: dissectOptions(o),
      filter: filterSpec(o, false),
      split: o.split,
      listSlowerThan: listing ? (o.slowerThan ?? -Infinity) : undefined,
    },
    o.jobs ?? defaultJobs(files.length),
    stop,
  );
  const readFiles = files.filter((_, i) => parts[i] !== undefined);
  const read = parts.filter((p) => p !== undefined);
  if (read.length === 0) throw new CaptureError(`capture cut short by ${String(stop.reason)} before any file could be read: nothing to report`);
  const merged = mergeLatencyParts(readFiles, read);
  useCaptureTimes(read.map((p) => p.dissection.capture));
  const report: Report = { ...merged, listed: merged.records, several: true, names: mergeNames(read.map((p) => p.names)) };
  if (!(await writeReport(o, kinds, report)) || o.quiet) return;
  read.forEach((p, i) => reportNotes(p.counts, p.dissection, kinds, readFiles[i]));
  const unread = files.filter((_, i) => parts[i] === undefined);
  if (unread.length) process.stderr.write(`cawire: capture cut short by ${String(stop.reason)} before ${unread.join(', ')} could be read; the report covers the other files\n`);
  const note = contiguousNote(readFiles, read.map((p) => p.dissection), '; or read them with --join');
  if (note) process.stderr.write(`${note}\n`);
}

export function registerLatency(program: Command): void {
  const cmd = program
    .command('latency')
    .description(DESCRIPTIONS.latency)
    .argument('[files...]', "pcap/pcapng captures, gzip allowed; '-' or none reads stdin; several are paired each on its own and described together")
    .addOption(new Option('--kind <kind>', 'what to pair').choices([...PAIR_KINDS, 'all']).default('create'))
    .addOption(new Option('--by <field>', 'one statistics row per (host: client IP; user: the CA user@host names the client sent)').choices(GROUP_BY).default('server'))
    .option('--raw', 'list the paired records instead of statistics')
    .option('--csv', 'CSV (statistics, or records with --raw/--slower-than, or --unanswered)')
    .option('--json', 'JSON Lines, like --csv')
    .option('--slower-than <duration>', 'list the pairs slower than this (300ms, 250us, 2s; a unit is required) with frame numbers', durationOption({ unitRequired: true }))
    .option('--since <time>', 'only requests sent at or after this capture time: ISO, Unix seconds, or +30s after the first packet', parseTimeBound)
    .option('--until <time>', 'only requests sent before this capture time: ISO, Unix seconds, or +30s after the first packet', parseTimeBound)
    .option('--pv <glob>', 'only messages on PVs matching the glob (* and ?); repeatable, comma-separated', collect)
    .option('--host <addr>', 'only messages from or to this IPv4 address or CIDR block (10.9.0.0/16); repeatable', collect)
    .option('--port <n>', 'only messages from or to this port; repeatable', parsePortList)
    .option('--duration <duration>', 'read this much capture time from the first packet (30s, 5m), then report', durationOption({ positive: true }))
    .option('--timeout <duration>', 'a request unanswered this long (capture time: 60s, 500ms; bare number = s) counts as unanswered', durationOption({ positive: true }), DEFAULT_TIMEOUT_SEC)
    .option('--plot <file>', 'draw the latency distribution per group (CDF) to FILE.svg or FILE.png')
    .option('--unanswered', 'list the requests that got no reply (kind, PV, client, server, reason)')
    .option('--split', 'split each TCP pair into the network round trip to the server and the server\'s own time (network_ms, server_ms, retransmitted; a table per group)')
    .option('--danfo', 'statistics from a danfo.js DataFrame groupby, up to 200,000 pairs (loads danfo.js: about 1 s and 140 MB; the numbers of the default streaming accumulator, a mean or std may differ in its last digit)')
    .option('-q, --quiet', 'no end-of-run notes on stderr')
    .addHelpText('after', `\nThe ${DURATION_HELP}: --slower-than refuses a bare number (it was milliseconds).${REPORT_FILES_HELP}`);
  addEveryOption(addJobsOption(addJoinOption(addInputOptions(addDisplayOptions(cmd))))).action(async (files: string[], o: LatencyCliOptions) => {
    // A first SIGINT/SIGTERM stops the read and the report covers what was read (interrupt.ts).
    await runCommand(program.opts().debug === true, () =>
      stoppedBySignals(async (stop) => {
        checkOptions(o);
        checkFiles(files);
        const kinds = o.kind === 'all' ? PAIR_KINDS : [o.kind];
        if (o.join && files.length < 2) throw new UsageError('--join reads several files as one capture: name at least two');
        if (o.every !== undefined && files.length > 1 && !o.join) throw new UsageError('--every reports on one capture as it is read: a pipe, a file, or rotated files with --join');
        if (o.every !== undefined && o.danfo) throw new UsageError('--every reports from the streaming statistics: it does not combine with --danfo');
        if (files.length > 1 && !o.join) await latencyOfSeveral(o, kinds, files, stop);
        else await latencyOfOne(o, kinds, files, stop);
      }),
    );
  });
}
