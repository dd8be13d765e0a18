// The troubleshooting reports: `cawire searches`, `cawire beacons`,
// `cawire circuits` and `cawire summary`. Each reads the whole capture, then
// prints a table (or --json / --csv rows); rows that point at traffic give frame
// numbers to open in Wireshark.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_SILENCE_SEC, BEACON_COPY_WINDOW_SEC, type BeaconRecord, type BeaconServer } from '../analysis/beacons.js';
import {
  circuitDuration,
  circuitEnding,
  longestStall,
  openChannels,
  resetCircuits,
  retransmissionRate,
  stallText,
  type CircuitSummary,
  type ResetCircuit,
  type TcpDirectionSummary,
} from '../analysis/circuits.js';
import { circuitGroups, type CircuitGroup } from '../analysis/circuit-groups.js';
import { median } from '../analysis/latency-stats.js';
import type { Moment } from '../analysis/moment.js';
import type { ClientGrouping } from '../analysis/client-names.js';
import type { AnalysisName, OptionsOf, PartOf, SearchPart } from '../analysis/registry.js';
import {
  RATE_WINDOW_SEC,
  topCounts,
  type ClientSearches,
  type NameSearches,
  type SearchStorm,
  type ServerAnswer,
  type UnansweredSearch,
} from '../analysis/searches.js';
import { DEFAULT_GAP, DEFAULT_INTERVAL_SEC, type GapRule, type MonitorOptions, type MonitorRow, type MonitorStall } from '../analysis/monitors.js';
import { dbrTypeName } from '../../protocols/ca/dbr.js';
import { plotFormat, timeSeriesSvg, writeSvgPlot } from '../output/plot.js';
import { DNS_SLOW_SEC } from '../analysis/dns.js';
import { DEFAULT_RETRANS_PERCENT, DEFAULT_SLOW_SEC, type CaptureSummary, type Problem } from '../analysis/summary.js';
import { LineWriter } from '../output/sink.js';
import { formatReport, formatTable, noteLines, type Column, type ListItem, type ReportFormat } from '../output/table.js';
import { formatTime } from '../output/times.js';
import type { Instant } from '../dissect/circuits.js';
import { safeText } from '../output/values.js';
import { DESCRIPTIONS } from './commands.js';
import {
  DURATION_HELP,
  REPORT_FILES_HELP,
  addDisplayOptions,
  addEveryOption,
  addFilterOptions,
  addInputOptions,
  addJobsOption,
  addJoinOption,
  dissectOptions,
  durationOption,
  filterSpec,
  runCommand,
  shellWord,
  UsageError,
  type FilterOptionValues,
  type InputOptionValues,
} from './common.js';
import { EveryReport } from './every.js';
import { stoppedBySignals } from './interrupt.js';
import { filedRows, readReport, reportInputEnd, withFileColumn, type InputChoice, type ReportInput } from './report-run.js';

export interface ReportOptions extends InputOptionValues, FilterOptionValues {
  json?: boolean;
  csv?: boolean;
  quiet?: boolean;
  join?: boolean;
  jobs?: number;
  /** --every, seconds */
  every?: number;
}

/** Names listed in one table cell before the rest is counted. */
const LIST_PREVIEW = 3;
/** Frame numbers listed in one table cell before the rest is counted. */
const FRAME_PREVIEW = 10;

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('wants a number above 0.');
  return n;
}

export function positiveInteger(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('wants a whole number above 0.');
  return n;
}

/** A report command: [files...], input options, filters, --join, --jobs, --json, --csv, -q. */
export function reportCommand(program: Command, name: string, description: string, filterMeaning: string): Command {
  const cmd = program
    .command(name)
    .description(description)
    .argument('[files...]', "pcap/pcapng captures, gzip allowed; '-' or none reads stdin; several: each its own capture, or one with --join")
    .addOption(new Option('--json', 'one JSON object per row (JSON Lines)').conflicts('csv'))
    .option('--csv', 'CSV with a header line')
    .option('-q, --quiet', 'no end-of-run note on stderr')
    .addHelpText('after', `\nFilters: ${filterMeaning}\nThe ${DURATION_HELP}.\n${REPORT_FILES_HELP}`);
  return addEveryOption(addJobsOption(addJoinOption(addFilterOptions(addInputOptions(addDisplayOptions(cmd))))));
}

/** The input and filters the command line names. */
export function inputOf(files: string[], o: ReportOptions): InputChoice {
  return { files, join: o.join, jobs: o.jobs, dissect: dissectOptions(o), filter: filterSpec(o) };
}

/** --by for client rows: per socket (default), host, or CA user@host. */
const byOption = (what: string) =>
  new Option('--by <group>', `${what} per client socket (ip:port), client host (ip), or CA user@host the client sent`).choices(['socket', 'host', 'user']).default('socket');

export function formatOf(o: ReportOptions): ReportFormat {
  return o.json ? 'json' : o.csv ? 'csv' : 'table';
}

/** Runs a report: a first SIGINT/SIGTERM stops its read and it reports what was read (interrupt.ts). */
export function runReport(program: Command, body: (stop: AbortSignal) => Promise<void>): Promise<void> {
  return runCommand(program.opts().debug === true, () => stoppedBySignals(body));
}

/**
 * Reads the report's input through the one runner and writes what `render`
 * makes of it; with --every also each interval of capture time (every.ts).
 */
async function reportWith<N extends AnalysisName>(
  program: Command,
  files: string[],
  o: ReportOptions,
  name: N,
  options: OptionsOf<N>,
  render: (input: ReportInput<PartOf<N>>) => string,
): Promise<void> {
  await runReport(program, async (stop) => {
    const { input, text } = await readAndRender(name, options, files, o, stop, render);
    await writeReport(text, input, o);
  });
}

/** The report's input and its text: what `render` makes of it, after the --every snapshots (written as it read). */
export async function readAndRender<N extends AnalysisName>(
  name: N,
  options: OptionsOf<N>,
  files: string[],
  o: ReportOptions,
  stop: AbortSignal,
  render: (input: ReportInput<PartOf<N>>) => string,
  /** the runner's filter, when not the filter options' (monitors applies --pv itself) */
  filter = filterSpec(o),
): Promise<{ input: ReportInput<PartOf<N>>; text: string }> {
  const every = o.every === undefined ? undefined : new EveryReport(o.every, formatOf(o), render);
  const input = await readReport(name, options, { ...inputOf(files, o), filter, every }, stop);
  return { input, text: every && !input.several ? await every.final(input, input.result) : render(input) };
}

/** Writes the report, then the end-of-run notes unless --quiet. */
export async function writeReport<P>(text: string, input: ReportInput<P>, o: ReportOptions): Promise<void> {
  const out = new LineWriter();
  if (text) out.line(text);
  await out.end();
  if (!o.quiet && !out.closed) reportInputEnd(input);
}

/** One capture's rows in `columns`, or several files' rows with the file first. */
export function rowsReport<P, R>(
  format: ReportFormat,
  columns: readonly Column<R>[],
  input: ReportInput<P>,
  rows: (part: P) => readonly R[],
  top = <T>(r: T[]): T[] => r,
  none?: string,
): string {
  if (!input.several) return formatReport(format, columns as Column<R>[], top([...rows(input.part)]), none);
  return formatReport(format, withFileColumn(columns), top(filedRows(input, rows)), none);
}

/** A note under a table (table format only: CSV and JSON stay pure rows and carry the note's facts as row keys). */
function withNotes(format: ReportFormat, table: string, notes: string[]): string {
  return format === 'table' && notes.length ? `${table}\n${notes.map((n) => noteLines(n)).join('\n')}` : table;
}

// ---- values ------------------------------------------------------------------

