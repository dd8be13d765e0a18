// `cawire sql "SELECT …" DATASET|FILE…`: SQL on an export dataset with embedded
// DuckDB (@duckdb/node-api, loaded only by this command). Each table folder is a
// view of its name (messages, pairs, …) over its Parquet files, with the Hive
// partition columns host and hour; a table with no files is an empty view of its
// columns. Captures instead of a dataset are exported to a temporary dataset first.

import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { DUCKDB_TYPES, PARTITION_COLUMNS, TABLES } from '../export/schema.js';
import { LineWriter } from '../output/sink.js';
import { formatReport, type Cell, type Column, type ListItem, type ReportFormat } from '../output/table.js';
import { formatTime } from '../output/times.js';
import { DESCRIPTIONS } from './commands.js';
import { UsageError, addDisplayOptions, addInputOptions, addJobsOption, addJoinOption, runCommand, type InputOptionValues } from './common.js';
import { exportCaptures, exportLine } from './export.js';
import { stoppedBySignals } from './interrupt.js';

interface SqlOptions extends InputOptionValues {
  csv?: boolean;
  json?: boolean;
  parquet?: string;
  examples?: boolean;
  quiet?: boolean;
  hostLabel?: string;
  join?: boolean;
  jobs?: number;
}

/** Queries engineers ask of a dataset (`cawire sql --examples`). */
export const EXAMPLES: readonly { what: string; sql: string }[] = [
  {
    what: 'slowest IOCs per hour (answered reads, writes and creates; 99th percentile)',
    sql: `SELECT hour, server, count(*) AS pairs, round(quantile_cont(latency_ms, 0.99), 3) AS p99_ms, round(max(latency_ms), 3) AS max_ms
FROM pairs WHERE NOT unanswered AND kind IN ('read', 'write', 'create')
GROUP BY hour, server ORDER BY p99_ms DESC LIMIT 20`,
  },
  {
    what: 'PVs searched for and never found, by day',
    sql: `SELECT CAST(first_seen AS DATE) AS day, pv, sum(searches) AS searches, max(clients) AS clients
FROM searches GROUP BY day, pv HAVING max(servers) = 0 ORDER BY day, searches DESC`,
  },
  {
    what: 'monitor update rate by PV (updates per second while it updated)',
    sql: `SELECT pv, count(*) AS updates,
  round(count(*) / greatest(epoch(max(time)) - epoch(min(time)), 1e-9), 2) AS per_s
FROM messages WHERE type = 'EventAddResponse' GROUP BY pv ORDER BY updates DESC LIMIT 20`,
  },
  {
    what: 'which clients write to a PV',
    sql: `SELECT pv, src AS client, count(*) AS writes, min(time) AS first, max(time) AS last
FROM messages WHERE type IN ('WriteRequest', 'WriteNotifyRequest') AND pv LIKE 'SR:%'
GROUP BY pv, client ORDER BY writes DESC`,
  },
  {
    what: 'messages per type (what cawire print would print)',
    sql: `SELECT type, count(*) AS messages FROM messages GROUP BY type ORDER BY messages DESC`,
  },
];

function examplesText(): string {
  return EXAMPLES.map((e) => `-- ${e.what}\ncawire sql "${e.sql.replaceAll('"', '\\"')}" DIR`).join('\n\n');
}

/** A SQL string literal. */
const literal = (s: string): string => `'${s.replaceAll("'", "''")}'`;
/** A SQL identifier. */
const ident = (s: string): string => `"${s.replaceAll('"', '""')}"`;

function hasParquet(dir: string): boolean {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    if (e.isFile() && e.name.endsWith('.parquet')) return true;
    if (e.isDirectory() && hasParquet(join(dir, e.name))) return true;
  }
  return false;
}

/**
 * A folder is a dataset when it holds folders and no capture files (an empty
 * one, or one with only an interrupted export's staging folder, is an empty
 * dataset); a folder of files is rotated captures.
 */
export function isDataset(dir: string): boolean {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
  return !readdirSync(dir, { withFileTypes: true }).some((e) => e.isFile() && !e.name.startsWith('.'));
}

/** The views of a dataset: each table folder over its files, and the known tables without files empty. */
export function viewStatements(dataset: string): string[] {
  const out: string[] = [];
  const folders = readdirSync(dataset, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.') && hasParquet(join(dataset, e.name)));
  for (const f of folders) {
    const glob = join(dataset, f.name, '**', '*.parquet');
    out.push(`CREATE VIEW ${ident(f.name)} AS SELECT * FROM read_parquet(${literal(glob)}, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`);
  }
  for (const t of TABLES) {
    if (folders.some((f) => f.name === t.name)) continue;
    const columns = [...t.columns, ...PARTITION_COLUMNS].map((c) => `NULL::${DUCKDB_TYPES[c.type]} AS ${ident(c.name)}`);
    out.push(`CREATE VIEW ${ident(t.name)} AS SELECT ${columns.join(', ')} WHERE false`);
  }
  return out;
}

/** A value DuckDB gave as JSON, as a cell: numbers as numbers (when exact), times through times.ts, lists as lists. */
function cellOf(v: unknown, type: string): Cell | readonly ListItem[] {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' || typeof x === 'string' ? x : JSON.stringify(x)));
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'string' && /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|DECIMAL)/.test(type)) {
    const n = Number(v);
    return Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n)) ? n : v;
  }
  if (typeof v === 'string' && type.startsWith('TIMESTAMP') && !type.includes('TIME ZONE')) {
    const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(v);
    if (m) return formatTime(Date.parse(`${m[1]}T${m[2]}Z`) / 1000, Number((m[3] ?? '').padEnd(9, '0')));
  }
  return v as Cell;
}

