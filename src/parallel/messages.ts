// The messages between the main thread and the workers that read several
// captures at once (pool.ts sends tasks and credits, worker.ts runs them).
//
// A worker hosts one or more tasks, one per capture file; `file` is the file's
// index on the command line, and says which task a message is about.

import type { AnalysisName, OptionsOf } from '../analysis/registry.js';
import type { EventFilterSpec } from '../dissect/filter.js';
import type { DissectOptions } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';

/** How `cawire print` renders and selects the messages of each file. */
export interface PrintTaskOptions {
  dissect: DissectOptions;
  /** JSON Lines, else `format` */
  json: boolean;
  format: string;
  filter: EventFilterSpec;
  /** a batch is posted once it holds this many lines (and the main thread has asked for one) */
  batchLines: number;
}

export type { LatencyTaskOptions } from '../analysis/registry.js';

/** A report's analysis of each file (analysis/registry.ts), with the filters and dissection options. */
export interface AnalysisTask<N extends AnalysisName = AnalysisName> {
  name: N;
  options: OptionsOf<N>;
  dissect?: DissectOptions;
  filter?: EventFilterSpec;
}

// ---- main thread -> worker --------------------------------------------------

/** Start printing a file: lines come back in batches, one per credit. */
export interface PrintStart {
  type: 'print';
  file: number;
  path: string;
  options: PrintTaskOptions;
  /** report how far the read got ('read' messages): the main thread shows progress */
  progress?: boolean;
}

/** The main thread wants `n` more batches of a print task; `spare` is a written batch's byte buffer, given back for reuse. */
export interface MoreBatches {
  type: 'more';
  file: number;
  n: number;
  spare?: ArrayBuffer;
}

/** Run a report's analysis over a file, and send back its part. */
export interface AnalysisStart {
  type: 'analyse';
  file: number;
  path: string;
  task: AnalysisTask;
  /** report how far the read got ('read' messages): the main thread shows progress */
  progress?: boolean;
}

/** Stop reading (a signal reached the CLI): each analysis task sends back the part it has, `reason` as its capture.stoppedBy. */
export interface StopReading {
  type: 'stop';
  reason: string;
}

export type ToWorker = PrintStart | MoreBatches | AnalysisStart | StopReading;

// ---- worker -> main thread --------------------------------------------------

/**
 * Rendered lines of one file, in the file's order, UTF-8 encoded. Line i is
 * bytes [i === 0 ? 0 : ends[i - 1], ends[i] - 1) (each line ends in '\n', which
 * ends[i] counts; a --format may put newlines inside a line, hence the
 * offsets); its capture time is times[2i] seconds and times[2i + 1]
 * nanoseconds. The three arrays are transferred, not copied.
 */
export interface LineBatch {
  type: 'batch';
  file: number;
  bytes: Uint8Array;
  ends: Uint32Array;
  times: Float64Array;
}

/** How far a task's read got since its last report (a few times a second, and at its end). */
export interface ReadReport {
  type: 'read';
  file: number;
  /** bytes read since the last report */
  bytes: number;
  /** CA messages the file's read decoded so far */
  messages: number;
}

/** A print task read its whole file: after its last batch. */
export interface PrintDone {
  type: 'printed';
  file: number;
  result: DissectResult;
}

/** An analysis task's part and the file's dissection result (a latency part's distribution buffers are transferred). */
export interface AnalysisDone {
  type: 'analysed';
  file: number;
  part: unknown;
  result: DissectResult;
}

/** An analysis task stopped (a 'stop' message) before its capture's header was read: nothing to merge. */
export interface AnalysisUnread {
  type: 'unread';
  file: number;
}

/** Why a task failed: `capture` and `usage` are the input's fault (exit 2), `internal` a bug (exit 1). */
export interface TaskFailed {
  type: 'failed';
  file: number;
  kind: 'capture' | 'usage' | 'internal';
  message: string;
  stack?: string;
}

export type FromWorker = LineBatch | PrintDone | AnalysisDone | AnalysisUnread | TaskFailed | ReadReport;