/** A capture time exact to its precision (a Moment is one too). */
const when = (t: Instant | undefined): string | undefined => (t ? formatTime(t.sec, t.nsec) : undefined);

const round = (x: number | undefined, digits: number): number | undefined => (x === undefined ? undefined : Number(x.toFixed(digits)));
const ms = (seconds: number | undefined): number | undefined => round(seconds === undefined ? undefined : seconds * 1000, 3);

/** The first few items and how many more there are. */
function preview(items: readonly string[], n: number): string {
  return items.length > n ? `${items.slice(0, n).join(' ')} +${items.length - n} more` : items.join(' ');
}

const frames = (moments: readonly Moment[]): number[] => moments.map((m) => m.frame);

const frameList = (moments: readonly Moment[]): string => preview(frames(moments).map(String), FRAME_PREVIEW);


/** Every name, most searched for first (topNames' order): `top_names` and, in the same order, `top_name_counts`. */
function topNameColumns<R>(names: (r: R) => ReadonlyMap<string, number>): Column<R>[] {
  const ranked = (r: R) => topCounts(names(r), names(r).size);
  return [
    // the table: the first LIST_PREVIEW names with their counts (as many as fit)
    { title: 'top names', key: 'top_names', value: (r) => ranked(r).map(([name]) => safeText(name)), table: (r) => ranked(r).map(([name, n]) => `${safeText(name)} x${n}`), preview: LIST_PREVIEW },
    { title: 'top name counts', key: 'top_name_counts', value: (r) => ranked(r).map(([, n]) => n), hideInTable: true },
  ];
}

// ---- searches ----------------------------------------------------------------

const medianMs = (latencies: readonly number[]): number | undefined =>
  latencies.length ? ms(median([...latencies].sort((a, b) => a - b))) : undefined;

const NAME_COLUMNS: Column<NameSearches>[] = [
  { title: 'PV', key: 'pv', value: (r) => safeText(r.name) },
  { title: 'searches', value: (r) => r.searches, align: 'right' },
  { title: 'clients', value: (r) => r.clients.size, align: 'right' },
  { title: 'first seen', key: 'first_seen', value: (r) => when(r.first) },
  { title: 'first frame', key: 'first_frame', value: (r) => r.first.frame, align: 'right' },
  { title: 'last frame', key: 'last_frame', value: (r) => r.last.frame, align: 'right' },
  { title: 'answered by', key: 'answered_by', value: (r) => [...r.servers.keys()] },
  { title: 'replies', value: (r) => [...r.servers.values()].reduce((n, s) => n + s.replies, 0), align: 'right' },
  { title: 'reply ms (median)', key: 'reply_ms', value: (r) => medianMs([...r.servers.values()].flatMap((s) => s.latencies)), align: 'right' },
];

/**
 * The first note under the names table as a key of every row in JSON/CSV: how many
 * clients searched for the name and got no reply (the note counts the names
 * where this is above 0). The second note's names are those with more than one
 * server in `answered_by`.
 */
function unansweredClientsColumn(unanswered: readonly UnansweredSearch[]): Column<NameSearches> {
  const clients = new Map<string, number>();
  for (const u of unanswered) clients.set(u.name, (clients.get(u.name) ?? 0) + 1);
  return { title: 'clients without a reply', key: 'unanswered_clients', value: (r) => clients.get(r.name) ?? 0, align: 'right' };
}

const UNANSWERED_COLUMNS: Column<UnansweredSearch>[] = [
  { title: 'PV', key: 'pv', value: (r) => safeText(r.name) },
  { title: 'client', value: (r) => r.client },
  { title: 'searches', value: (r) => r.searches, align: 'right' },
  { title: 'first seen', key: 'first_seen', value: (r) => when(r.first) },
  { title: 'first frame', key: 'first_frame', value: (r) => r.first.frame, align: 'right' },
  { title: 'last frame', key: 'last_frame', value: (r) => r.last.frame, align: 'right' },
  { title: 'back-off s', key: 'backoff_s', value: (r) => r.intervals.map((s) => round(s, 6)!), table: (r) => r.intervals.map((s) => s.toFixed(3)) },
  { title: 'name answered', key: 'name_answered', value: (r) => r.nameAnswered },
];

interface DuplicateRow {
  name: NameSearches;
  answer: ServerAnswer;
}

const DUPLICATE_COLUMNS: Column<DuplicateRow>[] = [
  { title: 'PV', key: 'pv', value: (r) => safeText(r.name.name) },
  { title: 'server', value: (r) => r.answer.server },
  { title: 'replies', value: (r) => r.answer.replies, align: 'right' },
  { title: 'first reply', key: 'first_reply', value: (r) => when(r.answer.firstReply) },
  { title: 'first reply frame', key: 'first_reply_frame', value: (r) => r.answer.firstReply.frame, align: 'right' },
  { title: 'reply ms (median)', key: 'reply_ms', value: (r) => medianMs(r.answer.latencies), align: 'right' },
];

/** What the filters mean for searches. */
const SEARCH_FILTERS = `--pv: searches for matching names and their replies; --host, --port: searches and replies from or to them;
--since, --until, --duration: searches and replies in that capture time.`;

/** The client columns, the first named for the grouping (--by). */
function clientColumns(by: ClientGrouping): Column<ClientSearches>[] {
  if (by === 'socket') return CLIENT_COLUMNS;
  const title = by === 'host' ? 'client host' : 'client user';
  return [{ title, key: by === 'host' ? 'client_host' : 'client_user', value: (r) => (by === 'user' ? safeText(r.client) : r.client) }, ...CLIENT_COLUMNS.slice(1)];
}

const CLIENT_COLUMNS: Column<ClientSearches>[] = [
  { title: 'client', value: (r) => r.client },
  { title: 'searches', value: (r) => r.searches, align: 'right' },
  { title: 'names', value: (r) => r.names.size, align: 'right' },
  { title: 'first seen', key: 'first_seen', value: (r) => when(r.first) },
  { title: 'first frame', key: 'first_frame', value: (r) => r.first.frame, align: 'right' },
  { title: 'last frame', key: 'last_frame', value: (r) => r.last.frame, align: 'right' },
  { title: 'searches/s', key: 'rate', value: (r) => round(r.rate, 2), align: 'right' },
  { title: `peak in ${RATE_WINDOW_SEC} s`, key: 'peak', value: (r) => r.peak, align: 'right' },
  ...topNameColumns<ClientSearches>((r) => r.names),
];

const STORM_COLUMNS: Column<SearchStorm>[] = [
  { title: 'from', value: (r) => when(r.first) },
  { title: 'first frame', key: 'first_frame', value: (r) => r.first.frame, align: 'right' },
  { title: 'to', value: (r) => when(r.last) },
  { title: 'last frame', key: 'last_frame', value: (r) => r.last.frame, align: 'right' },
  { title: 'searches', value: (r) => r.searches, align: 'right' },
  { title: `peak in ${RATE_WINDOW_SEC} s`, key: 'peak', value: (r) => r.peak, align: 'right' },
  { title: 'clients', value: (r) => r.clients.size, align: 'right' },
  ...topNameColumns<SearchStorm>((r) => r.names),
];

interface SearchOptions extends ReportOptions {
  by?: ClientGrouping;
  top?: number;
  unanswered?: boolean;
  duplicates?: boolean;
  clients?: boolean;
  storm?: number;
}

