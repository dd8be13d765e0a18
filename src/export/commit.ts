// Moving an export's staged files into the dataset: the files of the same
// captures (their keys) that an earlier export wrote for this host are removed,
// then each new file is renamed into its partition. Until then every file lives
// under DIR/.cawire-staging-RUN, which no reader of the tables' folders sees, so
// an export that is stopped or killed leaves no half-written file in the dataset.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExportPart } from './export-analysis.js';
import { TABLES } from './schema.js';

/** The staging folder of a run, inside the dataset folder (same file system, so a rename moves a file at once). */
export function stagingFolder(dataset: string, run: string): string {
  return join(dataset, `.cawire-staging-${run}`);
}

/** A file name of an export: part-KEY-RUN-N.parquet; KEY is 12 hex digits. */
const PART_FILE = /^part-([0-9a-f]{12})-.*\.parquet$/;

/** Removes the files with these capture keys from the host's partitions (a re-export replaces them). */
function removeKeys(dataset: string, host: string, keys: ReadonlySet<string>): number {
  let removed = 0;
  for (const t of TABLES) {
    const hostDir = join(dataset, t.name, `host=${host}`);
    if (!existsSync(hostDir)) continue;
    for (const hour of readdirSync(hostDir)) {
      const dir = join(hostDir, hour);
      // (An emptied folder stays: another export may be renaming a file into it now.)
      for (const name of readdirSync(dir)) {
        const m = PART_FILE.exec(name);
        if (m && keys.has(m[1]!)) {
          unlinkSync(join(dir, name));
          removed++;
        }
      }
    }
  }
  return removed;
}

export interface Committed {
  files: number;
  /** files of an earlier export of the same captures, replaced */
  replaced: number;
  rows: Record<string, number>;
}

/** Moves the staged files of `parts` into the dataset, replacing the earlier files of their captures; removes the staging folder. */
export function commitExport(dataset: string, staging: string, host: string, parts: readonly ExportPart[]): Committed {
  const keys = new Set(parts.flatMap((p) => p.keys));
  const replaced = removeKeys(dataset, host, keys);
  const rows: Record<string, number> = Object.fromEntries(TABLES.map((t) => [t.name, 0]));
  let files = 0;
  for (const p of parts) {
    for (const f of p.files) {
      const to = join(dataset, f.relative);
      mkdirSync(dirname(to), { recursive: true });
      renameSync(join(staging, f.relative), to);
      files++;
    }
    for (const [t, n] of Object.entries(p.rows)) rows[t] = (rows[t] ?? 0) + n;
  }
  discardStaging(staging);
  return { files, replaced, rows };
}

/** Removes a staging folder and what is in it. */
export function discardStaging(staging: string): void {
  rmSync(staging, { recursive: true, force: true });
}
