// What every cawire command shares: input, CA port options, exit statuses, end-of-run notes.

import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CaptureSource } from '../capture/source.js';
import type { EventFilterSpec, TimeBound } from '../dissect/filter.js';
import type { DissectOptions } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';
import { skippedSummary } from '../dissect/stats.js';
import { setWideTables } from '../output/table.js';
import { setLocalTimes } from '../output/times.js';
import { parseDuration, parseSize, parseTimeBound, type DurationRules } from './units.js';

/** Exit statuses: 0 done, 1 internal error, 2 unusable input or arguments. */
export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override name = 'UsageError';
}

export const ISSUES_URL = 'the cawire issue tracker';

export function parsePort(v: string): number {
  const n = Number(v);
  // Thrown inside commander's option parsing: its own error type makes a one-line usage error (exit 2).
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`not a port number: '${v}'`);
  return n;
}

/** What --help says of every duration option. */
export const DURATION_HELP = 'durations take a unit (300ms, 2s, 1m); a bare number is seconds where accepted';

/** A duration option's parser: units.ts parseDuration, above 0 when `positive`. */
export function durationOption(rules: DurationRules & { positive?: boolean } = {}): (v: string) => number {
  return (v) => {
    const sec = parseDuration(v, rules);
    if (rules.positive && !(sec > 0)) throw new InvalidArgumentError('wants a duration above 0');
    return sec;
  };
}

export function parsePortList(v: string, prev: number[] = []): number[] {
  return [...prev, ...v.split(',').filter(Boolean).map(parsePort)];
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').filter(Boolean)];
}

/** Options that say which traffic is CA, shared by every command that reads a capture. */
export function addInputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--ports <list>', 'more CA ports to decode (TCP and UDP), comma-separated; a listed repeater port is known by its traffic').argParser(parsePortList))
    .addOption(new Option('--no-learn-ports', 'do not learn server TCP ports from search replies and beacons'))
    .addOption(
      new Option('--max-message <size>', 'largest CA message reassembled (64MiB, 1MB, 65536); larger ones are skipped and counted').argParser((v) => {
        const n = parseSize(v);
        if (n < 1024) throw new InvalidArgumentError(`wants a size of 1KiB (1024 bytes) or more, not '${v}'`);
        return n;
      }),
    );
}

export interface InputOptionValues {
  ports?: number[];
  learnPorts?: boolean;
  maxMessage?: number;
}

/** The dissection options of the command line; a report that reads the TCP analysis turns it on in its selection(). */
export function dissectOptions(o: InputOptionValues): DissectOptions {
  return { ports: o.ports, learnPorts: o.learnPorts, maxMessageBytes: o.maxMessage, tcpAnalysis: false };
}

/** How a report's text looks: --wide tables, --local times; set for the run before its action. */
export function addDisplayOptions(cmd: Command): Command {
  return cmd
    .option('--wide', 'tables as wide as their widest cell, lists whole (default: fit the terminal, COLUMNS or 120 when piped)')
    .option('--local', "times in the local zone with its offset (default: UTC, 'Z'), in every format")
    .hook('preAction', (_program, action) => {
      setWideTables(action.opts().wide === true);
      setLocalTimes(action.opts().local === true);
    });
}

/** The captures named on the command line: none or '-' is stdin; '-' does not combine with files. */
export function checkFiles(files: readonly string[]): void {
  if (files.length > 1 && files.includes('-')) throw new UsageError("'-' (stdin) reads one capture: it does not combine with other files");
}

/** The filters every report shares (README: what each means per report). */
export interface FilterOptionValues {
  pv?: string[];
  host?: string[];
  port?: number[];
  since?: TimeBound;
  until?: TimeBound;
  /** seconds */
  duration?: number;
}

/** --pv, --host, --port, --since, --until, --duration; `window` describes what --since/--until bound. */
export function addFilterOptions(cmd: Command, window = 'only messages'): Command {
  return cmd
    .option('--pv <glob>', 'only messages on PVs matching the glob (* and ?); repeatable, comma-separated', collect)
    .option('--host <addr>', 'only messages from or to this IPv4 address or CIDR block (10.9.0.0/16); repeatable', collect)
    .option('--port <n>', 'only messages from or to this port; repeatable', parsePortList)
    .option('--since <time>', `${window} at or after this capture time: ISO, Unix seconds, or +30s after the first packet`, parseTimeBound)
    .option('--until <time>', `${window} before this capture time: ISO, Unix seconds, or +30s after the first packet`, parseTimeBound)
    .option('--duration <duration>', 'read this much capture time from the first packet (30s, 5m), then report', durationOption({ positive: true }));
}

/** The filter options as a spec (with --since/--until unless `withTimes` is false: latency bounds its requests instead). */
export function filterSpec(o: FilterOptionValues, withTimes = true): EventFilterSpec {
  const spec: EventFilterSpec = { pv: o.pv, host: o.host, port: o.port, duration: o.duration };
  if (withTimes) Object.assign(spec, { since: o.since, until: o.until });
  return spec;
}

/** --every: the report again each interval of capture time while the capture is read (a live pipe). */
export function addEveryOption(cmd: Command): Command {
  return cmd.option(
    '--every <duration>',
    'print the report again each interval of capture time while the capture is read (10s, 1m; bare number = s; for a live pipe), then at its end; CSV/JSON rows begin with report_at',
    durationOption({ positive: true }),
  );
}

/** --join: several files are pieces of one capture. */
export function addJoinOption(cmd: Command): Command {
  return cmd.option(
    '--join',
    'read several files as one capture (rotated with tcpdump -C/-G/-W), in the order of their first packet: circuits, channels and requests are followed across them, frames numbered on as mergecap -a would',
  );
}

