// Several capture files at once (`cawire print|latency a.pcap b.pcap …`): each
// file is read as its own capture on a worker thread (worker.ts), at most
// `jobs` threads at once, and the main thread merges what they send back.
//
// print: the main thread k-way merges the workers' rendered lines by capture
// time (seconds, nanoseconds; ties: the earlier file on the command line, then
// the order within the file). Every file takes part in the merge from the
// start, so with fewer threads than files a thread hosts several files
// (round-robin) and reads them in turns. Back-pressure: a file's task renders a
// batch of lines only when the main thread has asked for one; the main thread
// keeps PREFETCH batches asked for or queued per file and asks for the next
// when it has written one out, and it waits for stdout to drain. So memory stays
// at a few batches per file however far apart the files' speeds are.
//
// reports (latency, summary, …): a queue of files; each thread takes the next
// file when it has sent back the last one's analysis part; the caller merges
// the parts. A signal to the
// CLI stops the files being read and begins no more.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LatencyPart } from '../analysis/latency.js';
import { CaptureError } from '../capture/types.js';
import { UsageError } from '../cli/common.js';
import type { DissectResult } from '../dissect/run.js';
import type { LineWriter } from '../output/sink.js';
import type { AnalysisName, LatencyTaskOptions, PartOf } from '../analysis/registry.js';
import type { EventFilterSpec } from '../dissect/filter.js';
import type { DissectOptions } from '../dissect/options.js';
import type { AnalysisTask, FromWorker, LineBatch, PrintTaskOptions, ReadReport, TaskFailed, ToWorker } from './messages.js';
import { readProgress, type ReadProgress } from '../dissect/read-progress.js';

/** The worker's script: beside this module both in the tsc output (dist/src/parallel/) and in the bundle (dist/cli/). */
const WORKER_SCRIPT = new URL('./worker.js', import.meta.url);

/** Lines per batch a print task sends (a few hundred KB of text). */
export const BATCH_LINES = 4096;
/** Batches a print task may have asked for or queued at the main thread. */
export const PREFETCH = 2;

/** Threads to use by default: one per file, up to the CPUs this process may use. */
export function defaultJobs(files: number): number {
  return Math.max(1, Math.min(files, availableParallelism()));
}

/** A failed task as the error the CLI reports: the input's fault (exit 2, naming the file) or internal (exit 1). */
function taskError(m: TaskFailed, path: string): Error {
  const message = m.message.includes(path) ? m.message : `${path}: ${m.message}`;
  if (m.kind === 'capture') return new CaptureError(message);
  if (m.kind === 'usage') return new UsageError(message);
  const err = new Error(message);
  if (m.stack) err.stack = m.stack;
  return err;
}

/** The worker threads, with their messages and failures routed to one place; their reads' progress on this thread's display. */
class Pool {
  readonly workers: Worker[];
  private closing = false;
  /** this thread's progress display (read-progress.ts), told of every file's read */
  readonly progress: ReadProgress | undefined = readProgress();
  /** CA messages each file's read decoded so far */
  private readonly messages: number[];