export function registerSearches(program: Command): void {
  const views = ['unanswered', 'duplicates', 'clients', 'storm'];
  const others = (v: string) => views.filter((o) => o !== v);
  reportCommand(program, 'searches', DESCRIPTIONS.searches, SEARCH_FILTERS)
    .addOption(new Option('--top <n>', 'only the first N rows (most searched names, busiest clients)').argParser(positiveInteger))
    .addOption(new Option('--unanswered', 'names a client searched for and never got a reply for, with its back-off').conflicts(others('unanswered')))
    .addOption(new Option('--duplicates', 'names answered by more than one server (duplicate PVs)').conflicts(others('duplicates')))
    .addOption(new Option('--clients', 'per client: search rate, peak in any 1 s, most searched names').conflicts(others('clients')))
    .addOption(new Option('--storm <rate>', 'periods where any 1 s held more than RATE searches').argParser(positiveNumber).conflicts(others('storm')))
    .addOption(byOption('--clients: one row'))
    .action(async (files: string[], o: SearchOptions) => {
      await reportWith(program, files, o, 'searches', { storm: o.storm, by: o.by }, (input) => {
        const format = formatOf(o);
        const top = <R>(rows: R[]): R[] => (o.top ? rows.slice(0, o.top) : rows);
        const report = <R>(columns: readonly Column<R>[], rows: (p: SearchPart) => readonly R[], none: string) => rowsReport(format, columns, input, rows, top, none);
        let text: string;
        if (o.unanswered) text = report(UNANSWERED_COLUMNS, (p) => p.unanswered, 'no unanswered searches found');
        else if (o.duplicates) text = report(DUPLICATE_COLUMNS, (p) => p.duplicates.flatMap((name) => [...name.servers.values()].map((answer) => ({ name, answer }))), 'no names answered by more than one server found');
        else if (o.clients) text = report(clientColumns(o.by ?? 'socket'), (p) => p.clients, 'no searching clients found');
        else if (o.storm !== undefined) text = report(STORM_COLUMNS, (p) => p.storms!, `no search storms (over ${o.storm} searches in 1 s) found`);
        else if (input.several) text = report(NAME_COLUMNS, (p) => p.names, 'no searches found');
        else {
          const part = input.part;
          const notes: string[] = [];
          const never = new Set(part.unanswered.map((u) => u.name)).size;
          if (never) notes.push(`${never} name(s) searched for without a reply: cawire searches --unanswered`);
          if (part.duplicates.length) notes.push(`${part.duplicates.length} name(s) answered by more than one server: cawire searches --duplicates`);
          const columns = format === 'table' ? NAME_COLUMNS : [...NAME_COLUMNS, unansweredClientsColumn(part.unanswered)];
          text = withNotes(format, formatReport(format, columns, top(part.names), 'no searches found'), notes);
        }
        return text;
      });
    });
}

// ---- beacons -----------------------------------------------------------------

const intervalStat = (pick: (sorted: number[]) => number) => (r: BeaconServer) => (r.intervals.length ? round(pick(r.intervals), 3) : undefined);
const medianPeriod = intervalStat(median);
const shortestPeriod = intervalStat((sorted) => sorted[0]!);
const longestPeriod = intervalStat((sorted) => sorted[sorted.length - 1]!);
const longestSilence = (r: BeaconServer) => (r.silences.length ? round(Math.max(...r.silences.map((s) => s.seconds)), 3) : undefined);
const withFrames = (count: number, where: readonly BeaconRecord[]) => (count ? `${count} (${frameList(where.map((b) => b.at))})` : 0);

const BEACON_COLUMNS: Column<BeaconServer>[] = [
  { title: 'server', value: (r) => r.server },
  { title: 'version', value: (r) => r.version, align: 'right' },
  { title: 'beacons', value: (r) => r.beacons, align: 'right' },
  { title: 'copies merged', key: 'copies', value: (r) => r.copies, align: 'right' },
  { title: 'first seen', key: 'first_seen', value: (r) => when(r.first) },
  { title: 'first frame', key: 'first_frame', value: (r) => r.first.frame, align: 'right' },
  { title: 'last frame', key: 'last_frame', value: (r) => r.last.frame, align: 'right' },
  { title: 'period s (median)', key: 'period_s', value: medianPeriod, align: 'right' },
  { title: 'min s', key: 'min_s', value: shortestPeriod, align: 'right' },
  { title: 'max s', key: 'max_s', value: longestPeriod, align: 'right' },
  { title: 'missed', value: (r) => r.missed, align: 'right' },
  { title: 'gap frames', key: 'gap_frames', value: (r) => frames(r.gaps.map((g) => g.at)) },
  { title: 'restarts', value: (r) => r.restarts.length, align: 'right' },
  { title: 'restart frames', key: 'restart_frames', value: (r) => frames(r.restarts.map((g) => g.at)) },
  { title: 'silences', value: (r) => r.silences.length, align: 'right' },
  { title: 'longest silence s', key: 'longest_silence_s', value: longestSilence, align: 'right' },
  { title: 'silence frames', key: 'silence_frames', value: (r) => r.silences.map((x) => `${x.from.frame}-${x.to?.frame ?? 'end'}`) },
  { title: 'anomalies', value: (r) => r.anomalies.length, align: 'right' },
  { title: 'anomaly frames', key: 'anomaly_frames', value: (r) => frames(r.anomalies.map((a) => a.at)) },
];

/** The same facts, paired up to fit a terminal. */
const BEACON_TABLE_COLUMNS: Column<BeaconServer>[] = [
  { title: 'server', value: (r) => r.server },
  { title: 'version', value: (r) => r.version, align: 'right' },
  { title: 'beacons', value: (r) => r.beacons, align: 'right' },
  { title: 'copies merged', value: (r) => r.copies, align: 'right' },
  { title: 'first seen', value: (r) => when(r.first) },
  { title: 'period s median (min-max)', value: (r) => (r.intervals.length ? `${medianPeriod(r)} (${shortestPeriod(r)}-${longestPeriod(r)})` : undefined) },
  { title: 'missed (at frames)', value: (r) => withFrames(r.missed, r.gaps) },
  { title: 'restarts (at frames)', value: (r) => withFrames(r.restarts.length, r.restarts) },
  { title: 'silences (longest s)', value: (r) => (r.silences.length ? `${r.silences.length} (${longestSilence(r)})` : 0) },
  { title: 'anomalies (at frames)', value: (r) => withFrames(r.anomalies.length, r.anomalies) },
  { title: 'frames', value: (r) => `${r.first.frame}-${r.last.frame}` },
];

const TIMELINE_COLUMNS: Column<BeaconRecord>[] = [
  { title: 'time', value: (r) => when(r.at) },
  { title: 'frame', value: (r) => r.at.frame, align: 'right' },
  { title: 'server', value: (r) => r.server },
  { title: 'id', value: (r) => r.id, align: 'right' },
  { title: 'version', value: (r) => r.version, align: 'right' },
  { title: 'verdict', value: (r) => r.verdict },
  { title: 'period s', key: 'period_s', value: (r) => round(r.period, 6), align: 'right' },
  { title: 'estimate s', key: 'estimate_s', value: (r) => round(r.estimate, 6), align: 'right' },
  { title: 'missing', value: (r) => r.missing },
  { title: 'anomaly', value: (r) => r.anomaly },
  { title: 'missed', value: (r) => r.missed, align: 'right' },
  { title: 'restart', value: (r) => r.restart },
  { title: 'copies', value: (r) => r.copies, align: 'right' },
];

/** casw at interest level 2: '* ' marks an anomaly, server in 40 columns, then the time and what libca made of it. */
export function timelineLine(r: BeaconRecord): string {
  const notes: string[] = [`id=${r.id}`];
  if (r.period !== undefined) notes.push(`period=${r.period.toFixed(6)}`);
  if (r.estimate !== undefined) notes.push(`estimate=${r.estimate.toFixed(6)}`);
  if (r.verdict !== 'accepted') notes.push(r.verdict === 'first' ? 'first' : `discarded (${r.verdict})`);
  if (r.missing) notes.push('missing');
  if (r.missed) notes.push(`missed=${r.missed}`);
  if (r.restart) notes.push('restart');
  if (r.copies) notes.push(`copies=${r.copies}`);
  if (r.anomaly) notes.push('ANOMALY');
  return `${r.anomaly ? '* ' : '  '}${r.server.padEnd(40)} ${when(r.at)} frame ${r.at.frame} ${notes.join(' ')}`;
}

