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
import { commandWants, eventFilter } from '../dissect/filter.js';
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

/** UTF-8 bytes a JS string can take at most per UTF-16 unit. */
const MAX_BYTES_PER_UNIT = 3;

class PrintTask {
  /** the batch so far: each line UTF-8 encoded as it is rendered (as LineWriter does), ending in '\n' */
  private bytes = Buffer.allocUnsafeSlow(256 * 1024);
  private size = 0;
  private count = 0;
  /** where each line of the batch ends in `bytes` */
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
    const render = options.json ? eventToJson : compileTemplate(options.format, { file: path });
    const keep = eventFilter(options.filter);
    const full = options.batchLines;
    const onEvent = (ev: CaEvent): void => {
      if (keep && !keep(ev)) return;
      this.add(render(ev), ev.tsSec, ev.tsNsec);
      // Mid-chunk: send a full batch only when asked for one; otherwise it grows until afterChunk waits.
      if (this.count >= full && this.credits > 0) this.send();
    };
    const result = await runDissection(path, { ...options.dissect, wants: commandWants(options.filter) }, onEvent, {
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
    const most = this.size + line.length * MAX_BYTES_PER_UNIT + 1;
    if (most > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, most));
      this.bytes.copy(grown, 0, 0, this.size);
      this.bytes = grown;
    }
    this.size += this.bytes.write(line, this.size);
    this.bytes[this.size++] = 10;
    this.ends[i] = this.size;
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
    const bytes = new Uint8Array(this.bytes.buffer, 0, this.size);
    const spare = this.spares.pop();
    this.bytes = spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(this.bytes.length);
    this.size = 0;
    this.count = 0;
    this.credits--;
    post({ type: 'batch', file: this.start.file, bytes, ends, times }, [bytes.buffer as ArrayBuffer, ends.buffer, times.buffer]);
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
      printing.get(m.file)?.grant(m.n, m.spare);
      return;
    case 'latency':
      pair(m).catch((err: unknown) => post(failed(m.file, err)));
      return;
  }
});
