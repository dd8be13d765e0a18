// `cawire print` itself, loaded only when it runs (`cawire --help` lists its
// options from print.ts without loading the decoder).

import { linePrinter, runAnalysis } from '../analysis/runner.js';
import type { EventFilterSpec } from '../dissect/filter.js';
import { writeEventJson } from '../output/json.js';
import { LineWriter } from '../output/sink.js';
import { DEFAULT_TEMPLATE, compileTemplateWriter } from '../output/template.js';
import { UsageError, checkFiles, dissectOptions, filterSpec, inputSource, reportEnd, reportEndOfFiles } from './common.js';
import { joinNote } from './report-run.js';
import type { PrintOptions } from './print.js';

/** Prints every CA message of `files` (none or '-': stdin; several with --join: one capture) as `o` says. */
export async function print(files: string[], o: PrintOptions): Promise<void> {
  checkFiles(files);
  if (o.join && files.length < 2) throw new UsageError('--join reads several files as one capture: name at least two');
  const file = files[0];
  const format = o.format ?? DEFAULT_TEMPLATE;
  const write = o.json ? undefined : compileTemplateWriter(format, { file: file ?? '-' });
  const spec: EventFilterSpec = { ...filterSpec(o), command: o.command, src: o.src, dst: o.dst, sport: o.sport, dport: o.dport };
  if (files.length > 1 && !o.join) {
    await printSeveral(files, o, format, spec);
    return;
  }
  const sources = files.length > 1 ? files : [inputSource(file)];
  const live = sources[0] === '-';
  const out = new LineWriter();
  const text = out.text;
  // Lines (template or JSON) are written as bytes straight into the output buffer.
  const render = write ?? writeEventJson;
  const { result, joined } = await runAnalysis(sources, linePrinter(spec, (ev) => {
    render(text, ev);
    text.char(10);
    out.endLine();
  }), {
    dissect: dissectOptions(o),
    filter: spec,
    // Live input: push lines out as each chunk is decoded, and wait if the reader is slow.
    afterChunk: () => {
      if (live) out.flushSoon();
      return out.ready();
    },
    // `cawire print big.pcap | head`: nobody reads any more, so stop decoding.
    stop: () => out.closed,
  });
  await out.end();
  if (o.quiet || out.closed) return;
  if (joined) process.stderr.write(`${joinNote(joined)}\n`);
  reportEnd(result);
}

/** Several files: each rendered on a worker thread, the lines merged by capture time (src/parallel). */
async function printSeveral(files: string[], o: PrintOptions, format: string, filter: EventFilterSpec): Promise<void> {
  const { BATCH_LINES, defaultJobs, printFiles } = await import('../parallel/pool.js');
  const out = new LineWriter();
  const options = { dissect: dissectOptions(o), json: o.json === true, format, filter, batchLines: BATCH_LINES };
  const results = await printFiles(files, options, o.jobs ?? defaultJobs(files.length), out);
  await out.end();
  if (!o.quiet && results && !out.closed) reportEndOfFiles(files, results);
}
