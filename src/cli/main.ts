// The cawire command line. Heavy modules (danfo.js, plotting) are loaded only by
// the commands that need them, so `cawire print` starts fast.

import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { DESCRIPTIONS, registerLazyCommands } from './commands.js';
import { registerPrint } from './print.js';

export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command('cawire')
    .description('Decode EPICS Channel Access traffic in pcap/pcapng captures (files or a live tcpdump pipe).')
    .version('0.1.0')
    .option('--debug', 'show stack traces of internal errors')
    .showSuggestionAfterError()
    // Every usage error starts with `cawire:`, commander's own included (subcommands inherit this).
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'cawire: ')) })
    // commander's own usage errors exit 2 as documented (help and --version 0); set before the
    // subcommands are added so they inherit it.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    // Progress on stderr when it is a terminal, unless -q (print to a terminal: its lines are the progress).
    .hook('preAction', async (_program, action) => {
      if (!process.stderr.isTTY || action.opts().quiet === true || (action.name() === 'print' && process.stdout.isTTY)) return;
      (await import('./progress.js')).showProgress();
    })
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

/** Every command name, the default `print` and `help` included. */
const COMMAND_NAMES: readonly string[] = ['print', 'help', ...Object.keys(DESCRIPTIONS)];

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short words. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The command a mistyped first word was meant to be (`lat` -> `latency`, `summry` -> `summary`), when
 * that word is no file: `cawire WORD` would otherwise take it for a capture to print.
 */
export function meantCommand(word: string | undefined, fileExists: (path: string) => boolean = existsSync): string | undefined {
  if (word === undefined || word.startsWith('-') || COMMAND_NAMES.includes(word) || fileExists(word)) return undefined;
  const w = word.toLowerCase();
  if (w.length >= 2) {
    const prefixed = COMMAND_NAMES.filter((c) => c.startsWith(w));
    if (prefixed.length === 1) return prefixed[0];
  }
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(w.length / 2));
  for (const c of COMMAND_NAMES) {
    const dist = editDistance(w, c);
    if (dist <= bestDistance && (best === undefined || dist < bestDistance)) [best, bestDistance] = [c, dist];
  }
  return best;
}

export async function main(argv: string[]): Promise<void> {
  const meant = meantCommand(argv[2]);
  if (meant !== undefined) {
    process.stderr.write(`cawire: unknown command '${argv[2]}' (did you mean ${meant}?); a capture file of that name does not exist\n`);
    process.exitCode = 2;
    return;
  }
  const program = await buildProgram(argv.slice(2));
  await program.parseAsync(argv);
}