export interface SqlResult {
  columns: string[];
  types: string[];
  rows: (Cell | readonly ListItem[])[][];
}

/** Runs a query on a dataset; with `parquet`, writes its rows there instead (and gives their count). */
export async function querySql(dataset: string, query: string, parquet?: string): Promise<SqlResult | number> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (const s of viewStatements(dataset)) await connection.run(s);
    const q = query.trim().replace(/;\s*$/, '');
    if (parquet !== undefined) {
      const r = await connection.runAndReadAll(`COPY (${q}) TO ${literal(parquet)} (FORMAT parquet, COMPRESSION zstd)`);
      return Number(r.getRowsJS()[0]?.[0] ?? 0);
    }
    const reader = await connection.runAndReadAll(q);
    const types = reader.columnTypes().map(String);
    const rows = reader.getRowsJson().map((row) => row.map((v, i) => cellOf(v, types[i]!)));
    return { columns: reader.columnNames(), types, rows };
  } catch (err) {
    if (err instanceof Error && !(err instanceof UsageError)) throw new UsageError(`sql: ${err.message.split('\n')[0]}`);
    throw err;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|DECIMAL|FLOAT|DOUBLE)/;

/** The result as a table, CSV or JSON Lines (the report writer every command uses). */
export function formatSqlResult(format: ReportFormat, r: SqlResult): string {
  const columns: Column<(Cell | readonly ListItem[])[]>[] = r.columns.map((title, i) => ({ title, key: title, value: (row) => row[i], align: NUMERIC.test(r.types[i]!) ? 'right' : 'left' }));
  return formatReport(format, columns, r.rows, 'no rows found');
}

export function registerSql(program: Command): void {
  const cmd = program
    .command('sql')
    .description(DESCRIPTIONS.sql)
    .argument('[query]', 'the SQL query (DuckDB dialect); the tables are views: messages, pairs, circuits, searches, beacons')
    .argument('[inputs...]', "an export dataset folder, or captures (files, a folder of rotated files, '-' stdin) exported to a temporary dataset first")
    .addOption(new Option('--json', 'one JSON object per row (JSON Lines)').conflicts(['csv', 'parquet']))
    .addOption(new Option('--csv', 'CSV with a header line').conflicts('parquet'))
    .option('--parquet <out>', 'write the rows to this Parquet file (ZSTD) instead')
    .option('--examples', 'print queries engineers ask of a dataset')
    .option('--host-label <name>', 'captures given: the host partition of their temporary dataset')
    .option('-q, --quiet', 'no end-of-run lines on stderr')
    .addHelpText('after', '\nColumns of each table: docs/dataset-schema.md; cawire sql --examples for a start.');
  addJobsOption(addJoinOption(addInputOptions(addDisplayOptions(cmd)))).action(async (query: string | undefined, inputs: string[], o: SqlOptions) => {
    await runCommand(program.opts().debug === true, async () => {
      if (o.examples) {
        const out = new LineWriter();
        out.line(examplesText());
        await out.end();
        return;
      }
      if (query === undefined || query.trim() === '') throw new UsageError('sql wants a query: cawire sql "SELECT count(*) FROM messages" DIR (cawire sql --examples)');
      if (inputs.length === 0) throw new UsageError('sql wants a dataset folder (cawire export DIR …) or captures to query');
      let dataset = inputs.length === 1 && isDataset(inputs[0]!) ? inputs[0]! : undefined;
      let temporary: string | undefined;
      try {
        if (!dataset) {
          temporary = mkdtempSync(join(tmpdir(), 'cawire-sql-'));
          const run = await stoppedBySignals((stop) => exportCaptures(temporary!, inputs, o, stop));
          if (!run) throw new UsageError('stopped by a signal before the captures were exported: no query run');
          if (!o.quiet) process.stderr.write(`${exportLine('a temporary dataset', run.committed)}\n`);
          dataset = temporary;
        }
        const r = await querySql(dataset, query, o.parquet);
        const out = new LineWriter();
        if (typeof r === 'number') {
          if (!o.quiet) process.stderr.write(`cawire: wrote ${r} row(s) to ${o.parquet}\n`);
        } else out.line(formatSqlResult(o.json ? 'json' : o.csv ? 'csv' : 'table', r));
        await out.end();
      } finally {
        if (temporary) rmSync(temporary, { recursive: true, force: true });
      }
    });
  });
}
