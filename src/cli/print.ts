// `cawire print [FILE|-]`: one line per CA message, caproto-shark style, a user
// format, or JSON Lines.

import type { Command } from 'commander';
import { eventFilter } from '../dissect/filter.js';
import { runDissection } from '../dissect/run.js';
import { eventToJson } from '../output/json.js';
import { LineWriter } from '../output/sink.js';
import { DEFAULT_TEMPLATE, TEMPLATE_TOKENS, compileTemplate } from '../output/template.js';
import { addInputOptions, collect, dissectOptions, inputSource, parsePortList, reportEnd, runCommand, type InputOptionValues } from './common.js';

interface PrintOptions extends InputOptionValues {
  format?: string;
  json?: boolean;
  pv?: string[];
  command?: string[];
  host?: string[];
  port?: number[];
  quiet?: boolean;
}

export function registerPrint(program: Command, isDefault: boolean): void {
  const cmd = program
    .command('print', { isDefault })
    .description('print every CA message, one line each (the default command)')
    .argument('[file]', "pcap/pcapng capture, gzip allowed; '-' or none reads stdin")
    .option('-f, --format <template>', `line template; tokens: ${TEMPLATE_TOKENS.map((t) => `{${t}}`).join(' ')}`, DEFAULT_TEMPLATE)
    .option('--json', 'one JSON object per message (JSON Lines), arrays whole')
    .option('--pv <glob>', 'only messages on PVs matching the glob (* and ?); repeatable, comma-separated', collect)
    .option('--command <names>', 'only these message types, e.g. ReadNotifyResponse,ErrorResponse', collect)
    .option('--host <addr>', 'only messages from or to this IPv4 address; repeatable', collect)
    .option('--port <n>', 'only messages from or to this port; repeatable', parsePortList)
    .option('-q, --quiet', 'no end-of-run note on stderr');
  addInputOptions(cmd).action(async (file: string | undefined, o: PrintOptions) => {
    await runCommand(program.opts().debug === true, async () => {
      const render = o.json ? eventToJson : compileTemplate(o.format ?? DEFAULT_TEMPLATE);
      const keep = eventFilter({ pv: o.pv, command: o.command, host: o.host, port: o.port });
      const source = inputSource(file);
      const out = new LineWriter();
      const result = await runDissection(
        source,
        dissectOptions(o),
        keep ? (ev) => keep(ev) && out.line(render(ev)) : (ev) => out.line(render(ev)),
        {
          // Live input: push lines out as each chunk is decoded, and wait if the reader is slow.
          afterChunk: () => {
            if (source === '-') out.flush();
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