/** What the filters mean for beacons. */
const BEACON_FILTERS = `--host, --port: beacons from or to them (and the capture span from the messages kept);
--pv: beacons name no PV, so only the capture span is bounded by it; --since, --until, --duration: beacons in that capture time.`;

interface BeaconOptions extends ReportOptions {
  timeline?: boolean;
  silence?: number;
}

export function registerBeacons(program: Command): void {
  reportCommand(program, 'beacons', DESCRIPTIONS.beacons, BEACON_FILTERS)
    .option('--timeline', 'one line per beacon, casw style, anomalies marked with *')
    .addOption(
      new Option('--silence <duration>', 'list gaps between beacons longer than this (30s, 2m; bare number = s)')
        .default(DEFAULT_SILENCE_SEC, `${DEFAULT_SILENCE_SEC}s, EPICS_CA_CONN_TMO`)
        .argParser(durationOption({ positive: true })),
    )
    .action(async (files: string[], o: BeaconOptions) => {
      await reportWith(program, files, o, 'beacons', { silence: o.silence }, (input) => {
        const format = formatOf(o);
        let text: string;
        if (input.several) {
          text = o.timeline ? rowsReport(format, TIMELINE_COLUMNS, input, (p) => p.timeline) : rowsReport(format, format === 'table' ? BEACON_TABLE_COLUMNS : BEACON_COLUMNS, input, (p) => p.servers);
        } else if (o.timeline) {
          const report = input.part;
          text = format === 'table' ? report.timeline.map(timelineLine).join('\n') || 'no beacons found' : formatReport(format, TIMELINE_COLUMNS, report.timeline);
        } else {
          const report = input.part;
          // In JSON/CSV each server's `copies` holds its part of this note: they add up to report.copies.
          const notes = report.copies
            ? [`copies merged: ${report.copies} (the same beacon id from the same server on another path within ${BEACON_COPY_WINDOW_SEC} s: relayed by a caRepeater, or sent to several addresses); counted once`]
            : [];
          text = withNotes(format, formatReport(format, format === 'table' ? BEACON_TABLE_COLUMNS : BEACON_COLUMNS, report.servers, 'no beacons found'), notes);
        }
        return text;
      });
    });
}

// ---- circuits ----------------------------------------------------------------

const names = (list: readonly string[]): string[] => list.map(safeText);
const both = (a: number | undefined, b: number | undefined): string => `${a ?? '?'}/${b ?? '?'}`;

/** A count of the TCP analysis, one column per direction: `key_to_server` (segments the client sent), `key_to_client`. */
function perDirection(title: string, key: string, pick: (d: TcpDirectionSummary) => number): Column<CircuitSummary>[] {
  return [
    { title: `${title} to server`, key: `${key}_to_server`, value: (r) => pick(r.tcpToServer), align: 'right' },
    { title: `${title} to client`, key: `${key}_to_client`, value: (r) => pick(r.tcpToClient), align: 'right' },
  ];
}

const CIRCUIT_COLUMNS: Column<CircuitSummary>[] = [
  { title: 'circuit', value: (r) => r.id, align: 'right' },
  { title: 'client', value: (r) => r.client },
  { title: 'server', value: (r) => r.server },
  { title: 'host', value: (r) => (r.hostName === undefined ? undefined : safeText(r.hostName)) },
  { title: 'user', value: (r) => (r.userName === undefined ? undefined : safeText(r.userName)) },
  { title: 'client version', key: 'client_version', value: (r) => r.clientVersion, align: 'right' },
  { title: 'server version', key: 'server_version', value: (r) => r.serverVersion, align: 'right' },
  { title: 'priority', value: (r) => r.priority, align: 'right' },
  { title: 'start', value: (r) => when(r.startAt) },
  { title: 'start frame', key: 'start_frame', value: (r) => r.startFrame, align: 'right' },
  { title: 'end', value: (r) => when(r.endAt) },
  { title: 'end frame', key: 'end_frame', value: (r) => r.endFrame, align: 'right' },
  { title: 'last frame', key: 'last_frame', value: (r) => r.lastMessage?.frame, align: 'right' },
  { title: 'duration s', key: 'duration_s', value: (r) => round(circuitDuration(r), 6), align: 'right' },
  { title: 'handshake ms', key: 'handshake_ms', value: (r) => ms(r.handshakeRtt), align: 'right' },
  { title: 'CA bytes to server', key: 'ca_bytes_to_server', value: (r) => r.caBytesToServer, align: 'right' },
  { title: 'CA bytes to client', key: 'ca_bytes_to_client', value: (r) => r.caBytesToClient, align: 'right' },
  { title: 'TCP bytes to server', key: 'tcp_bytes_to_server', value: (r) => r.wireBytesToServer, align: 'right' },
  { title: 'TCP bytes to client', key: 'tcp_bytes_to_client', value: (r) => r.wireBytesToClient, align: 'right' },
  { title: 'channels created', key: 'channels_created', value: (r) => r.created.length, align: 'right' },
  { title: 'created PVs', key: 'created_pvs', value: (r) => names(r.created) },
  { title: 'channels cleared', key: 'channels_cleared', value: (r) => r.cleared.length, align: 'right' },
  { title: 'cleared PVs', key: 'cleared_pvs', value: (r) => names(r.cleared) },
  { title: 'create failed PVs', key: 'create_failed_pvs', value: (r) => names(r.createFailed) },
  { title: 'server disconnected PVs', key: 'server_disconnected_pvs', value: (r) => names(r.serverDisconnected) },
  { title: 'subscriptions', value: (r) => r.subscriptions, align: 'right' },
  { title: 'cancelled', value: (r) => r.cancelled, align: 'right' },
  { title: 'updates', value: (r) => r.updates, align: 'right' },
  { title: 'events off', key: 'events_off', value: (r) => r.eventsOff, align: 'right' },
  { title: 'events on', key: 'events_on', value: (r) => r.eventsOn, align: 'right' },
  { title: 'echo requests', key: 'echo_requests', value: (r) => r.echoRequests, align: 'right' },
  { title: 'echo responses', key: 'echo_responses', value: (r) => r.echoResponses, align: 'right' },
  { title: 'retransmissions', value: (r) => r.retransmissions, align: 'right' },
  { title: 'capture gaps', key: 'capture_gaps', value: (r) => r.gaps, align: 'right' },
  { title: 'gap bytes', key: 'gap_bytes', value: (r) => r.gapBytes, align: 'right' },
  { title: 'ended', value: circuitEnding },
  ...perDirection('segments', 'segments', (d) => d.segments),
  { title: 'retransmission %', key: 'retransmission_pct', value: (r) => round(100 * retransmissionRate(r), 3), align: 'right' },
  ...perDirection('retransmissions', 'retransmissions', (d) => d.retransmissions),
  ...perDirection('holes filled late', 'holes_filled_late', (d) => d.holesFilledLate),
  ...perDirection('holes', 'holes', (d) => d.holes),
  ...perDirection('capture gaps', 'capture_gaps', (d) => d.gaps),
  ...perDirection('gap bytes', 'gap_bytes', (d) => d.gapBytes),
  ...perDirection('out of order', 'out_of_order', (d) => d.outOfOrder),
  ...perDirection('duplicate ACKs', 'duplicate_acks', (d) => d.duplicateAcks),
  ...perDirection('zero windows', 'zero_windows', (d) => d.zeroWindows),
  ...perDirection('window full', 'window_full', (d) => d.windowFull),
  ...perDirection('zero-window probes', 'zero_window_probes', (d) => d.zeroWindowProbes),
  { title: 'zero-window stalls', key: 'zero_window_stalls', value: (r) => r.stallCount, align: 'right' },
  { title: 'longest stall s', key: 'longest_stall_s', value: (r) => round(longestStall(r)?.seconds, 6), align: 'right' },
  { title: 'stalls', key: 'stall_list', value: (r) => r.stalls.map(stallText) },
];

