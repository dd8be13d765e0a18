// A worker thread of `cawire print|latency a.pcap b.pcap …`: reads the capture
// files the main thread gives it, each as its own capture, with the same
// functions the single-file path uses (runDissection, compileTemplate,
// eventToJson, eventFilter, latency). A print task renders lines and posts them
// in batches, one per credit the main thread grants, so it never runs far ahead
// of the merge; a latency task posts its whole LatencyPart at the end.

import { parentPort } from 'node:worker_threads';
import { latency, type LatencyPart } from '../analysis/latency.js';
import type { PairRecord } from '../analysis/pairing.js';
import type { CaEvent } from '../dissect/event.js';
import { eventFilter } from '../dissect/filter.js';
import { runDissection } from '../dissect/run.js';
import { eventToJson } from '../output/json.js';
import { compileTemplate } from '../output/template.js';
import type { FromWorker, LatencyStart, PrintStart, TaskFailed, ToWorker } from './messages.js';

const port = parentPort;
if (!port) throw new Error('cawire: src/parallel/worker.js runs as a worker thread of the cawire CLI, not on its own');

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

/** Lines are joined in runs of this many while they are young (cheap to flatten, and garbage soon). */
const JOIN_EVERY = 256;

class PrintTask {
  /** the batch so far: joined runs of lines, each line ending in '\n' */
  private runs: string[] = [];
  /** lines not yet joined into a run */
  private fresh: string[] = [];
  private count = 0;
  /** where each line of the batch ends in the joined text */
  private ends = new Uint32Array(1024);
  private chars = 0;
  /** seconds, nanoseconds of each line */
  private times = new Float64Array(2048);
  private credits = 0;
  private wake?: () => void;

  constructor(private readonly start: PrintStart) {}

  grant(n: number): void {
    this.credits += n;
    this.wake?.();
  }

  async run(): Promise<void> {
    const { path, options } = this.start;
    const render = options.json ? eventToJson : compileTemplate(options.format, { file: path });
    const keep = eventFilter(options.filter);
    const full = options.batchLines;
    const onEvent = (ev: CaEvent): void => {
      if (keep && !keep(ev)) return;
      this.add(render(ev), ev.tsSec, ev.tsNsec);
      // Mid-chunk: send a full batch only when asked for one; otherwise it grows until afterChunk waits.
      if (this.count >= full && this.credits > 0) this.send();
    };
    const result = await runDissection(path, options.dissect, onEvent, {
      afterChunk: () => (this.count >= full ? this.sendWhenAsked() : undefined),
    });
    if (this.count > 0) await this.sendWhenAsked();
    post({ type: 'printed', file: this.start.file, result });
  }

  private add(line: string, sec: number, nsec: number): void {
    const i = this.count++;
    if (i === this.ends.length) {
      const ends = new Uint32Array(i * 2);
      ends.set(this.ends);
      this.ends = ends;
      const times = new Float64Array(i * 4);
      times.set(this.times);
      this.times = times;
    }
    this.ends[i] = this.chars += line.length + 1;
    this.times[2 * i] = sec;
    this.times[2 * i + 1] = nsec;
    this.fresh.push(line);
    if (this.fresh.length === JOIN_EVERY) this.join();
  }

  private join(): void {
    this.runs.push(`${this.fresh.join('\n')}\n`);
    this.fresh = [];
  }

  private async sendWhenAsked(): Promise<void> {
    while (this.credits === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    this.send();
  }

  private send(): void {
    if (this.fresh.length > 0) this.join();
    const n = this.count;
    const ends = this.ends.slice(0, n);
    const times = this.times.slice(0, 2 * n);
    const text = this.runs.length === 1 ? this.runs[0]! : this.runs.join('');
    this.runs = [];
    this.count = 0;
    this.chars = 0;
    this.credits--;
    post({ type: 'batch', file: this.start.file, text, ends, times }, [ends.buffer, times.buffer]);
  }
}

async function pair(start: LatencyStart): Promise<void> {
  const { listSlowerThan: bound, ...options } = start.options;
  const records: PairRecord[] = [];
  const r = await latency(start.path, {
    ...options,
    keepRecords: 0,
    statsEngine: 'stream',
    onRecord: bound === undefined ? undefined : (rec) => rec.latency > bound && records.push(rec),
  });
  const part: LatencyPart = { distributions: r.distributions, records, unanswered: r.unanswered, counts: r.counts, conflicts: r.conflicts, dissection: r.dissection };
  post({ type: 'paired', file: start.file, part }, r.distributions.map((d) => d.values.buffer as ArrayBuffer));
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
      printing.get(m.file)?.grant(m.n);
      return;
    case 'latency':
      pair(m).catch((err: unknown) => post(failed(m.file, err)));
      return;
  }
});
