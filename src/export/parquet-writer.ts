// Writing a table of the export dataset as Parquet files, one per (host, hour)
// partition, with hyparquet-writer (pure JS, so it runs on the worker threads as
// it does here; chosen by measurement, see BENCHMARKS.md). Rows are gathered in
// column buffers and written as a row group when `rowGroupRows` are buffered, or
// when the table's rows move on to another hour: at most one partition of a
// table holds buffered rows, so memory stays bounded however long the capture.
// Files are written under a staging folder and renamed into the dataset only
// when the whole export has ended (commit.ts).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { ColumnSpec, TableSpec } from './schema.js';
import { collectGarbage } from '../dissect/dissector.js';

/** Node 22.15+ has zstd in zlib: ZSTD there, Snappy (built into hyparquet-writer) on Node 20. */
const zstdCompress = (zlib as unknown as { zstdCompressSync?: (b: Uint8Array) => Buffer }).zstdCompressSync;
export const PARQUET_CODEC: 'ZSTD' | 'SNAPPY' = zstdCompress ? 'ZSTD' : 'SNAPPY';
const COMPRESSORS = zstdCompress ? { ZSTD: (b: Uint8Array) => new Uint8Array(zstdCompress(b)) } : {};

/** Rows per row group of the messages table (about 20 MB of column buffers; 65,536 took the peak RSS near the 300 MB bar); the other tables are smaller. */
export const DEFAULT_ROW_GROUP_ROWS = 32768;

const TWO_32 = 4294967296;

/** Row groups (of any table) between two forced garbage collections, and how many were written. */
const COLLECT_EVERY_GROUPS = 4;
let groupsWritten = 0;

function schemaElement(c: ColumnSpec): SchemaElement {
  const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (c.type) {
    case 'timestamp':
      return { name: c.name, type: 'INT64', repetition_type, logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'NANOS' } };
    case 'int64':
      return { name: c.name, type: 'INT64', repetition_type };
    case 'int32':
      return { name: c.name, type: 'INT32', repetition_type };
    case 'double':
      return { name: c.name, type: 'DOUBLE', repetition_type };
    case 'string':
      return { name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type };
    case 'boolean':
      return { name: c.name, type: 'BOOLEAN', repetition_type };
  }
}

/** The Parquet schema of a table. */
export function parquetSchema(t: TableSpec): SchemaElement[] {
  return [{ name: 'root', num_children: t.columns.length }, ...t.columns.map(schemaElement)];
}

/**
 * One column's values of the row group being gathered. A required 64-bit column
 * is a BigInt64Array written through its 32-bit halves (no BigInt per value);
 * nullable columns are plain arrays with nulls.
 */
class ColumnBuffer {
  /** required int64/timestamp: the BigInt64Array's two 32-bit halves */
  halves?: Uint32Array;
  big?: BigInt64Array;
  i32?: Int32Array;
  f64?: Float64Array;
  list?: unknown[];

  constructor(
    readonly spec: ColumnSpec,
    readonly capacity: number,
  ) {
    const wide = spec.type === 'int64' || spec.type === 'timestamp';
    if (spec.nullable || spec.type === 'string' || spec.type === 'boolean') this.list = [];
    else if (wide) {
      this.big = new BigInt64Array(capacity);
      this.halves = new Uint32Array(this.big.buffer);
    } else if (spec.type === 'int32') this.i32 = new Int32Array(capacity);
    else this.f64 = new Float64Array(capacity);
  }

  data(rows: number): unknown {
    return this.list ?? (this.big ?? this.i32 ?? this.f64)!.subarray(0, rows);
  }
}

/** Nanoseconds since the Unix epoch of (sec, nsec) as the low and high 32 bits, exactly (sec * 1e9 overflows a double's 53 bits). */
function nanosHalves(sec: number, nsec: number, out: Uint32Array, at: number): void {
  // sec * 1e9 = sec * 1953125 * 2^9; sec * 1953125 < 2^53 for any capture time.
  const m = sec * 1953125;
  const mHi = Math.floor(m / 8388608); // m / 2^23
  let lo = (m - mHi * 8388608) * 512 + nsec;
  let hi = mHi;
  if (lo >= TWO_32) {
    lo -= TWO_32;
    hi += 1;
  }
  out[at] = lo;
  out[at + 1] = hi;
}

/** (sec, nsec) of float Unix seconds (microsecond-exact for today's times). */
function splitSeconds(t: number): [number, number] {
  const sec = Math.floor(t);
  let nsec = Math.round((t - sec) * 1e6) * 1000;
  if (nsec >= 1e9) nsec = 999_999_000;
  return [sec, nsec];
}

/** A non-negative integer as the two 32-bit halves of an int64. */
function intHalves(v: number, out: Uint32Array, at: number): void {
  const hi = Math.floor(v / TWO_32);
  out[at] = v - hi * TWO_32;
  out[at + 1] = hi;
}

/**
 * Min/max statistics (what lets an engine skip row groups) for the times and
 * frames only: computing them for every column was about a tenth of the export.
 */
function withStatistics(c: ColumnSpec): boolean {
  return c.type === 'timestamp' || c.name.endsWith('frame');
}

/**
 * Times and frames rise row by row: delta-encoded, without the dictionary
 * hyparquet-writer would otherwise try (and drop) for them; the rest its choice.
 */