/** The same facts, paired up to fit a terminal. */
const CIRCUIT_TABLE_COLUMNS: Column<CircuitSummary>[] = [
  { title: '#', value: (r) => r.id, align: 'right' },
  { title: 'client -> server', value: (r) => `${r.client} -> ${r.server}` },
  { title: 'host/user', value: (r) => `${safeText(r.hostName ?? '?')}/${safeText(r.userName ?? '?')}` },
  { title: 'version prio', value: (r) => `${both(r.clientVersion, r.serverVersion)} p${r.priority ?? '?'}` },
  { title: 'start', value: (r) => when(r.startAt) },
  { title: 'duration s', value: (r) => round(circuitDuration(r), 3), align: 'right' },
  { title: 'handshake ms', value: (r) => ms(r.handshakeRtt), align: 'right' },
  { title: 'CA bytes up/down', value: (r) => both(r.caBytesToServer, r.caBytesToClient), align: 'right' },
  { title: 'TCP bytes up/down', value: (r) => both(r.wireBytesToServer, r.wireBytesToClient), align: 'right' },
  { title: 'channels +/-', value: (r) => both(r.created.length, r.cleared.length), align: 'right' },
  { title: 'PVs', value: (r) => names(r.created), preview: LIST_PREVIEW },
  { title: 'subs +/-', value: (r) => both(r.subscriptions, r.cancelled), align: 'right' },
  { title: 'updates', value: (r) => r.updates, align: 'right' },
  { title: 'off/on', value: (r) => both(r.eventsOff, r.eventsOn), align: 'right' },
  { title: 'echo', value: (r) => both(r.echoRequests, r.echoResponses), align: 'right' },
  { title: 'retx/gaps', value: (r) => both(r.retransmissions, r.gaps), align: 'right' },
  { title: 'zero-window stalls', value: (r) => (r.stallCount ? `${r.stallCount} (longest: ${stallText(longestStall(r)!)})` : 0) },
  { title: 'ended', value: circuitEnding },
  { title: 'frames', value: (r) => `${r.startFrame ?? '?'}-${r.endFrame ?? r.lastMessage?.frame ?? '?'}` },
];

export const RESET_COLUMNS: Column<ResetCircuit>[] = [
  { title: 'circuit', value: (r) => r.circuit.id, align: 'right' },
  { title: 'client', value: (r) => r.circuit.client },
  { title: 'server', value: (r) => r.circuit.server },
  { title: 'reset by', key: 'reset_by', value: (r) => r.circuit.rstBy },
  { title: 'at', value: (r) => when(r.circuit.endAt) },
  { title: 'reset frame', key: 'reset_frame', value: (r) => r.circuit.endFrame, align: 'right' },
  { title: 'start frame', key: 'start_frame', value: (r) => r.circuit.startFrame, align: 'right' },
  { title: 'last frame', key: 'last_frame', value: (r) => r.circuit.lastMessage?.frame, align: 'right' },
  { title: 'duration s', key: 'duration_s', value: (r) => round(circuitDuration(r.circuit), 6), align: 'right' },
  { title: 'channels open', key: 'channels_open', value: (r) => openChannels(r.circuit), align: 'right' },
  { title: 'other circuits of the client host open', key: 'others_open', value: (r) => r.othersOpen, align: 'right' },
];

interface CircuitOptions extends ReportOptions {
  endedByRst?: boolean;
  by?: ClientGrouping;
}

/** Circuits totalled per client host or user@host (--by). */
function circuitGroupColumns(by: ClientGrouping): Column<CircuitGroup>[] {
  return [
    { title: by === 'host' ? 'client host' : 'client user', key: by === 'host' ? 'client_host' : 'client_user', value: (r) => safeText(r.group) },
    { title: 'circuits', value: (r) => r.circuits, align: 'right' },
    { title: 'client sockets', key: 'client_sockets', value: (r) => r.clients, preview: LIST_PREVIEW },
    { title: 'servers', value: (r) => r.servers, preview: LIST_PREVIEW },
    { title: 'first start', key: 'first_start', value: (r) => when(r.startAt) },
    { title: 'first frame', key: 'first_frame', value: (r) => r.firstFrame, align: 'right' },
    { title: 'channels created', key: 'channels_created', value: (r) => r.channelsCreated, align: 'right' },
    { title: 'subscriptions', value: (r) => r.subscriptions, align: 'right' },
    { title: 'updates', value: (r) => r.updates, align: 'right' },
    { title: 'CA bytes to server', key: 'ca_bytes_to_server', value: (r) => r.caBytesToServer, align: 'right' },
    { title: 'CA bytes to client', key: 'ca_bytes_to_client', value: (r) => r.caBytesToClient, align: 'right' },
    { title: 'retransmissions', value: (r) => r.retransmissions, align: 'right' },
    { title: 'capture gaps', key: 'capture_gaps', value: (r) => r.gaps, align: 'right' },
    { title: 'ended by RST', key: 'ended_by_rst', value: (r) => r.endedByRst, align: 'right' },
    { title: 'open at end', key: 'open_at_end', value: (r) => r.openAtEnd, align: 'right' },
  ];
}

/** What the filters mean for circuits. */
const CIRCUIT_FILTERS = `--pv: circuits that carried a matching PV (counting only its messages); --host, --port: circuits with that
end; --since, --until, --duration: circuits that carried a message in that capture time (counting those).`;

export function registerCircuits(program: Command): void {
  reportCommand(program, 'circuits', DESCRIPTIONS.circuits, CIRCUIT_FILTERS)
    .addOption(new Option('--ended-by-rst', 'only circuits cut by a reset, with the other circuits of the client host open at that moment').conflicts('by'))
    .addOption(byOption('one row of totals'))
    .action(async (files: string[], o: CircuitOptions) => {
      await reportWith(program, files, o, 'circuits', {}, (input) => {
        const format = formatOf(o);
        const by = o.by ?? 'socket';
        const text = o.endedByRst
          ? rowsReport(format, RESET_COLUMNS, input, resetCircuits, undefined, 'no circuits cut by a reset found')
          : by !== 'socket'
            ? rowsReport(format, circuitGroupColumns(by), input, (circuits) => circuitGroups(circuits, by), undefined, 'no circuits found')
            : rowsReport(format, format === 'table' ? CIRCUIT_TABLE_COLUMNS : CIRCUIT_COLUMNS, input, (circuits) => circuits, undefined, 'no circuits found');
        return text;
      });
    });
}

// ---- summary -----------------------------------------------------------------

interface SummaryRow {
  section: 'capture' | 'messages' | 'problems';
  item: string;
  value: string | number;
  detail?: string;
  command?: string;
  /** the whole list `detail` previews (the servers) */
  items?: readonly ListItem[];
  /** every frame a problem's cases name (the detail names the first few cases) */
  frames?: number[];
}