  constructor(paths: readonly string[], size: number, onMessage: (m: FromWorker, w: Worker) => void, onFailure: (err: Error) => void) {
    this.messages = paths.map(() => 0);
    this.progress?.begin(paths);
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(WORKER_SCRIPT);
      w.on('message', (m: FromWorker) => (m.type === 'read' ? this.read(m) : onMessage(m, w)));
      w.on('error', (err) => onFailure(err instanceof Error ? err : new Error(String(err))));
      w.on('exit', (code) => {
        if (!this.closing) onFailure(new Error(`a worker thread stopped (exit code ${code})`));
      });
      return w;
    });
  }

  static send(w: Worker, m: ToWorker, transfer: ArrayBuffer[] = []): void {
    w.postMessage(m, transfer);
  }

  private read(m: ReadReport): void {
    this.messages[m.file] = m.messages;
    this.progress!.read(m.bytes, this.messages.reduce((a, b) => a + b, 0));
  }

  /** Stops every thread, whatever it is doing. */
  async close(): Promise<void> {
    this.progress?.end();
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** A batch waiting to be merged, its bytes as a Buffer. */
interface Queued extends LineBatch {
  text: Buffer;
}

/** One file's place in the merge: its queued batches and the next line to write. */
interface Stream {
  file: number;
  worker: Worker;
  queue: Queued[];
  /** next line of queue[0] */
  line: number;
  /** set after the file's last batch */
  result?: DissectResult;
}

/** True when line `i` of batch `b` of file `f` goes before the line at (sec, nsec) of file `g`. */
function before(b: LineBatch, i: number, f: number, sec: number, nsec: number, g: number): boolean {
  const s = b.times[2 * i]!;
  if (s !== sec) return s < sec;
  const n = b.times[2 * i + 1]!;
  return n !== nsec ? n < nsec : f < g;
}

/** True when the next line of stream `a` goes before the next line of stream `b`. */
function headFirst(a: Stream, b: Stream): boolean {
  const bb = b.queue[0]!;
  return before(a.queue[0]!, a.line, a.file, bb.times[2 * b.line]!, bb.times[2 * b.line + 1]!, b.file);
}

/**
 * Prints the files' lines merged by capture time to `out`. Resolves to each
 * file's DissectResult (command-line order), or undefined when the reader of
 * the output went away (the threads are stopped). Rejects with the first
 * failure (a file that is not a capture: CaptureError naming it).
 */
export async function printFiles(
  paths: readonly string[],
  options: PrintTaskOptions,
  jobs: number,
  out: LineWriter,
  /** told of every batch as it arrives, with how many of the file's batches are now waiting (at most PREFETCH) */
  watch?: (file: number, queued: number, lines: number) => void,
): Promise<DissectResult[] | undefined> {
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const streams: Stream[] = [];
  const pool = new Pool(
    paths,
    Math.min(jobs, paths.length),
    (m) => {
      const s = streams[m.file]!;
      if (m.type === 'batch') {
        s.queue.push({ ...m, text: Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.length) });
        watch?.(m.file, s.queue.length, m.ends.length);
      }
      else if (m.type === 'printed') s.result = m.result;
      else if (m.type === 'failed') failure ??= taskError(m, paths[m.file]!);
      wake?.();
    },
    (err) => {
      failure ??= err;
      wake?.();
    },
  );
  try {
    paths.forEach((path, file) => {
      const worker = pool.workers[file % pool.workers.length]!;
      streams.push({ file, worker, queue: [], line: 0 });
      Pool.send(worker, { type: 'print', file, path, options, progress: pool.progress !== undefined });
      Pool.send(worker, { type: 'more', file, n: PREFETCH });
    });
    let live = streams;
    for (;;) {
      // A line can be written only when every file still running has its next line here.
      while (!failure && !live.every((s) => s.queue.length > 0 || s.result)) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      if (failure) throw failure;
      live = live.filter((s) => s.queue.length > 0);
      if (live.length === 0) break;

      // The file whose next line is earliest, and the runner-up: write the first file's lines up to the runner-up's.
      let best = live[0]!;
      let next: Stream | undefined;
      for (let k = 1; k < live.length; k++) {
        const s = live[k]!;
        if (headFirst(s, best)) {
          next = best;
          best = s;
        } else if (!next || headFirst(s, next)) next = s;
      }
      const batch = best.queue[0]!;
      const n = batch.ends.length;
      const from = best.line;
      let to = from + 1;
      if (!next) to = n;
      else {
        const nb = next.queue[0]!;
        const sec = nb.times[2 * next.line]!;
        const nsec = nb.times[2 * next.line + 1]!;
        while (to < n && before(batch, to, best.file, sec, nsec, next.file)) to++;
      }
      out.line(batch.text.toString('utf8', from === 0 ? 0 : batch.ends[from - 1], batch.ends[to - 1]! - 1));
      if (to === n) {
        best.queue.shift();
        best.line = 0;
        // The next batch, in the bytes of this one (no new buffer per batch on either side).
        const spare = batch.bytes.buffer as ArrayBuffer;
        if (!best.result) Pool.send(best.worker, { type: 'more', file: best.file, n: 1, spare }, [spare]);
      } else best.line = to;

      if (out.closed) return undefined;
      const drained = out.ready();
      if (drained) {
        await drained;
        if (out.closed) return undefined;
      }
    }
    return streams.map((s) => s.result!);
  } finally {
    await pool.close();
  }
}

/** One file's share of a report: its analysis part and its dissection result. */
export interface FilePart<Part> {
  part: Part;
  result: DissectResult;
}

/**
 * Runs a report's analysis over each file on a worker thread, at most `jobs`
 * at once; resolves to the files' parts in command-line order. Rejects with the
 * first failure, after stopping the other threads. When `stop` aborts, the
 * files being read stop (their parts cover what was read, capture.stoppedBy the
 * abort's reason); the files not yet begun, or stopped before their header was
 * read, are left out: their parts are undefined.
 */
export async function analyseFiles<N extends AnalysisName>(
  paths: readonly string[],
  task: AnalysisTask<N>,
  jobs: number,
  stop?: AbortSignal,
): Promise<(FilePart<PartOf<N>> | undefined)[]> {
  const parts: (FilePart<PartOf<N>> | undefined)[] = paths.map(() => undefined);
  let next = 0;
  let returned = 0;
  let settle!: { resolve: () => void; reject: (err: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  /** every file begun has come back, and no more will begin */
  const finished = (): boolean => returned === next && (next === paths.length || stop?.aborted === true);
  const give = (w: Worker): void => {
    if (next >= paths.length || stop?.aborted) return;
    Pool.send(w, { type: 'analyse', file: next, path: paths[next]!, task: task as AnalysisTask, progress: pool.progress !== undefined });
    next++;
  };
  const pool = new Pool(
    paths,
    Math.min(jobs, paths.length),
    (m, w) => {
      if (m.type === 'analysed' || m.type === 'unread') {
        if (m.type === 'analysed') parts[m.file] = { part: m.part as PartOf<N>, result: m.result };
        returned++;
        if (finished()) settle.resolve();
        else give(w);
      } else if (m.type === 'failed') settle.reject(taskError(m, paths[m.file]!));
    },
    (err) => settle.reject(err),
  );
  const onStop = (): void => {
    const reason = typeof stop!.reason === 'string' ? stop!.reason : 'abort';
    for (const w of pool.workers) Pool.send(w, { type: 'stop', reason });
    if (finished()) settle.resolve();
  };
  stop?.addEventListener('abort', onStop);
  try {
    for (const w of pool.workers) give(w);
    if (stop?.aborted) onStop();
    await done;
    return parts;
  } finally {
    stop?.removeEventListener('abort', onStop);
    await pool.close();
  }
}

/** Pairs each file on a worker thread (analyseFiles with the latency analysis): the files' LatencyParts, undefined for those not read. */
export async function pairFiles(
  paths: readonly string[],
  options: LatencyTaskOptions & { dissect?: DissectOptions; filter?: EventFilterSpec },
  jobs: number,
  stop?: AbortSignal,
): Promise<(LatencyPart | undefined)[]> {
  const { dissect, filter, ...latency } = options;
  const parts = await analyseFiles(paths, { name: 'latency', options: latency, dissect, filter }, jobs, stop);
  return parts.map((p) => p?.part);
}
