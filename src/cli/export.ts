// `cawire export DIR FILE…|CAPTURE_DIR`: captures into a Parquet dataset under DIR
// (src/export), read through the one runner: one file or stdin here, rotated
// files (a capture folder, or --join) as one capture, several files each on a
// worker thread (--jobs). Files are staged and moved into DIR only at the end.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ExportPart } from '../export/export-analysis.js';
import { captureKey } from '../export/export-analysis.js';
import { commitExport, discardStaging, stagingFolder, type Committed } from '../export/commit.js';
import { TABLES } from '../export/schema.js';
import { DESCRIPTIONS } from './commands.js';
import {
  DURATION_HELP,
  UsageError,
  addFilterOptions,
  addInputOptions,
  addJobsOption,
  addJoinOption,
  dissectOptions,
  filterSpec,
  runCommand,
  type FilterOptionValues,
  type InputOptionValues,
} from './common.js';
import { stoppedBySignals } from './interrupt.js';
import { readReport, reportInputEnd } from './report-run.js';

export interface ExportCliOptions extends InputOptionValues, FilterOptionValues {
  hostLabel?: string;
  join?: boolean;
  jobs?: number;
  quiet?: boolean;
  /** rows per row group (hidden: tests make many small ones) */
  rowGroupRows?: number;
}

/** A host label as a partition folder value: letters, digits, '.', '_' and '-' (others become '_'). */
export function hostLabel(label: string | undefined): string {
  const l = (label ?? hostname()).replace(/[^\w.-]/g, '_');
  if (!l || l === '.' || l === '..') throw new UsageError(`--host-label wants a name such as ioc-gw1, not '${label}'`);
  return l;
}

/** The captures named: a folder is its files (rotated pieces) read as one capture, in the order of their first packet. */
export function captureFiles(args: readonly string[], join?: boolean): { files: string[]; join: boolean } {
  if (args.length === 1 && args[0] !== '-' && isFolder(args[0]!)) {
    const dir = args[0]!;
    const files = readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .map((n) => joinPath(dir, n))
      .filter((p) => statSync(p).isFile())
      .sort();
    if (files.length === 0) throw new UsageError(`${dir}: no capture files in this folder`);
    return { files, join: files.length > 1 };
  }
  return { files: [...args], join: join === true };
}

function rowCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`wants a whole number above 0, not '${v}'`);
  return n;
}

const joinPath = (dir: string, name: string): string => join(dir, name);

function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export interface ExportRun {
  committed: Committed;
  parts: ExportPart[];
}

/**
 * Exports captures into the dataset `dir`; undefined when a signal stopped it
 * (nothing is then moved into the dataset). `notes` writes the end-of-run notes.
 */
export async function exportCaptures(dir: string, args: readonly string[], o: ExportCliOptions, stop: AbortSignal, notes = true): Promise<ExportRun | undefined> {
  if (existsAsFile(dir)) throw new UsageError(`${dir} is a file: export writes a dataset folder (name a folder, new or earlier exported into)`);
  const { files, join } = captureFiles(args, o.join);
  const host = hostLabel(o.hostLabel);
  mkdirSync(dir, { recursive: true });
  const run = randomBytes(4).toString('hex');
  const staging = stagingFolder(dir, run);
  try {
    const key = join ? captureKey(files) : undefined;
    const input = await readReport(
      'export',
      { staging, host, run, key, rowGroupRows: o.rowGroupRows },
      { files, join, jobs: o.jobs, dissect: dissectOptions(o), filter: filterSpec(o) },
      stop,
    );
    if (stop.aborted) {
      discardStaging(staging);
      return undefined;
    }
    const parts = input.several ? input.parts : [input.part];
    const committed = commitExport(dir, staging, host, parts);
    if (notes && !o.quiet) reportInputEnd(input);
    return { committed, parts };
  } finally {
    discardStaging(staging);
  }
}

function existsAsFile(p: string): boolean {
  try {
    return !statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The one line an export ends with: rows per table and where they went. */
export function exportLine(dir: string, c: Committed): string {
  const rows = TABLES.map((t) => `${c.rows[t.name] ?? 0} ${t.name}`).join(', ');
  const replaced = c.replaced ? `, replacing ${c.replaced} file(s) of an earlier export of the same captures` : '';
  return `cawire: exported ${rows} into ${c.files} Parquet file(s) under ${dir}${replaced}`;
}

export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description(DESCRIPTIONS.export)
    .argument('<dir>', 'the dataset folder (made if missing; an earlier export there is extended, its captures replaced)')
    .argument('[captures...]', "pcap/pcapng files, gzip allowed; a folder of rotated files (read as one capture); '-' or none reads stdin")
    .addOption(new Option('--host-label <name>', "the capture host's name, the host=… partition (default: this machine's host name)"))
    .option('-q, --quiet', 'no end-of-run lines on stderr')
    .addOption(new Option('--row-group-rows <n>', 'rows per Parquet row group').hideHelp().argParser(rowCount))
    .addHelpText(
      'after',
      `
Tables (one folder each, Hive-partitioned by host and hour): ${TABLES.map((t) => t.name).join(', ')};
their columns: docs/dataset-schema.md. Query them with: cawire sql "SELECT …" DIR
Several files are exported in parallel on worker threads (--jobs), each as its own capture; with
--join, or given as one folder, they are read as one capture (rotated files, in time order).
Exporting the same captures again replaces their files; other captures' files stay.
Filters apply as for the reports. The ${DURATION_HELP}.`,
    );
  addJobsOption(addJoinOption(addFilterOptions(addInputOptions(cmd)))).action(async (dir: string, captures: string[], o: ExportCliOptions) => {
    await runCommand(program.opts().debug === true, () =>
      stoppedBySignals(async (stop) => {
        const r = await exportCaptures(dir, captures, o, stop);
        if (!r) {
          process.stderr.write(`cawire: export stopped by ${String(stop.reason)}: nothing was written to ${dir} (the dataset is as it was)\n`);
          process.exitCode = stop.reason === 'SIGTERM' ? 143 : 130;
          return;
        }
        if (!o.quiet) process.stderr.write(`${exportLine(dir, r.committed)}\n`);
      }),
    );
  });
}
