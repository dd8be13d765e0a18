// How a report command reads its input through the one runner: one capture
// (a file or stdin) or rotated files joined (--join) in this thread, several
// files each as its own capture on the worker pool; and the notes on stderr.

import { useCaptureTimes } from '../output/times.js';
import type { RunOutcome, JoinedFile } from '../analysis/runner.js';
import { runAnalysis } from '../analysis/runner.js';
import { buildAnalysis, type AnalysisName, type OptionsOf, type PartOf } from '../analysis/registry.js';
import type { EventFilterSpec } from '../dissect/filter.js';
import type { DissectOptions } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';
import type { Column } from '../output/table.js';
import { CaptureError } from '../capture/types.js';
import type { EveryReport } from './every.js';
import { CONTIGUOUS_SEC, UsageError, checkFiles, contiguousNote, inputSource, reportEnd } from './common.js';

export interface InputChoice<P = unknown> {
  files: string[];
  /** --every: the report printed again each interval of capture time (one capture: a file, stdin, or files joined) */
  every?: EveryReport<ReportInput<P>>;
  join?: boolean;
  jobs?: number;
  dissect: DissectOptions;
  filter: EventFilterSpec;
}

/** One capture's part (a file, stdin, or files joined), or every file's part (each its own capture). */
export type ReportInput<P> =
  | { several: false; part: P; result: DissectResult; joined?: JoinedFile[] }
  | { several: true; files: string[]; parts: P[]; results: DissectResult[]; unread: string[] };

/** Runs the report's analysis over the input as the command line says; `stop` (a signal) ends the read. */
export async function readReport<N extends AnalysisName>(name: N, options: OptionsOf<N>, input: InputChoice<PartOf<N>>, stop: AbortSignal): Promise<ReportInput<PartOf<N>>> {
  const { files } = input;
  checkFiles(files);
  if (input.join && files.length < 2) throw new UsageError('--join reads several files as one capture: name at least two');
  const every = input.every;
  if (every && files.length > 1 && !input.join) throw new UsageError('--every reports on one capture as it is read: a pipe, a file, or rotated files with --join');
  if (files.length <= 1 || input.join) {
    const sources = files.length <= 1 ? [inputSource(files[0])] : files;
    const r: RunOutcome<PartOf<N>> = await runAnalysis(sources, await buildAnalysis(name, options), {
      dissect: input.dissect,
      filter: input.filter,
      abort: stop,
      every: every && {
        seconds: every.seconds,
        snapshot: (part, result, at) => every.snapshot({ several: false, part, result }, result, at),
        flush: () => every.flush(),
      },
    });
    useCaptureTimes([r.result.capture]);
    return { several: false, part: r.part, result: r.result, joined: r.joined };
  }
  const { analyseFiles, defaultJobs } = await import('../parallel/pool.js');
  const parts = await analyseFiles(files, { name, options, dissect: input.dissect, filter: input.filter }, input.jobs ?? defaultJobs(files.length), stop);
  const read = files.flatMap((file, i) => (parts[i] ? [{ file, ...parts[i] }] : []));
  if (read.length === 0) throw new CaptureError(`capture cut short by ${String(stop.reason)} before any file could be read: nothing to report`);
  useCaptureTimes(read.map((r) => r.result.capture));
  return {
    several: true,
    files: read.map((r) => r.file),
    parts: read.map((r) => r.part),
    results: read.map((r) => r.result),
    unread: files.filter((_, i) => parts[i] === undefined),
  };
}

/** A row with the capture it came from (several files: its frames are that file's). */
export type Filed<T> = T & { file: string };

/** Each file's rows, each with its file. */
export function filedRows<P, R>(input: { files: string[]; parts: P[] }, rows: (part: P) => readonly R[]): Filed<R>[] {
  return input.files.flatMap((file, i) => rows(input.parts[i]!).map((r) => ({ ...r, file })));
}

/** The columns with the file first. */
export function withFileColumn<R>(columns: readonly Column<R>[]): Column<Filed<R>>[] {
  return [{ title: 'file', value: (r) => r.file }, ...(columns as Column<Filed<R>>[])];
}

/** Seconds to a short text for the join note. */
const secs = (s: number): string => `${s.toFixed(3)} s`;

/** The note on a joined read: the files in the order read, their frames, and the gaps (over CONTIGUOUS_SEC) and overlaps between them. */
export function joinNote(joined: readonly JoinedFile[]): string {
  const parts = joined.map((f) => `${f.path} (frames ${f.firstFrame ? `${f.firstFrame}-${f.lastFrame}` : 'none'})`);
  const gaps: string[] = [];
  for (let k = 1; k < joined.length; k++) {
    const a = joined[k - 1]!;
    const b = joined[k]!;
    if (Number.isNaN(a.lastTime) || Number.isNaN(b.firstTime)) continue;
    const gap = b.firstTime - a.lastTime;
    // Rotated files follow one another within a packet interval; longer is a stretch not captured.
    if (gap > CONTIGUOUS_SEC) gaps.push(`a gap of ${secs(gap)} between ${a.path} and ${b.path} (frames ${a.lastFrame} and ${b.firstFrame})`);
    else if (gap < 0) gaps.push(`${b.path} begins ${secs(-gap)} before ${a.path} ends (frames ${a.lastFrame} and ${b.firstFrame}): they overlap`);
  }
  const lines = [`cawire: joined ${joined.length} files as one capture in time order, frames numbered on as mergecap -a numbers them: ${parts.join(', ')}`];
  if (gaps.length) lines.push(`cawire: ${gaps.length} time ${gaps.length === 1 ? 'gap or overlap' : 'gaps or overlaps'} between files, like a capture gap (what was not captured is missing): ${gaps.join('; ')}`);
  return lines.join('\n');
}

/** The end-of-run notes of a report's input. */
export function reportInputEnd<P>(input: ReportInput<P>): void {
  if (!input.several) {
    if (input.joined) {
      process.stderr.write(`${joinNote(input.joined)}\n`);
      // A file cut short inside the join: the next file goes on from its last complete frame.
      for (const f of input.joined.slice(0, -1)) {
        const t = f.capture.truncated;
        if (t) process.stderr.write(`cawire: ${f.path}: capture ends early at byte ${t.atByte} after frame ${t.frame - 1 + f.frameOffset} (${t.reason}); the next file goes on from there\n`);
      }
      const last = input.joined.at(-1)!;
      reportEnd({ ...input.result, capture: { ...input.result.capture, truncated: last.capture.truncated ? input.result.capture.truncated : undefined } });
    } else reportEnd(input.result);
    return;
  }
  input.files.forEach((file, i) => reportEnd(input.results[i]!, file));
  if (input.unread.length) process.stderr.write(`cawire: capture cut short by a signal before ${input.unread.join(', ')} could be read; the report covers the other files\n`);
  const note = contiguousNote(input.files, input.results, '; or read them with --join');
  if (note) process.stderr.write(`${note}\n`);
}