/** What --help says about several files. */
export const SEVERAL_FILES_HELP = `
Several files are read in parallel on worker threads (--jobs), each as its own capture, and their
lines merged by capture time: a circuit, channel or request that spans two files (tcpdump -C/-G
rotation) is not joined across them. With --join they are read as one capture instead: rotated files
in the order of their first packet, circuits followed across them, frames numbered on as mergecap -a
numbers them.`;

/** What a report's --help says about several files. */
export const REPORT_FILES_HELP = `
Several files are read in parallel on worker threads (--jobs), each as its own capture; rows name
their file. With --join they are read as one capture instead: rotated files (tcpdump -C/-G/-W) in
the order of their first packet, circuits, channels and requests followed across them, frames
numbered on as mergecap -a numbers them; a time gap or overlap between files is noted.`;

/** --jobs N: worker threads for several files. */
export function addJobsOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--jobs <n>', 'with several files, read at most N at once, each on a worker thread (default: one per file, up to the CPU count)').argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`wants a whole number >= 1, not '${v}'`);
      return n;
    }),
  );
}

/** Files that follow one another within this many seconds look like one capture cut in pieces. */
export const CONTIGUOUS_SEC = 5;

/** A path as a shell word, for a command line to copy. */
export const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

/**
 * The note for files that follow one another in time (one begins at most
 * CONTIGUOUS_SEC after another ends): pieces of one capture, which are not
 * joined. Undefined when no two files do.
 */
export function contiguousNote(files: readonly string[], results: readonly DissectResult[], joinHint = ''): string | undefined {
  const spans = files
    .map((file, i) => ({ file, first: results[i]!.stats.firstTime, last: results[i]!.stats.lastTime }))
    .filter((s) => !Number.isNaN(s.first))
    .sort((a, b) => a.first - b.first || a.last - b.last);
  const joined = new Set<number>();
  for (let k = 1; k < spans.length; k++) {
    const gap = spans[k]!.first - spans[k - 1]!.last;
    if (gap >= 0 && gap <= CONTIGUOUS_SEC) joined.add(k - 1).add(k);
  }
  if (joined.size === 0) return undefined;
  const names = [...joined].sort((a, b) => a - b).map((k) => spans[k]!.file);
  return (
    `cawire: note: ${names.join(', ')} follow one another in time, but each file is read as its own capture: ` +
    `requests and replies, circuits and PV names are not joined across files; ` +
    `to read them as one capture, join them first: mergecap -a -w joined.pcap ${names.map(shellWord).join(' ')}${joinHint}`
  );
}

/** The end-of-run notes of several files: each file's, labelled with its name, then the note on contiguous files. */
export function reportEndOfFiles(files: readonly string[], results: readonly DissectResult[]): void {
  files.forEach((file, i) => reportEnd(results[i]!, file));
  const note = contiguousNote(files, results);
  if (note) process.stderr.write(`${note}\n`);
}

/** The capture to read: a path, or stdin for '-' or none (refused when stdin is a terminal). */
export function inputSource(file: string | undefined): CaptureSource {
  if (file && file !== '-') return file;
  if (process.stdin.isTTY) throw new UsageError('no capture given: name a pcap/pcapng file, or pipe one in (tcpdump -U -w - port 5064 or port 5065 | cawire)');
  return '-';
}

/** 'after frame N', or 'before its first frame' when no frame was read. */
const afterFrame = (n: number): string => (n > 0 ? `after frame ${n}` : 'before its first frame');

/** The note for a read stopped by a signal or by --duration (capture.stoppedBy): how far it got. */
function cutShortNote(r: DissectResult): string {
  const frames = r.capture.packets;
  const by = r.capture.stoppedBy!;
  // Stopped on purpose at the end of the --duration window: the packets after it were not wanted.
  if (r.capture.stoppedAtWindow) return `${by}: read up to frame ${frames}, the end of that much capture time; the rest of the input was not read`;
  const span = frames > 0 ? ` (${(r.stats.lastTime - r.stats.firstTime).toFixed(3)} s of capture)` : '';
  return `capture cut short by ${r.capture.stoppedBy} ${afterFrame(frames)}${span}; the report covers what was read`;
}

/** Notes on stderr after a run: where a cut capture ended, and what was not decoded. */
export function reportEnd(r: DissectResult, label = ''): void {
  const prefix = label ? `cawire: ${label}: ` : 'cawire: ';
  const t = r.capture.truncated;
  // t.frame is the record that was not read: the last frame read is the one before.
  if (t) process.stderr.write(`${prefix}capture ends early at byte ${t.atByte} ${afterFrame(t.frame - 1)} (${t.reason}); decoded everything before it\n`);
  if (r.capture.stoppedBy !== undefined) process.stderr.write(`${prefix}${cutShortNote(r)}\n`);
  const skipped = skippedSummary(r.stats);
  if (skipped) process.stderr.write(`${prefix}${skipped}\n`);
  if (r.stats.littleDecoded) process.stderr.write(`${prefix}${r.stats.littleDecoded}\n`);
}

/**
 * Errors about the input or the arguments (exit 2), by class name: TemplateError
 * and FilterError live with the decoder, which `cawire --help` does not load.
 */
const USER_ERRORS: ReadonlySet<string> = new Set(['CaptureError', 'UsageError', 'TemplateError', 'FilterError']);

/** Runs a command body with the documented exit statuses and one-line errors. */
export async function runCommand(debug: boolean, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof Error && USER_ERRORS.has(err.name)) {
      process.stderr.write(`cawire: ${err.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    if (debug) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`cawire: internal error: ${msg} (run again with --debug for details, and report it at ${ISSUES_URL})\n`);
    process.exitCode = EXIT_INTERNAL;
  }
}
