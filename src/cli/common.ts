// What every cawire command shares: input, CA port options, exit statuses, end-of-run notes.

import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CaptureSource } from '../capture/source.js';
import type { DissectOptions } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';
import { skippedSummary } from '../dissect/stats.js';

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

const UNITS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1 };

/** '300ms', '250us', '1.5s', or a bare number in `bareUnit`, as seconds. */
export function parseDuration(v: string, bareUnit: 'ms' | 's'): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|µs|ms|s)?\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError(`want a duration such as 300ms, 250us or 2s`);
  return Number(m[1]) * UNITS[m[2] ?? bareUnit]!;
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
      new Option('--max-message <bytes>', 'largest CA message reassembled; larger ones are skipped and counted').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1024) throw new InvalidArgumentError(`wants a byte count >= 1024, not '${v}'`);
        return n;
      }),
    );
}

export interface InputOptionValues {
  ports?: number[];
  learnPorts?: boolean;
  maxMessage?: number;
}

export function dissectOptions(o: InputOptionValues): DissectOptions {
  return { ports: o.ports, learnPorts: o.learnPorts, maxMessageBytes: o.maxMessage };
}

/** The captures named on the command line: none or '-' is stdin; '-' does not combine with files. */
export function checkFiles(files: readonly string[]): void {
  if (files.length > 1 && files.includes('-')) throw new UsageError("'-' (stdin) reads one capture: it does not combine with other files");
}

/** What --help says about several files. */
export const SEVERAL_FILES_HELP = `
Several files are read in parallel on worker threads (--jobs), each as its own capture: a circuit,
channel or request that spans two files (tcpdump -C/-G rotation) is not joined across them. To read
rotated files as one capture, join them first: mergecap -a -w joined.pcap a.pcap b.pcap`;

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
const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

/**
 * The note for files that follow one another in time (one begins at most
 * CONTIGUOUS_SEC after another ends): pieces of one capture, which are not
 * joined. Undefined when no two files do.
 */
export function contiguousNote(files: readonly string[], results: readonly DissectResult[]): string | undefined {
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
    `to read them as one capture, join them first: mergecap -a -w joined.pcap ${names.map(shellWord).join(' ')}`
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

/** The note for a read stopped by a signal (capture.stoppedBy): how far it got. */
function cutShortNote(r: DissectResult): string {
  const frames = r.capture.packets;
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