function encodingOf(c: ColumnSpec): 'DELTA_BINARY_PACKED' | 'PLAIN' | undefined {
  if (!c.nullable && (c.type === 'timestamp' || c.name.endsWith('frame'))) return 'DELTA_BINARY_PACKED';
  if (c.type === 'double') return 'PLAIN';
  return undefined;
}

/** One Parquet file of a partition, being written row group by row group. */
export class PartitionFile {
  /** the row group being gathered (made at its first row, dropped when written: a partition between groups holds no buffers) */
  private buffers?: ColumnBuffer[];
  private writer?: ParquetWriter;
  private rowsBuffered = 0;
  rows = 0;
  private row = 0;

  constructor(
    private readonly table: TableSpec,
    /** where it is written (the staging folder) */
    readonly path: string,
    /** where it goes in the dataset, relative to its folder */
    readonly relative: string,
    private readonly rowGroupRows: number,
  ) {
  }

  private col(i: number): ColumnBuffer {
    return (this.buffers ??= this.table.columns.map((c) => new ColumnBuffer(c, this.rowGroupRows)))[i]!;
  }

  // ---- one row: set each column by its index, then end() -------------------

  int(i: number, v: number): void {
    const c = this.col(i);
    if (c.list) c.list.push(c.spec.type === 'int64' ? BigInt(v) : v);
    else if (c.halves) intHalves(v, c.halves, 2 * this.row);
    else c.i32![this.row] = v;
  }

  double(i: number, v: number): void {
    const c = this.col(i);
    if (c.list) c.list.push(v);
    else c.f64![this.row] = v;
  }

  str(i: number, v: string): void {
    this.col(i).list!.push(v);
  }

  bool(i: number, v: boolean): void {
    this.col(i).list!.push(v);
  }

  /** a timestamp from capture seconds and nanoseconds */
  time(i: number, sec: number, nsec: number): void {
    const c = this.col(i);
    if (c.list) c.list.push(BigInt(sec) * 1_000_000_000n + BigInt(nsec));
    else nanosHalves(sec, nsec, c.halves!, 2 * this.row);
  }

  /** a timestamp from float Unix seconds */
  seconds(i: number, t: number): void {
    const [sec, nsec] = splitSeconds(t);
    this.time(i, sec, nsec);
  }

  /** null (a nullable column) */
  none(i: number): void {
    this.col(i).list!.push(null);
  }

  /** The row is complete; a full row group is written. */
  end(): void {
    this.row++;
    this.rows++;
    this.rowsBuffered++;
    if (this.rowsBuffered === this.rowGroupRows) this.flush();
  }

  /** Writes the rows buffered as a row group. */
  flush(): void {
    const n = this.rowsBuffered;
    if (n === 0) return;
    if (!this.writer) {
      mkdirSync(join(this.path, '..'), { recursive: true });
      this.writer = new ParquetWriter({
        writer: fileWriter(this.path),
        schema: parquetSchema(this.table),
        codec: PARQUET_CODEC,
        compressors: COMPRESSORS,
        createdBy: 'cawire export (hyparquet-writer)',
      });
    }
    this.writer.write({
      columnData: this.buffers!.map((c) => ({ name: c.spec.name, data: c.data(n) as never, statistics: withStatistics(c.spec), encoding: encodingOf(c.spec) })),
      rowGroupSize: n,
    });
    this.buffers = undefined;
    this.rowsBuffered = 0;
    this.row = 0;
    // Encoding a row group leaves tens of MB of garbage, which V8 lets pile up while allocation runs this
    // fast (peak RSS 286 MiB on the 1 GB bench capture); a full collection every 4 groups: 233 MiB, about 10% more time.
    if (++groupsWritten % COLLECT_EVERY_GROUPS === 0) collectGarbage();
  }

  /** Writes the last row group and the footer. */
  close(): void {
    this.flush();
    this.writer?.finish();
  }
}

/** UTC hour of Unix seconds, as a partition value: '2026-12-03T09'. */
export function hourOf(sec: number): string {
  return new Date(Math.floor(sec / 3600) * 3600 * 1000).toISOString().slice(0, 13);
}

/** A table's partition files, by hour; rows of one hour at a time are buffered. */
export class TableWriter {
  private readonly files = new Map<string, PartitionFile>();
  private current?: PartitionFile;
  private currentHour = NaN;

  constructor(
    readonly table: TableSpec,
    private readonly staging: string,
    private readonly host: string,
    /** file name stem: part-KEY-RUN */
    private readonly stem: string,
    private readonly rowGroupRows: number,
  ) {}

  /** The partition file of the hour of Unix second `sec` (the one before it written out when the hour changes). */
  at(sec: number): PartitionFile {
    const hour = Math.floor(sec / 3600);
    if (hour === this.currentHour) return this.current!;
    this.current?.flush();
    const key = hourOf(sec);
    let f = this.files.get(key);
    if (!f) {
      const relative = join(this.table.name, `host=${this.host}`, `hour=${key}`, `${this.stem}-${this.files.size}.parquet`);
      f = new PartitionFile(this.table, join(this.staging, relative), relative, this.rowGroupRows);
      this.files.set(key, f);
    }
    this.current = f;
    this.currentHour = hour;
    return f;
  }

  /** Closes every file; their paths relative to the dataset, with their rows. */
  close(): { relative: string; rows: number }[] {
    const out: { relative: string; rows: number }[] = [];
    for (const f of this.files.values()) {
      f.close();
      if (f.rows > 0) out.push({ relative: f.relative, rows: f.rows });
    }
    return out;
  }
}