function summaryRows(s: CaptureSummary, file: string | undefined): SummaryRow[] {
  const span = s.first && s.last ? `${when(s.first)} - ${when(s.last)}` : 'no CA traffic';
  const seconds = s.first && s.last ? `${(s.last.time - s.first.time).toFixed(3)} s` : undefined;
  const rows: SummaryRow[] = [
    { section: 'capture', item: 'CA traffic', value: span, detail: seconds },
    { section: 'capture', item: 'packets', value: s.packets },
    { section: 'capture', item: 'CA messages', value: s.caMessages },
    { section: 'capture', item: 'servers', value: s.servers.length, detail: preview(s.servers, LIST_PREVIEW), items: s.servers },
    { section: 'capture', item: 'client hosts', value: s.clientHosts },
    { section: 'capture', item: 'PV names', value: s.pvs, command: 'cawire searches' },
    { section: 'capture', item: 'circuits', value: s.circuits, command: 'cawire circuits' },
    ...(s.dns?.queries ? [dnsRow(s.dns)] : []),
    ...s.commands.map(([type, n]): SummaryRow => ({ section: 'messages', item: type, value: n })),
    ...s.problems.map((p: Problem): SummaryRow => ({ section: 'problems', item: p.problem, value: p.count, detail: p.detail, command: p.command, frames: p.frames })),
  ];
  const target = file && file !== '-' ? ` ${shellWord(file)}` : '';
  for (const r of rows) if (r.command) r.command += target;
  return rows;
}

/** The DNS line (when there were any): queries the CA client hosts sent, how many went unanswered or were answered after DNS_SLOW_SEC. */
function dnsRow(d: NonNullable<CaptureSummary['dns']>): SummaryRow {
  const where = d.frames.length ? ` (frames ${d.frames.join(' ')}${d.unanswered + d.slow > d.frames.length ? ' ...' : ''})` : '';
  return { section: 'capture', item: 'DNS queries', value: d.queries, detail: `by the CA client hosts: ${d.unanswered} unanswered, ${d.slow} answered after ${DNS_SLOW_SEC} s${where}`, frames: d.frames };
}

const SUMMARY_COLUMNS: Column<SummaryRow>[] = [
  { title: 'section', value: (r) => r.section },
  { title: 'item', value: (r) => r.item },
  { title: 'value', value: (r) => r.value },
  { title: 'detail', value: (r) => r.detail },
  { title: 'command', value: (r) => r.command },
  { title: 'items', value: (r) => r.items },
  { title: 'frames', value: (r) => r.frames },
];

const OVERVIEW_COLUMNS: Column<SummaryRow>[] = [
  { title: 'capture', value: (r) => r.item },
  { title: '', value: (r) => r.value, align: 'right' },
  { title: 'detail', value: (r) => r.detail },
];

const PROBLEM_COLUMNS: Column<SummaryRow>[] = [
  { title: 'problem', value: (r) => r.item },
  { title: 'found', value: (r) => r.value, align: 'right' },
  { title: 'where', value: (r) => r.detail },
];

/** One screen: the capture, messages by command on a few lines, the problems and the commands that show them. */
function summaryScreen(rows: SummaryRow[]): string {
  const messages = rows.filter((r) => r.section === 'messages').map((r) => `${r.item} ${r.value}`);
  const lines: string[] = [];
  for (let i = 0; i < messages.length; i += 4) lines.push(messages.slice(i, i + 4).join(', '));
  const overview = [
    ...rows.filter((r) => r.section === 'capture'),
    { section: 'messages', item: 'by command', value: '', detail: lines.join('\n') } satisfies SummaryRow,
  ];
  const problems = rows.filter((r) => r.section === 'problems');
  const commands = [...new Set(problems.filter((p) => Number(p.value) > 0).map((p) => `  ${p.command}`))];
  return [
    formatTable(OVERVIEW_COLUMNS, overview),
    formatTable(PROBLEM_COLUMNS, problems),
    ...(commands.length ? ['details:', ...commands] : []),
  ].join('\n');
}

/** What the filters mean for the summary. */
const SUMMARY_FILTERS = `each report in it counts the messages kept: --pv matching PVs, --host/--port from or to them,
--since/--until/--duration in that capture time (circuits: those that carried a message kept).`;

interface SummaryCliOptions extends ReportOptions {
  slow?: number;
  retransRate?: number;
}

function percentage(v: string): number {
  const n = Number(v.endsWith('%') ? v.slice(0, -1) : v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('wants a percentage from 0 to 100.');
  return n;
}

export function registerSummary(program: Command): void {
  reportCommand(program, 'summary', DESCRIPTIONS.summary, SUMMARY_FILTERS)
    .addOption(
      new Option('--slow <duration>', 'list responses slower than this (2s, 300ms; bare number = s)')
        .default(DEFAULT_SLOW_SEC, `${DEFAULT_SLOW_SEC}s, the default wait of caget and caput`)
        .argParser(durationOption({ positive: true })),
    )
    .addOption(
      new Option('--retrans-rate <percent>', 'list circuits whose retransmissions are more than this share of their segments')
        .default(DEFAULT_RETRANS_PERCENT, `${DEFAULT_RETRANS_PERCENT}`)
        .argParser(percentage),
    )
    .action(async (files: string[], o: SummaryCliOptions) => {
      await reportWith(program, files, o, 'summary', { slowSec: o.slow, retransPercent: o.retransRate }, (input) => {
        const format = formatOf(o);
        let text: string;
        if (!input.several) {
          const rows = summaryRows(input.part, files.length === 1 ? files[0] : undefined);
          text = format === 'table' ? summaryScreen(rows) : formatReport(format, SUMMARY_COLUMNS, rows);
        } else if (format === 'table') {
          text = input.files.map((file, i) => `${file}:\n${summaryScreen(summaryRows(input.parts[i]!, file))}`).join('\n\n');
        } else text = formatReport(format, withFileColumn(SUMMARY_COLUMNS), input.files.flatMap((file, i) => summaryRows(input.parts[i]!, file).map((r) => ({ ...r, file }))));
        return text;
      });
    });
}

// ---- monitors ----------------------------------------------------------------

/** What the filters mean for monitors. */
const MONITOR_FILTERS = `--pv: subscriptions of matching PVs; --host, --port: subscriptions on circuits with that end;
--since, --until, --duration: the updates in that capture time.`;

interface MonitorCliOptions extends ReportOptions {
  by?: 'subscription' | 'pv';
  interval?: number;
  gap?: GapRule;
  lag?: boolean;
  sequence?: boolean;
  sequenceStep?: number;
  top?: number;
  storm?: number;
  plot?: string;
  stalls?: boolean;
}

/** --gap 5x (times the usual interval) or a duration (2s, 300ms). */
function gapRule(v: string): GapRule {
  const m = /^\s*(\d+(?:\.\d+)?)\s*x\s*$/i.exec(v);
  if (m) {
    const factor = Number(m[1]);
    if (!(factor > 1)) throw new InvalidArgumentError('wants a factor above 1 (5x) or a duration (2s).');
    return { factor };
  }
  return { seconds: durationOption({ positive: true })(v) };
}

function nonZeroNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n === 0) throw new InvalidArgumentError('wants a number other than 0.');
  return n;
}

const seconds6 = (s: number | undefined): number | undefined => round(s, 6);
/** A time the report computed (an interval's start: the first packet plus whole intervals), to the microsecond. */
const boundaryTime = (t: number): string => {
  const sec = Math.floor(t);
  return formatTime(sec, Math.min(999_999_000, Math.round((t - sec) * 1e6) * 1000));
};
const hz = (x: number): number => Number(x.toFixed(3));
const range = ([a, b]: [number, number]): string => (a === b ? String(a) : `${a}-${b}`);
const stallLine = (s: MonitorStall): string => `${s.startFrame}-${s.endFrame} ${s.durationS.toFixed(3)} s ${s.cause}`;
const longestStallOf = (r: MonitorRow): MonitorStall | undefined => r.stalls.reduce<MonitorStall | undefined>((a, s) => (a && a.durationS >= s.durationS ? a : s), undefined);
const dbrType = (r: MonitorRow): string => (r.dataType < 0 ? 'mixed' : dbrTypeName(r.dataType));

