// Reports as text tables (cli-table3), CSV or JSON, from one description of columns.

import Table from 'cli-table3';
import stringWidth from 'string-width';
import { csvList, type ListItem } from './csv-list.js';
import { jsonSafe } from './non-finite.js';

/** A scalar cell. */
export type Cell = string | number | boolean | null | undefined;
export type { ListItem };

export interface Column<R> {
  /** header text (also the CSV header and JSON key unless `key` is given) */
  title: string;
  key?: string;
  /**
   * The cell: a scalar, or a list (frames, PV names, intervals), which a table
   * shows as its first `preview` items and "+N more", JSON as an array and CSV
   * as its items joined by LIST_SEPARATOR in one quoted field.
   */
  value: (row: R) => Cell | readonly ListItem[];
  /** right-align in tables (numbers) */
  align?: 'left' | 'right';
  /** a list cell in a table: the items shown before "+N more" (default: all) */
  preview?: number;
  /** the cell as a table shows it, when that differs from the value (e.g. rounded, or with counts) */
  table?: (row: R) => Cell;
  /** CSV and JSON only: a table shows its facts in another column */
  hideInTable?: boolean;
}

export type ReportFormat = 'table' | 'csv' | 'json';

/** Colour only on a terminal without NO_COLOR (cli-table3 colours even when piped otherwise). */
function wantColour(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}

/**
 * Rows laid out by one cli-table3 table. Its layout pass compares each cell with
 * every cell of the rows before it, so its time grows with the square of the
 * rows (8,000 rows of 9 columns took 12 s): a longer table is rendered in blocks
 * of this many rows, all with the whole table's column widths, and joined.
 */
export const TABLE_BLOCK_ROWS = 100;

export function formatTable<R>(allColumns: readonly Column<R>[], rows: readonly R[]): string {
  const columns = allColumns.filter((c) => !c.hideInTable);
  const colour = wantColour();
  const head = columns.map((c) => c.title);
  const cells = rows.map((r) => columns.map((c) => tableCell(c, r)));
  const render = (block: string[][], withHead: boolean, colWidths?: number[]): string => {
    const table = new Table({
      head: withHead ? head : [],
      colAligns: columns.map((c) => c.align ?? 'left'),
      style: colour ? { head: ['cyan'] } : { head: [], border: [] },
      ...(colWidths ? { colWidths } : {}),
    });
    table.push(...block);
    return table.toString();
  };
  if (cells.length <= TABLE_BLOCK_ROWS) return render(cells, true);
  // The widths cli-table3 would choose for the whole table: the widest cell of each column and its padding (1 + 1).
  const widths = head.map(textWidth);
  for (const row of cells) for (let i = 0; i < row.length; i++) widths[i] = Math.max(widths[i]!, textWidth(row[i]!));
  const colWidths = widths.map((w) => w + 2);
  // The first block with the head; each next one without its top border (the line between rows, as under
  // the head, stands there instead) and every block but the last without its bottom border.
  const first = render(cells.slice(0, TABLE_BLOCK_ROWS), true, colWidths).split('\n');
  const between = first[2]!;
  const lines = first.slice(0, -1);
  for (let at = TABLE_BLOCK_ROWS; at < cells.length; at += TABLE_BLOCK_ROWS) {
    const block = render(cells.slice(at, at + TABLE_BLOCK_ROWS), false, colWidths).split('\n');
    lines.push(between, ...block.slice(1, at + TABLE_BLOCK_ROWS < cells.length ? -1 : undefined));
  }
  return lines.join('\n');
}

/** Terminal columns of a cell's text, as cli-table3 measures it: its widest line (string-width). */
function textWidth(s: string): number {
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) {
    const c = s.charCodeAt(i);
    ascii = c >= 0x20 && c < 0x7f;
  }
  if (ascii) return s.length;
  let widest = 0;
  for (const line of s.split('\n')) widest = Math.max(widest, stringWidth(line));
  return widest;
}

function cell(v: Cell): string {
  if (v === null || v === undefined) return '';
  return String(v);
}

/** A cell as a table shows it: a list as its first items and how many more there are. */
function tableCell<R>(c: Column<R>, r: R): string {
  if (c.table) return cell(c.table(r));
  const v = c.value(r);
  if (!isList(v)) return cell(v);
  const n = c.preview ?? Infinity;
  return v.length > n ? `${v.slice(0, n).join(' ')} +${v.length - n} more` : v.join(' ');
}

const isList = (v: Cell | readonly ListItem[]): v is readonly ListItem[] => Array.isArray(v);

/** RFC 4180 CSV: fields with commas, quotes or newlines are quoted, quotes doubled; a list is always quoted. */
export function csvField(v: Cell | readonly ListItem[]): string {
  if (isList(v)) return `"${csvList(v).replace(/"/g, '""')}"`;
  const s = cell(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatCsv<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  const lines = [columns.map((c) => csvField(c.key ?? c.title)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(c.value(r))).join(','));
  return lines.join('\n');
}

/** A cell as a JSON value: a list as an array; NaN and infinities as strings (non-finite.ts). */
function jsonCell(v: Cell | readonly ListItem[]): unknown {
  return v === undefined ? null : jsonSafe(v);
}

export function formatJsonRows<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  return rows
    .map((r) => {
      const o: Record<string, unknown> = {};
      for (const c of columns) o[c.key ?? c.title] = jsonCell(c.value(r));
      return JSON.stringify(o);
    })
    .join('\n');
}

export function formatReport<R>(format: ReportFormat, columns: readonly Column<R>[], rows: readonly R[]): string {
  if (format === 'csv') return formatCsv(columns, rows);
  if (format === 'json') return formatJsonRows(columns, rows);
  return formatTable(columns, rows);
}
