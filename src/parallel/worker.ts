// A worker thread of `cawire print|latency a.pcap b.pcap …`: reads the capture
// files the main thread gives it, each as its own capture, with the same
// functions the single-file path uses (runAnalysis with linePrinter, compileTemplateWriter,
// writeEventJson). A print task renders lines and posts them
// in batches, one per credit the main thread grants, so it never runs far ahead
// of the merge; an analysis task (a report: latency, summary, …) posts its whole
// part at the end (on a 'stop' message, the part of what it read).

import { parentPort } from 'node:worker_threads';
import type { LatencyPart } from '../analysis/latency.js';
import { buildAnalysis } from '../analysis/registry.js';
import { linePrinter, runAnalysis } from '../analysis/runner.js';
import type { CaEvent } from '../dissect/event.js';
import { writeEventJson } from '../output/json.js';
import { compileTemplateWriter } from '../output/template.js';
import { TextOut } from '../output/text-out.js';
import type { ReadProgress } from '../dissect/read-progress.js';
import type { AnalysisStart, FromWorker, PrintStart, TaskFailed, ToWorker } from './messages.js';

const port = parentPort;
if (!port) throw new Error('cawire: src/parallel/worker.js runs as a worker thread of the cawire CLI, not on its own');

/** How far a task's read got, posted to the main thread's progress display a few times a second and at the end. */
class PostedProgress implements ReadProgress {
  private bytes = 0;
  private messages = 0;
  private last = 0;

  constructor(private readonly file: number) {}

  begin(): void {}

  read(bytes: number, messages: number): void {
    this.bytes += bytes;
    this.messages = messages;
    const now = Date.now();
    if (now - this.last >= PROGRESS_MS) this.send(now);
  }

  end(): void {
    this.send(Date.now());
  }

  private send(now: number): void {
    this.last = now;
    post({ type: 'read', file: this.file, bytes: this.bytes, messages: this.messages });
    this.bytes = 0;
  }
}

/** How often a task reports its progress. */
const PROGRESS_MS = 200;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

/** Errors about the input (exit 2) keep their message; anything else is internal (exit 1). */
function failed(file: number, err: unknown): TaskFailed {
  if (err instanceof Error) {
    const kind = err.name === 'CaptureError' ? 'capture' : ['UsageError', 'TemplateError', 'FilterError'].includes(err.name) ? 'usage' : 'internal';
    return { type: 'failed', file, kind, message: err.message, stack: err.stack };
  }
  return { type: 'failed', file, kind: 'internal', message: String(err) };
}

class PrintTask {
  /** the batch so far: each line written as UTF-8 bytes (as LineWriter's are), ending in '\n'; its buffer is transferred whole, so never one from the pool */
  private readonly text = new TextOut(Buffer.allocUnsafeSlow(256 * 1024));
  private count = 0;
  /** where each line of the batch ends in `text.buf` */
  private ends = new Uint32Array(1024);
  /** seconds, nanoseconds of each line */
  private times = new Float64Array(2048);
  /** byte buffers of written batches, given back by the main thread */
  private readonly spares: ArrayBuffer[] = [];
  private credits = 0;
  private wake?: () => void;

  constructor(private readonly start: PrintStart) {}

  grant(n: number, spare?: ArrayBuffer): void {
    if (spare) this.spares.push(spare);
    this.credits += n;
    this.wake?.();
  }

  async run(): Promise<void> {
    const { path, options } = this.start;
    const write = options.json ? writeEventJson : compileTemplateWriter(options.format, { file: path });
    const full = options.batchLines;
    const onEvent = (ev: CaEvent): void => {
      write(this.text, ev);
      this.endLine(ev.tsSec, ev.tsNsec);
      // Mid-chunk: send a full batch only when asked for one; otherwise it grows until afterChunk waits.
      if (this.count >= full && this.credits > 0) this.send();
    };
    const { result } = await runAnalysis([path], linePrinter(options.filter, onEvent), {
      progress: this.start.progress ? new PostedProgress(this.start.file) : undefined,
      dissect: options.dissect,
      filter: options.filter,
      afterChunk: () => (this.count >= full ? this.sendWhenAsked() : undefined),
    });
    if (this.count > 0) await this.sendWhenAsked();
    post({ type: 'printed', file: this.start.file, result });
  }

  /** Ends the line just written to `text`, taken at capture time sec, nsec. */
  private endLine(sec: number, nsec: number): void {
    const text = this.text;
    text.char(10);
    const i = this.count++;
    if (i === this.ends.length) {
      const ends = new Uint32Array(i * 2);
      ends.set(this.ends);
      this.ends = ends;
      const times = new Float64Array(i * 4);
      times.set(this.times);
      this.times = times;
    }
    this.ends[i] = text.pos;
    this.times[2 * i] = sec;
    this.times[2 * i + 1] = nsec;
  }

  private async sendWhenAsked(): Promise<void> {
    while (this.credits === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    this.send();
  }

  private send(): void {
    const n = this.count;
    const ends = this.ends.slice(0, n);
    const times = this.times.slice(0, 2 * n);
    // The whole buffer is handed over (transferred, not copied); the next batch gets a new one.
    const text = this.text;
    const bytes = new Uint8Array(text.buf.buffer, 0, text.pos);
    const spare = this.spares.pop();
    text.buf = spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(text.buf.length);
    text.pos = 0;
    this.count = 0;
    this.credits--;
    post({ type: 'batch', file: this.start.file, bytes, ends, times }, [bytes.buffer as ArrayBuffer, ends.buffer, times.buffer]);
  }
}

/** The analysis tasks under way, stopped by a 'stop' message. */
const analysing = new Set<AbortController>();

/** Runs a report's analysis over one file (the runner the main thread uses for one file) and posts its part. */
async function analyse(start: AnalysisStart): Promise<void> {
  const { name, options, dissect, filter } = start.task;
  const stop = new AbortController();
  analysing.add(stop);
  const r = await runAnalysis([start.path], await buildAnalysis(name, options), {
    dissect,
    filter,
    abort: stop.signal,
    progress: start.progress ? new PostedProgress(start.file) : undefined,
  })
    .catch((err: unknown) => {
      // Stopped before the header came (the reader's CaptureError): the file is left out, not a failure.
      if (stop.signal.aborted && err instanceof Error && err.name === 'CaptureError') return undefined;
      throw err;
    })
    .finally(() => analysing.delete(stop));
  if (!r) {
    post({ type: 'unread', file: start.file });
    return;
  }
  const transfer = name === 'latency' ? (r.part as LatencyPart).distributions.map((d) => d.values.buffer as ArrayBuffer) : [];
  post({ type: 'analysed', file: start.file, part: r.part, result: r.result }, transfer);
}

const printing = new Map<number, PrintTask>();

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'print': {
      const task = new PrintTask(m);
      printing.set(m.file, task);
      task.run().then(
        () => printing.delete(m.file),
        (err: unknown) => post(failed(m.file, err)),
      );
      return;
    }
    case 'more':
      printing.get(m.file)?.grant(m.n, m.spare);
      return;
    case 'analyse':
      analyse(m).catch((err: unknown) => post(failed(m.file, err)));
      return;
    case 'stop':
      for (const task of analysing) task.abort(m.reason);
      return;
  }
});
