// The dataset's schema is written down once (src/export/schema.ts) and the file
// the README points to (docs/dataset-schema.md) is that list; the Parquet files an
// export writes have exactly those columns and types, as DuckDB reads them.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../src/analysis/runner.js';
import { commitExport, stagingFolder } from '../../src/export/commit.js';
import { ExportAnalysis } from '../../src/export/export-analysis.js';
import { DUCKDB_TYPES, TABLES, schemaMarkdown } from '../../src/export/schema.js';
import { HAVE_SHARED, REAL, SHARED } from '../helpers/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'cawire-schema-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the dataset schema', () => {
  it('docs/dataset-schema.md is the schema of src/export/schema.ts', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/dataset-schema.md', import.meta.url)), 'utf8');
    expect(doc).toBe(schemaMarkdown());
  });

  it('names columns in snake_case, once each, with the columns the tests and queries rely on', () => {
    for (const t of TABLES) {
      for (const c of t.columns) expect(c.name, `${t.name}.${c.name}`).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(new Set(t.columns.map((c) => c.name)).size, t.name).toBe(t.columns.length);
    }
    const has = (table: string, column: string) => TABLES.find((t) => t.name === table)!.columns.some((c) => c.name === column);
    const needed = [['messages', 'type'], ['messages', 'pv'], ['messages', 'time'], ['messages', 'frame'], ['pairs', 'kind'], ['pairs', 'server'], ['pairs', 'latency_ms'], ['pairs', 'unanswered'], ['circuits', 'circuit']];
    for (const [t, c] of needed) expect(has(t!, c!), `${t}.${c}`).toBe(true);
  });

  it.skipIf(!HAVE_SHARED)('the files an export writes have those columns and types, as DuckDB reads them', { timeout: 60_000 }, async () => {
    const dataset = join(tmp, 'ds');
    const staging = stagingFolder(dataset, 'test');
    // caget_basic has no flow-control stall: slow_consumer.client's (read after it, as one capture) fills the stalls table
    const r = await runAnalysis([join(REAL, 'caget_basic.pcap'), join(SHARED, 'corpus/scenarios/slow_consumer.client.pcap')], new ExportAnalysis({ staging, host: 'h', run: 'test' }));
    commitExport(dataset, staging, 'h', [r.part]);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      for (const t of TABLES) {
        expect(r.part.rows[t.name], t.name).toBeGreaterThan(0);
        const glob = join(dataset, t.name, '**', '*.parquet');
        const d = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${glob}', hive_partitioning = false)`);
        const described = d.getRowObjectsJS().map((row) => [row.column_name, row.column_type]);
        // Spark, Trino and DuckDB all read these: signed integers, nanosecond timestamps, UTF-8 strings.
        expect(described, t.name).toEqual(t.columns.map((col) => [col.name, DUCKDB_TYPES[col.type]]));
      }
    } finally {
      c.closeSync();
      db.closeSync();
    }
  });
});
