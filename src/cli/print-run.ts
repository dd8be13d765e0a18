// `cawire print` itself, loaded only when it runs (`cawire --help` lists its
// options from print.ts without loading the decoder).

import type { CaEvent } from '../dissect/event.js';
import { commandWants, eventFilter, type EventFilterSpec } from '../dissect/filter.js';
import { runDissection } from '../dissect/run.js';
import { writeEventJson } from '../output/json.js';
import { LineWriter } from '../output/sink.js';
import { DEFAULT_TEMPLATE, compileTemplateWriter } from '../output/template.js';
import { checkFiles, dissectOptions, inputSource, reportEnd, reportEndOfFiles } from './common.js';
import type { PrintOptions } from './print.js';

/** Prints every CA message of `files` (none or '-': stdin) as `o` says. */
export async function print(files: string[], o: PrintOptions): Promise<void> {
  checkFiles(files);
  const file = files[0];
  const format = o.format ?? DEFAULT_TEMPLATE;
  const write = o.json ? undefined : compileTemplateWriter(format, { file: file ?? '-' });
  const spec: EventFilterSpec = { pv: o.pv, command: o.command, host: o.host, port: o.port, src: o.src, dst: o.dst, sport: o.sport, dport: o.dport };
  const keep = eventFilter(spec);
  if (files.length > 1) {
    await printSeveral(files, o, format, spec);
    return;
  }
  const source = inputSource(file);
  const out = new LineWriter();
  const text = out.text;
  // Lines (template or JSON) are written as bytes straight into the output buffer.
  const render = write ?? writeEventJson;
  const line = (ev: CaEvent): void => {
    render(text, ev);
    text.char(10);
    out.endLine();
  };
  const result = await runDissection(
    source,
    { ...dissectOptions(o), wants: commandWants(spec) },
    keep ? (ev) => keep(ev) && line(ev) : line,
    {
      // Live input: push lines out as each chunk is decoded, and wait if the reader is slow.
      afterChunk: () => {
        if (source === '-') out.flushSoon();
        return out.ready();
      },
      // `cawire print big.pcap | head`: nobody reads any more, so stop decoding.
      stop: () => out.closed,
    },
  );
  await out.end();
  if (!o.quiet && !out.closed) reportEnd(result);
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
