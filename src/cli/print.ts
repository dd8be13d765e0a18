// `cawire print [FILE…|-]`: one line per CA message, caproto-shark style, a user
// format, or JSON Lines. The command's options are defined here; what it does is in
// print-run.ts, loaded when it runs (`cawire --help` does not load the decoder).

import type { Command } from 'commander';
import { DEFAULT_TEMPLATE, TEMPLATE_TOKENS } from '../output/template-tokens.js';
import {
  SEVERAL_FILES_HELP,
  UsageError,
  addFilterOptions,
  addInputOptions,
  addJobsOption,
  addJoinOption,
  collect,
  parsePortList,
  runCommand,
  type FilterOptionValues,
  type InputOptionValues,
} from './common.js';

export interface PrintOptions extends InputOptionValues, FilterOptionValues {
  format?: string;
  json?: boolean;
  command?: string[];
  src?: string[];
  dst?: string[];
  sport?: number[];
  dport?: number[];
  quiet?: boolean;
  jobs?: number;
  join?: boolean;
}

export function registerPrint(program: Command, isDefault: boolean): void {
  const cmd = program
    .command('print', { isDefault })
    .description('print every CA message, one line each (the default command)')
    .argument('[files...]', "pcap/pcapng captures, gzip allowed; '-' or none reads stdin; several are merged by capture time")
    .option('-f, --format <template>', `line template; tokens: ${TEMPLATE_TOKENS.map((t) => `{${t}}`).join(' ')}`, DEFAULT_TEMPLATE)
    .option('--json', 'one JSON object per message (JSON Lines), arrays whole')
    .option('--command <names>', 'only these message types, e.g. ReadNotifyResponse,ErrorResponse', collect)
    .option('--src <addr>', 'only messages from this IPv4 address or CIDR block; repeatable', collect)
    .option('--dst <addr>', 'only messages to this IPv4 address or CIDR block; repeatable', collect)
    .option('--sport <n>', 'only messages from this port; repeatable', parsePortList)
    .option('--dport <n>', 'only messages to this port; repeatable', parsePortList)
    .option('-q, --quiet', 'no end-of-run note on stderr')
    .addHelpText('after', SEVERAL_FILES_HELP);
  addJoinOption(addJobsOption(addInputOptions(addFilterOptions(cmd)))).action(async (files: string[], o: PrintOptions) => {
    await runCommand(program.opts().debug === true, async () => {
      // --format has a default: only one given on the command line conflicts with --json.
      if (o.json && cmd.getOptionValueSource('format') !== 'default') throw new UsageError('--json writes whole JSON objects: it does not combine with --format');
      await (await import('./print-run.js')).print(files, o);
    });
  });
}