/** Every fact of a row, for JSON and CSV (JSON keeps stalls as objects and ranges as pairs). */
function monitorColumns(format: ReportFormat, o: MonitorCliOptions): Column<MonitorRow>[] {
  const json = format === 'json';
  const columns: Column<MonitorRow>[] = [
    { title: 'pv', value: (r) => safeText(r.pv) },
    { title: 'subscription_id', value: (r) => r.subscriptionId },
    { title: 'subscriptions', value: (r) => r.subscriptions },
    { title: 'circuit', value: (r) => (r.circuit < 0 ? undefined : r.circuit) },
    { title: 'client', value: (r) => r.client },
    { title: 'server', value: (r) => r.server },
    { title: 'dbr_type', value: dbrType },
    { title: 'count', value: (r) => (r.dataCount < 0 ? undefined : r.dataCount) },
    { title: 'mask', value: (r) => r.mask },
    { title: 'cancelled', value: (r) => r.cancelled },
    { title: 'updates', value: (r) => r.updates },
    { title: 'first_seen', value: (r) => when(r.first) },
    { title: 'last_seen', value: (r) => when(r.last) },
    { title: 'first_frame', value: (r) => r.first.frame },
    { title: 'last_frame', value: (r) => r.last.frame },
    { title: 'rate_hz', value: (r) => hz(r.rateHz) },
    { title: 'interval_rate_min_hz', value: (r) => hz(r.intervalRate.min) },
    { title: 'interval_rate_median_hz', value: (r) => hz(r.intervalRate.median) },
    { title: 'interval_rate_max_hz', value: (r) => hz(r.intervalRate.max) },
    { title: 'bytes', value: (r) => r.bytes },
    { title: 'bytes_per_s', value: (r) => round(r.bytesPerSec, 1) },
    { title: 'interval_min_s', value: (r) => seconds6(r.interArrival?.min) },
    { title: 'interval_median_s', value: (r) => seconds6(r.interArrival?.median) },
    { title: 'interval_p99_s', value: (r) => seconds6(r.interArrival?.p99) },
    { title: 'longest_gap_s', value: (r) => seconds6(r.longestGapS) },
    { title: 'longest_gap_frames', value: (r) => r.longestGapFrames ?? [] },
    { title: 'stall_threshold_s', value: (r) => seconds6(r.stallThresholdS) },
    { title: 'stall_count', value: (r) => r.stallCount },
    {
      title: 'stalls',
      value: (r) =>
        json
          ? (r.stalls.map((s) => ({ start_frame: s.startFrame, end_frame: s.endFrame, start: formatTime(s.startSec, s.startNsec), duration_s: seconds6(s.durationS), cause: s.cause })) as unknown as ListItem[])
          : r.stalls.map(stallLine),
    },
  ];
  if (o.lag) {
    columns.push(
      { title: 'lag_offset_s', value: (r) => seconds6(r.lag?.offsetS) },
      { title: 'lag_median_s', value: (r) => seconds6(r.lag?.medianS) },
      { title: 'lag_p99_s', value: (r) => seconds6(r.lag?.p99S) },
      { title: 'lag_max_s', value: (r) => seconds6(r.lag?.maxS) },
    );
  }
  if (o.sequence) {
    columns.push(
      { title: 'missing', value: (r) => (json ? ((r.sequence?.missing ?? []) as unknown as ListItem[]) : (r.sequence?.missing ?? []).map(range)) },
      { title: 'missing_values', value: (r) => r.sequence?.missingValues },
      { title: 'repeats', value: (r) => r.sequence?.repeats },
      { title: 'repeat_frames', value: (r) => r.sequence?.repeatFrames ?? [] },
      { title: 'steps_back', value: (r) => r.sequence?.stepsBack },
      { title: 'step_back_frames', value: (r) => r.sequence?.stepBackFrames ?? [] },
      { title: 'wraps', value: (r) => r.sequence?.wraps },
      { title: 'off_step', value: (r) => r.sequence?.offStep },
      { title: 'not_numbers', value: (r) => r.sequence?.skipped },
    );
  }
  if (o.interval !== undefined) {
    columns.push(
      { title: 'interval_s', value: (r) => r.series?.interval },
      { title: 'interval_start', value: (r) => (r.series ? boundaryTime(r.series.start) : undefined) },
      { title: 'rates_hz', value: (r) => (r.series ? r.series.counts.map((n) => hz(n / r.series!.interval)) : []) },
    );
  }
  return columns;
}

const both3 = (a: number | undefined, b: number | undefined, c: number | undefined, digits: number) =>
  a === undefined ? undefined : `${a.toFixed(digits)}/${b!.toFixed(digits)}/${c!.toFixed(digits)}`;

/** The facts of a row, grouped to fit a terminal. */
function monitorTableColumns(o: MonitorCliOptions): Column<MonitorRow>[] {
  const columns: Column<MonitorRow>[] = [
    { title: '#', value: (r) => (r.circuit < 0 ? undefined : r.circuit), align: 'right' },
    { title: 'client -> server', value: (r) => `${r.client} -> ${r.server}` },
    { title: 'PV', value: (r) => safeText(r.pv) },
    { title: o.by === 'pv' ? 'subs' : 'sub', value: (r) => (o.by === 'pv' ? r.subscriptions : r.subscriptionId), align: 'right' },
    { title: 'type', value: (r) => `${dbrType(r).replace(/^DBR_/, '')}${r.dataCount > 1 ? `[${r.dataCount}]` : ''}` },
    { title: 'updates', value: (r) => r.updates, align: 'right' },
    { title: 'rate Hz', value: (r) => hz(r.rateHz), align: 'right' },
    { title: `per ${o.interval ?? DEFAULT_INTERVAL_SEC} s min/med/max Hz`, value: (r) => both3(r.intervalRate.min, r.intervalRate.median, r.intervalRate.max, 1), align: 'right' },
    { title: 'interval ms min/med/p99', value: (r) => both3(ms(r.interArrival?.min), ms(r.interArrival?.median), ms(r.interArrival?.p99), 1), align: 'right' },
    { title: 'longest gap s (frames)', value: (r) => (r.longestGapS === undefined ? undefined : `${r.longestGapS.toFixed(3)} (${r.longestGapFrames!.join('-')})`) },
    { title: 'stalls (longest: cause)', value: (r) => (r.stallCount ? `${r.stallCount} (${longestStallOf(r)!.cause})` : 0) },
    { title: 'B/s', value: (r) => Math.round(r.bytesPerSec), align: 'right' },
  ];
  if (o.sequence) {
    columns.push(
      { title: 'missing values', value: (r) => (r.sequence ? (r.sequence.missing.map(range) as ListItem[]) : []), preview: LIST_PREVIEW },
      { title: 'repeats/back/wraps', value: (r) => (r.sequence ? `${r.sequence.repeats}/${r.sequence.stepsBack}/${r.sequence.wraps}` : undefined), align: 'right' },
    );
  }
  if (o.lag) columns.push({ title: 'lag ms med/p99/max', value: (r) => (r.lag ? both3(ms(r.lag.medianS), ms(r.lag.p99S), ms(r.lag.maxS), 1) : undefined), align: 'right' });
  return columns;
}

interface StallRow extends MonitorStall {
  row: MonitorRow;
}

