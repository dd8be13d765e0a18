// What every cawire command shares: input, CA port options, exit statuses, end-of-run notes.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { CaptureError } from '../capture/types.js';
import type { CaptureSource } from '../capture/source.js';
import { FilterError } from '../dissect/filter.js';
import type { DissectOptions } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';
import { skippedSummary } from '../dissect/stats.js';
import { TemplateError } from '../output/template.js';

/** Exit statuses: 0 done, 1 internal error, 2 unusable input or arguments. */
export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override name = 'UsageError';
}

export const ISSUES_URL = 'the cawire issue tracker';

export function parsePort(v: string): number {
  const n = Number(v);
  // Thrown inside commander's option parsing: its own error type makes a one-line usage error (exit 2).
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`not a port number: '${v}'`);
  return n;
}

const UNITS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1 };

/** '300ms', '250us', '1.5s', or a bare number in `bareUnit`, as seconds. */
export function parseDuration(v: string, bareUnit: 'ms' | 's'): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|µs|ms|s)?\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError(`want a duration such as 300ms, 250us or 2s`);
  return Number(m[1]) * UNITS[m[2] ?? bareUnit]!;
}

export function parsePortList(v: string, prev: number[] = []): number[] {
  return [...prev, ...v.split(',').filter(Boolean).map(parsePort)];
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').filter(Boolean)];
}

/** Options that say which traffic is CA, shared by every command that reads a capture. */
export function addInputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--ports <list>', 'more CA server ports to decode (TCP and UDP), comma-separated').argParser(parsePortList))
    .addOption(new Option('--no-learn-ports', 'do not learn server TCP ports from search replies and beacons'))
    .addOption(
      new Option('--max-message <bytes>', 'largest CA message reassembled; larger ones are skipped and counted').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1024) throw new InvalidArgumentError(`wants a byte count >= 1024, not '${v}'`);
        return n;
      }),
    );
}

export interface InputOptionValues {
  ports?: number[];
  learnPorts?: boolean;
  maxMessage?: number;
}

export function dissectOptions(o: InputOptionValues): DissectOptions {
  return { ports: o.ports, learnPorts: o.learnPorts, maxMessageBytes: o.maxMessage };
}

/** The capture to read: a path, or stdin for '-' or none (refused when stdin is a terminal). */
export function inputSource(file: string | undefined): CaptureSource {
  if (file && file !== '-') return file;
  if (process.stdin.isTTY) throw new UsageError('no capture given: name a pcap/pcapng file, or pipe one in (tcpdump -U -w - port 5064 or port 5065 | cawire)');
  return '-';
}

/** Notes on stderr after a run: where a cut capture ended, and what was not decoded. */
export function reportEnd(r: DissectResult, label = ''): void {
  const prefix = label ? `cawire: ${label}: ` : 'cawire: ';
  const t = r.capture.truncated;
  if (t) process.stderr.write(`${prefix}capture ends early at byte ${t.atByte} after frame ${t.frame} (${t.reason}); decoded everything before it\n`);
  const skipped = skippedSummary(r.stats);
  if (skipped) process.stderr.write(`${prefix}${skipped}\n`);
}

/** Runs a command body with the documented exit statuses and one-line errors. */
export async function runCommand(debug: boolean, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof CaptureError || err instanceof UsageError || err instanceof TemplateError || err instanceof FilterError) {
      process.stderr.write(`cawire: ${err.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    if (debug) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`cawire: internal error: ${msg} (run again with --debug for details, and report it at ${ISSUES_URL})\n`);
    process.exitCode = EXIT_INTERNAL;
  }
}
