// Reports as text tables (cli-table3), CSV or JSON, from one description of columns.

import Table from 'cli-table3';

export interface Column<R> {
  /** header text (also the CSV header and JSON key unless `key` is given) */
  title: string;
  key?: string;
  value: (row: R) => string | number | boolean | null | undefined;
  /** right-align in tables (numbers) */
  align?: 'left' | 'right';
}

export type ReportFormat = 'table' | 'csv' | 'json';

/** Colour only on a terminal without NO_COLOR (cli-table3 colours even when piped otherwise). */
function wantColour(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}

export function formatTable<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  const colour = wantColour();
  const table = new Table({
    head: columns.map((c) => c.title),
    colAligns: columns.map((c) => c.align ?? 'left'),
    style: colour ? { head: ['cyan'] } : { head: [], border: [] },
  });
  for (const r of rows) table.push(columns.map((c) => cell(c.value(r))));
  return table.toString();
}

function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  return String(v);
}

/** RFC 4180 CSV: fields with commas, quotes or newlines are quoted, quotes doubled. */
export function csvField(v: string | number | boolean | null | undefined): string {
  const s = cell(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatCsv<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  const lines = [columns.map((c) => csvField(c.key ?? c.title)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(c.value(r))).join(','));
  return lines.join('\n');
}

export function formatJsonRows<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  return rows
    .map((r) => {
      const o: Record<string, unknown> = {};
      for (const c of columns) o[c.key ?? c.title] = c.value(r) ?? null;
      return JSON.stringify(o);
    })
    .join('\n');
}

export function formatReport<R>(format: ReportFormat, columns: readonly Column<R>[], rows: readonly R[]): string {
  if (format === 'csv') return formatCsv(columns, rows);
  if (format === 'json') return formatJsonRows(columns, rows);
  return formatTable(columns, rows);
}