const STALL_COLUMNS: Column<StallRow>[] = [
  { title: 'PV', key: 'pv', value: (r) => safeText(r.row.pv) },
  { title: 'subscription', key: 'subscription_id', value: (r) => r.row.subscriptionId, align: 'right' },
  { title: 'circuit', value: (r) => (r.row.circuit < 0 ? undefined : r.row.circuit), align: 'right' },
  { title: 'from', key: 'start', value: (r) => formatTime(r.startSec, r.startNsec) },
  { title: 'start frame', key: 'start_frame', value: (r) => r.startFrame, align: 'right' },
  { title: 'end frame', key: 'end_frame', value: (r) => r.endFrame, align: 'right' },
  { title: 'duration s', key: 'duration_s', value: (r) => seconds6(r.durationS), align: 'right' },
  { title: 'cause', value: (r) => r.cause },
];

/** The note on lag and stalls under the table. */
function monitorNotes(rows: readonly MonitorRow[], o: MonitorCliOptions): string[] {
  const notes: string[] = [];
  const gap = o.gap ?? DEFAULT_GAP;
  notes.push(
    `stalls: gaps longer than ${'factor' in gap ? `${gap.factor}x the subscription's usual interval (the upper quartile of its intervals)` : `${gap.seconds} s`}; ` +
      'cause: the client\'s zero window, EVENTS_OFF, a capture gap, the server silent on every subscription of the circuit, or none seen (cawire monitors --stalls lists them)',
  );
  if (rows.some((r) => r.lag)) {
    const offsets = [...new Map(rows.filter((r) => r.lag).map((r) => [r.server.slice(0, r.server.lastIndexOf(':')), r.lag!.offsetS])).entries()];
    notes.push(
      `lag: capture time minus the IOC's time stamp (DBR_TIME_*), less the smallest of each server (its clock against the capture host's, plus the least delay): ` +
        offsets.map(([host, off]) => `${host} ${(off * 1000).toFixed(3)} ms`).join(', '),
    );
  }
  return notes;
}

/** --plot: each row's updates per second per interval, a step line from its first update, its stalls shaded. */
function ratePlotSvg(rows: readonly MonitorRow[], o: MonitorCliOptions, interval: number): string {
  const drawn = rows.filter((r) => r.series?.counts.length);
  const t0 = Math.min(...drawn.map((r) => r.series!.start));
  const series = drawn.map((r) => {
    const { start, counts } = r.series!;
    const points: [number, number][] = counts.map((n, k) => [start + k * interval - t0, n / interval]);
    points.push([start + counts.length * interval - t0, counts.at(-1)! / interval]);
    return { name: o.by === 'pv' ? r.pv : `${r.pv} #${r.subscriptionId} (circuit ${r.circuit})`, points };
  });
  const spans = drawn.flatMap((r) => r.stalls.map((s) => ({ from: s.start - t0, to: s.start + s.durationS - t0, label: `${r.pv}: ${stallLine(s)}` })));
  return timeSeriesSvg(series, { title: `updates per ${interval} s`, xTitle: 'seconds after the first update', yTitle: 'updates per second', spans });
}

export function registerMonitors(program: Command): void {
  const views = ['top', 'storm', 'stalls'];
  const others = (v: string) => views.filter((x) => x !== v);
  reportCommand(program, 'monitors', DESCRIPTIONS.monitors, MONITOR_FILTERS)
    .addOption(new Option('--by <group>', 'one row per subscription, or per PV (its subscriptions added up)').choices(['subscription', 'pv']).default('subscription'))
    .addOption(new Option('--interval <duration>', `rate per interval (default ${DEFAULT_INTERVAL_SEC}s): min/median/max in the table, every interval in JSON/CSV (rates_hz)`).argParser(durationOption({ positive: true })))
    .addOption(new Option('--gap <rule>', 'a stall is a gap longer than this: Nx the usual interval, or a duration (2s)').default(DEFAULT_GAP, '5x').argParser(gapRule))
    .option('--sequence', 'the value of a numeric scalar is a counter: missing ranges, repeats, steps back, wrap-arounds')
    .option('--lag', "the lag of DBR_TIME_* updates behind the IOC's time stamps: median/p99/max beyond each server's least (its clock offset)")
    .addOption(new Option('--sequence-step <n>', 'the counter steps by N (default 1); implies --sequence').argParser(nonZeroNumber))
    .addOption(new Option('--top <n>', 'the N PVs with the most updates, then the N with the most bytes').argParser(positiveInteger).conflicts(others('top')))
    .addOption(new Option('--storm <rate>', 'only subscriptions whose rate in some interval went above RATE updates/s').argParser(positiveNumber).conflicts(others('storm')))
    .addOption(new Option('--stalls', 'one row per stall, with its cause').conflicts(others('stalls')))
    .option('--plot <file>', 'draw updates per interval over time (FILE.svg or FILE.png), stalls marked; choose PVs with --pv')
    .action(async (files: string[], o: MonitorCliOptions) => {
      await runReport(program, async (stop) => {
        if (o.plot && !plotFormat(o.plot)) throw new UsageError(`--plot writes .svg or .png files, not '${o.plot}'`);
        if (o.sequenceStep !== undefined) o.sequence = true;
        if (o.top) o.by = 'pv';
        const options: MonitorOptions = {
          gap: o.gap,
          sequence: o.sequence,
          sequenceStep: o.sequenceStep,
          lag: o.lag,
          interval: o.interval,
          series: o.interval !== undefined || o.plot !== undefined,
          by: o.by,
        };
        const format = formatOf(o);
        const rowsOf = (p: MonitorRow[]): MonitorRow[] => (o.storm === undefined ? p : p.filter((r) => r.intervalRate.max > o.storm! || (r.series?.counts.some((n) => n / r.series!.interval > o.storm!) ?? false)));
        const columns = format === 'table' ? monitorTableColumns(o) : monitorColumns(format, o);
        const render = (input: ReportInput<MonitorRow[]>): string => {
          if (o.stalls) return rowsReport(format, STALL_COLUMNS, input, (p) => p.flatMap((row) => row.stalls.map((s) => ({ ...s, row }))), undefined, 'no stalls found');
          if (o.top) {
            const n = o.top;
            const ranked = (p: MonitorRow[], by: 'updates' | 'bytes') =>
              [...p].sort((a, b) => b[by] - a[by]).slice(0, n).map((r) => ({ ...r, rankedBy: by }));
            const rankColumn: Column<MonitorRow & { rankedBy: string }> = { title: 'ranked by', key: 'ranked_by', value: (r) => r.rankedBy };
            const topColumns = [rankColumn, ...(columns as Column<MonitorRow & { rankedBy: string }>[])];
            if (format === 'table' && !input.several) {
              return [`top ${n} PVs by updates:`, formatTable(columns, ranked(input.part, 'updates')), `top ${n} PVs by bytes:`, formatTable(columns, ranked(input.part, 'bytes'))].join('\n');
            }
            return rowsReport(format, topColumns, input, (p) => [...ranked(p, 'updates'), ...ranked(p, 'bytes')], undefined, 'no monitor updates found');
          }
          const none = o.storm === undefined ? 'no monitor updates found' : `no subscriptions above ${o.storm} updates/s found`;
          const text = rowsReport(format, columns, input, rowsOf, undefined, none);
          return input.several ? text : withNotes(format, text, input.part.length ? monitorNotes(input.part, o) : []);
        };
        // --pv is the analysis's own: a stall's causes lie in messages of no PV and in the circuit's other subscriptions
        const { input, text } = await readAndRender('monitors', { ...options, pv: o.pv }, files, o, stop, render, { ...filterSpec(o), pv: undefined });
        if (o.plot) {
          await writeSvgPlot(o.plot, ratePlotSvg(input.several ? input.parts.flat() : input.part, o, options.interval ?? DEFAULT_INTERVAL_SEC));
          if (!o.quiet) process.stderr.write(`cawire: wrote ${o.plot}\n`);
        }
        await writeReport(text, input, o);
      });
    });
}
