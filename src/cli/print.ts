// `cawire print [FILE…|-]`: one line per CA message, caproto-shark style, a user
// format, or JSON Lines.

import type { Command } from 'commander';
import type { CaEvent } from '../dissect/event.js';
import { commandWants, eventFilter, type EventFilterSpec } from '../dissect/filter.js';
import { runDissection } from '../dissect/run.js';
import { eventToJson } from '../output/json.js';
import { LineWriter } from '../output/sink.js';
import { DEFAULT_TEMPLATE, TEMPLATE_TOKENS, compileTemplateWriter } from '../output/template.js';
import {
  SEVERAL_FILES_HELP,
  addInputOptions,
  addJobsOption,
  checkFiles,
  collect,
  dissectOptions,
  inputSource,
  parsePortList,
  reportEnd,
  reportEndOfFiles,
  runCommand,
  type InputOptionValues,
} from './common.js';

interface PrintOptions extends InputOptionValues {
  format?: string;
  json?: boolean;
  pv?: string[];
  command?: string[];
  host?: string[];
  port?: number[];
  quiet?: boolean;
  jobs?: number;
}

export function registerPrint(program: Command, isDefault: boolean): void {
  const cmd = program
    .command('print', { isDefault })
    .description('print every CA message, one line each (the default command)')
    .argument('[files...]', "pcap/pcapng captures, gzip allowed; '-' or none reads stdin; several are merged by capture time")
    .option('-f, --format <template>', `line template; tokens: ${TEMPLATE_TOKENS.map((t) => `{${t}}`).join(' ')}`, DEFAULT_TEMPLATE)
    .option('--json', 'one JSON object per message (JSON Lines), arrays whole')
    .option('--pv <glob>', 'only messages on PVs matching the glob (* and ?); repeatable, comma-separated', collect)
    .option('--command <names>', 'only these message types, e.g. ReadNotifyResponse,ErrorResponse', collect)
    .option('--host <addr>', 'only messages from or to this IPv4 address; repeatable', collect)
    .option('--port <n>', 'only messages from or to this port; repeatable', parsePortList)
    .option('-q, --quiet', 'no end-of-run note on stderr')
    .addHelpText('after', SEVERAL_FILES_HELP);
  addJobsOption(addInputOptions(cmd)).action(async (files: string[], o: PrintOptions) => {
    await runCommand(program.opts().debug === true, async () => {
      checkFiles(files);
      const file = files[0];
      const format = o.format ?? DEFAULT_TEMPLATE;
      const write = o.json ? undefined : compileTemplateWriter(format, { file: file ?? '-' });
      const spec: EventFilterSpec = { pv: o.pv, command: o.command, host: o.host, port: o.port };
      const keep = eventFilter(spec);
      if (files.length > 1) {
        await printSeveral(files, o, format, spec);
        return;
      }
      const source = inputSource(file);
      const out = new LineWriter();
      const text = out.text;
      // Template lines are written as bytes straight into the output buffer; JSON (whole arrays, any length) as strings.
      const line = write
        ? (ev: CaEvent): void => {
            write(text, ev);
            text.char(10);
            out.endLine();
          }
        : (ev: CaEvent): void => out.line(eventToJson(ev));
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
    });
  });
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
