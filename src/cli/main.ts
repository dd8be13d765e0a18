// The cawire command line. Heavy modules (danfo.js, plotting) are loaded only by
// the commands that need them, so `cawire print` starts fast.

import { Command } from 'commander';
import { registerLazyCommands } from './commands.js';
import { registerPrint } from './print.js';

export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command('cawire')
    .description('Decode EPICS Channel Access traffic in pcap/pcapng captures (files or a live tcpdump pipe).')
    .version('0.1.0')
    .option('--debug', 'show stack traces of internal errors')
    .showSuggestionAfterError()
    // commander's own usage errors exit 2 as documented (help and --version 0); set before the
    // subcommands are added so they inherit it.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .addHelpText(
      'after',
      `
Examples:
  cawire fixtures/demo.pcap                      print every CA message
  tcpdump -U -w - port 5064 or port 5065 | cawire    watch CA live
  cawire print --pv 'TEST:*' --json cap.pcapng   JSON Lines for one PV family

Exit status: 0 done, 1 internal error, 2 unusable input or arguments.`,
    );
  registerPrint(program, true);
  await registerLazyCommands(program, args);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv.slice(2));
  await program.parseAsync(argv);
}
