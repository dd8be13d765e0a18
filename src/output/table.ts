// Reports as text tables, CSV or JSON, from one description of columns. A table
// is boxed, with a rule under the head only, and fits the terminal's width:
// its widest columns are narrowed first, text wrapped in them, lists cut with '…'
// (`--wide`: every column as wide as its widest cell, every list whole).

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
  /** the cell as a table shows it, when that differs from the value (e.g. rounded, or with counts); a list as a list cell */
  table?: (row: R) => Cell | readonly ListItem[];
  /** CSV and JSON only: a table shows its facts in another column */
  hideInTable?: boolean;
  /**
   * A cell wider than its column in a table: 'wrap' (text, numbers; the
   * default) onto more lines, or 'cut' (lists; the default for a list value)
   * to one line ending in '…'.
   */
  overflow?: 'wrap' | 'cut';
}

export type ReportFormat = 'table' | 'csv' | 'json';

/** How wide a table may be. */
export interface TableLayout {
  /** terminal columns (terminalWidth()) */
  width: number;
  /** no limit: columns as wide as their widest cell, lists whole (--wide) */
  wide: boolean;
}

/** The width of a table when stdout is no terminal and COLUMNS is not set. */
export const PIPED_WIDTH = 120;

/** The terminal's columns: COLUMNS, else the TTY's width, else PIPED_WIDTH. */
export function terminalWidth(): number {
  const env = Number(process.env.COLUMNS);
  if (Number.isInteger(env) && env > 0) return env;
  const tty = process.stdout.isTTY ? process.stdout.columns : undefined;
  return tty !== undefined && tty > 0 ? tty : PIPED_WIDTH;
}

let wideTables = false;

/** --wide, set once per run by the command line. */
export function setWideTables(wide: boolean): void {
  wideTables = wide;
}

/** A note beside a table, wrapped at spaces to the table's width (unless --wide), continued lines indented by two. */
export function noteLines(note: string, layout: TableLayout = tableLayout()): string {
  if (layout.wide || textWidth(note) <= layout.width) return note;
  const [first, ...rest] = wrap(note, layout.width);
  return [first, ...wrap(rest.join(' '), layout.width - 2).map((l) => `  ${l}`)].join('\n');
}

/** The layout of this run's tables. */
export function tableLayout(): TableLayout {
  return { width: terminalWidth(), wide: wideTables };
}

/** Colour only on a terminal without NO_COLOR. */
function wantColour(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}

const CYAN = ['\u001b[36m', '\u001b[39m'] as const;

/** A cell of the table: its lines, and whether a too-long line is cut rather than wrapped. */
interface TextCell {
  lines: string[];
  cut: boolean;
  /** a list cell: its items, shown as many as fit and "+N more" */
  items?: readonly string[];
}

/** An empty result in a table: one line saying so (`none`, e.g. "no circuits found") instead of a head without rows. */
export function formatTable<R>(allColumns: readonly Column<R>[], rows: readonly R[], layout: TableLayout = tableLayout(), none = 'none found'): string {
  if (rows.length === 0) return none;
  const columns = allColumns.filter((c) => !c.hideInTable);
  const head = columns.map((c): TextCell => ({ lines: c.title.split('\n'), cut: false }));
  const body = rows.map((r) => columns.map((c) => tableCell(c, r, layout.wide)));
  // natural: the widest cell, head included; whole: the widest body cell or head word (the head wrapped);
  // least: the widest word (a number, a time, an address, a word of the head: never broken), a list cut short
  const natural = head.map((h) => widest(h.lines));
  const whole = head.map((h) => longestWord(h));
  const least = [...whole];
  for (const row of body) {
    for (let i = 0; i < row.length; i++) {
      const w = widest(row[i]!.lines);
      natural[i] = Math.max(natural[i]!, w);
      whole[i] = Math.max(whole[i]!, w);
      least[i] = Math.max(least[i]!, longestWord(row[i]!));
    }
  }
  if (layout.wide) return boxed(columns, head, body, natural);
  // Boxed (3 columns of border and padding per column); else plain, columns 2 apart; else a block per row.
  const n = columns.length;
  const inBox = fitWidths(natural, whole, least, layout.width - (3 * n + 1));
  if (inBox) return boxed(columns, head, body, inBox);
  const plainWidths = fitWidths(natural, whole, least, layout.width - 2 * (n - 1));
  if (plainWidths) return plain(columns, head, body, plainWidths);
  return formatRecords(head, body, layout.width);
}

/** Each cell's lines in its column, padded to its width, and the lines of the row they make. */
function rowLines(columns: readonly Column<unknown>[], cells: readonly TextCell[], widths: readonly number[], isHead: boolean, colour: boolean): string[][] {
  const laid = cells.map((c, i) => layOut(c, widths[i]!));
  const height = Math.max(1, ...laid.map((l) => l.length));
  const lines: string[][] = [];
  for (let k = 0; k < height; k++) {
    lines.push(
      laid.map((l, i) => {
        const text = l[k] ?? '';
        const pad = ' '.repeat(Math.max(0, widths[i]! - textWidth(text)));
        const shown = isHead && colour && text ? `${CYAN[0]}${text}${CYAN[1]}` : text;
        return columns[i]!.align === 'right' ? `${pad}${shown}` : `${shown}${pad}`;
      }),
    );
  }
  return lines;
}

/**
 * A boxed table, a rule under the head only, drawn by cli-table3 (compact) from the
 * widths fitWidths chose: each cell comes laid out to its width (layOut), so
 * cli-table3 neither wraps nor cuts; colour for the head and border only on a
 * terminal that wants it (cli-table3 would colour a pipe too).
 */
function boxed<R>(columns: readonly Column<R>[], head: readonly TextCell[], body: readonly TextCell[][], widths: readonly number[]): string {
  const colour = wantColour();
  const lines = (cells: readonly TextCell[]): string[] => cells.map((c, i) => layOut(c, widths[i]!).join('\n'));
  const draw = (withHead: boolean, rows: readonly TextCell[][]): string[] => {
    const table = new Table({
      head: withHead ? lines(head) : [],
      colWidths: widths.map((w) => w + 2),
      colAligns: columns.map((c) => c.align ?? 'left'),
      wordWrap: false,
      truncate: '',
      style: { head: colour ? ['cyan'] : [], border: colour ? ['grey'] : [], compact: true, 'padding-left': 1, 'padding-right': 1 },
    });
    for (const row of rows) table.push(lines(row));
    return table.toString().split('\n');
  };
  if (body.length <= BOX_BLOCK) return draw(true, body).join('\n');
  // cli-table3's layout time grows with the square of the rows: blocks of BOX_BLOCK rows, drawn with the
  // same widths, joined without the borders between them (the head block keeps its top, the last its bottom).
  const out = draw(true, body.slice(0, BOX_BLOCK)).slice(0, -1);
  for (let k = BOX_BLOCK; k < body.length; k += BOX_BLOCK) {
    const block = draw(false, body.slice(k, k + BOX_BLOCK));
    out.push(...block.slice(1, k + BOX_BLOCK < body.length ? -1 : undefined));
  }
  return out.join('\n');
}

/** Rows cli-table3 draws at once (see boxed). */
const BOX_BLOCK = 100;

/** A table without a box, its columns two spaces apart, a rule under the head: for a terminal too narrow for the box. */
function plain<R>(columns: readonly Column<R>[], head: readonly TextCell[], body: readonly TextCell[][], widths: readonly number[]): string {
  const colour = wantColour();
  const cols = columns as readonly Column<unknown>[];
  const out: string[] = [];
  const emit = (cells: readonly TextCell[], isHead: boolean): void => {
    for (const parts of rowLines(cols, cells, widths, isHead, colour)) out.push(parts.join('  ').trimEnd());
  };
  emit(head, true);
  out.push(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const row of body) emit(row, false);
  return out.join('\n');
}

/** The widest text a column keeps unbroken: a longer word (a long PV name) is broken in a wrapped column. */
export const MAX_UNBROKEN = 32;
/**
 * The narrowest a cell is shown without breaking a word (a number, a time, an address), a list with at
 * least its first item and how many more: "0.032 +7 more".
 */
function longestWord(c: TextCell): number {
  if (c.items) {
    const first = c.items.length ? textWidth(c.items[0]!) : 0;
    return Math.min(widest(c.lines), c.items.length > 1 ? first + ` +${c.items.length - 1} more`.length : first);
  }
  if (c.cut) return widest(c.lines);
  let w = 0;
  for (const line of c.lines) for (const word of line.split(' ')) w = Math.max(w, textWidth(word));
  return Math.min(w, MAX_UNBROKEN);
}

/** The total of some column widths. */
const sum = (ws: readonly number[]): number => ws.reduce((a, b) => a + b, 0);

/**
 * Column widths that fit `room` (the width less borders and padding), or
 * undefined when even the narrowest do not: the natural widths if they fit;
 * else heads wrapped first (`whole`), then the widest columns narrowed to a
 * common level, never below `least`.
 */
export function fitWidths(natural: readonly number[], whole: readonly number[], least: readonly number[], room: number): number[] | undefined {
  const lowest = least.map((w, i) => Math.min(w, whole[i]!));
  if (sum(natural) <= room) return [...natural];
  if (sum(lowest) > room) return undefined;
  return sum(whole) <= room ? level(whole, natural, room) : level(lowest, whole, room);
}

/** Widths between `lower` and `upper` that fill `room`: each column up to a common level, the spare leftmost first. */
function level(lower: readonly number[], upper: readonly number[], room: number): number[] {
  const at = (l: number): number[] => upper.map((w, i) => Math.max(lower[i]!, Math.min(w, l)));
  let lo = 0;
  let hi = Math.max(...upper);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sum(at(mid)) <= room) lo = mid;
    else hi = mid - 1;
  }
  const widths = at(lo);
  let spare = room - sum(widths);
  for (let i = 0; i < widths.length && spare > 0; i++) {
    if (upper[i]! > widths[i]!) {
      widths[i]!++;
      spare--;
    }
  }
  return widths;
}

/**
 * A table too wide for the terminal even with its columns at their narrowest:
 * each row as a block of "title  value" lines under a rule naming the row
 * (psql's expanded display), values wrapped or cut to the width.
 */
function formatRecords(head: readonly TextCell[], body: readonly TextCell[][], width: number): string {
  const titles = head.map((h) => h.lines.join(' '));
  const titleWidth = Math.min(Math.max(...titles.map(textWidth)), Math.floor(width / 3));
  const valueWidth = Math.max(1, width - titleWidth - 2);
  const out: string[] = [];
  body.forEach((row, r) => {
    const label = `─ ${r + 1} of ${body.length} `;
    out.push(`${label}${'─'.repeat(Math.max(0, width - textWidth(label)))}`);
    row.forEach((c, i) => {
      const title = layOut({ lines: [titles[i]!], cut: false }, titleWidth);
      const value = layOut(c, valueWidth);
      for (let k = 0; k < Math.max(title.length, value.length); k++) {
        const t = title[k] ?? '';
        const v = value[k] ?? '';
        out.push(`${t}${' '.repeat(titleWidth - textWidth(t))}  ${v}`.trimEnd());
      }
    });
  });
  return out.join('\n');
}

/** A cell's lines in a column `width` wide: cut with '…', or wrapped at spaces (a longer word is broken). */
function layOut(c: TextCell, width: number): string[] {
  const lines: string[] = [];
  for (const line of c.lines) {
    if (textWidth(line) <= width) lines.push(line);
    else if (c.items) lines.push(fitItems(c.items, width));
    else if (c.cut) lines.push(`${fitPrefix(line, width - 1)}…`);
    else lines.push(...wrap(line, width));
  }
  return lines;
}

/** As many of a list's items as fit `width` with "+N more" after them (cut with '…' when not even that fits). */
function fitItems(items: readonly string[], width: number): string {
  let shown = 0;
  let used = 0; // the first `shown` items and the spaces after them
  while (shown < items.length) {
    const next = used + textWidth(items[shown]!) + 1;
    const rest = items.length - shown - 1;
    if (next + (rest ? `+${rest} more`.length : -1) > width) break;
    used = next;
    shown++;
  }
  if (shown === items.length) return items.join(' ');
  const text = `${items.slice(0, shown).join(' ')}${shown ? ' ' : ''}+${items.length - shown} more`;
  return textWidth(text) <= width ? text : `${fitPrefix(text, width - 1)}…`;
}

/** A line wrapped to `width` columns: at spaces, a word longer than the width broken where it must. */
function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    const joined = current ? `${current} ${word}` : word;
    if (textWidth(joined) <= width) {
      current = joined;
      continue;
    }
    if (current) out.push(current);
    let rest = word;
    while (textWidth(rest) > width) {
      const piece = fitPrefix(rest, width) || [...rest][0]!;
      out.push(piece);
      rest = rest.slice(piece.length);
    }
    current = rest;
  }
  out.push(current);
  return out;
}

/** The longest start of `s` at most `width` columns wide. */
function fitPrefix(s: string, width: number): string {
  let used = 0;
  let end = 0;
  for (const ch of s) {
    const w = textWidth(ch);
    if (used + w > width) break;
    used += w;
    end += ch.length;
  }
  return s.slice(0, end);
}

const widest = (lines: readonly string[]): number => lines.reduce((w, l) => Math.max(w, textWidth(l)), 0);

/** Terminal columns of one line of text (string-width; plain ASCII by its length). */
function textWidth(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) return stringWidth(s);
  }
  return s.length;
}

function cell(v: Cell): string {
  if (v === null || v === undefined) return '';
  return String(v);
}

/** A cell as a table shows it: a list as its first items and how many more there are (all with --wide). */
function tableCell<R>(c: Column<R>, r: R, wide: boolean): TextCell {
  const v = c.table ? c.table(r) : c.value(r);
  const list = isList(v);
  const cut = (c.overflow ?? (list ? 'cut' : 'wrap')) === 'cut';
  if (!list) return { lines: cell(v).split('\n'), cut };
  const n = wide ? Infinity : (c.preview ?? Infinity);
  const items = v.map(String);
  return { lines: [v.length > n ? `${items.slice(0, n).join(' ')} +${v.length - n} more` : items.join(' ')], cut, items: cut ? items : undefined };
}

const isList = (v: Cell | readonly ListItem[]): v is readonly ListItem[] => Array.isArray(v);

/** RFC 4180 CSV: fields with commas, quotes or newlines are quoted, quotes doubled; a list is always quoted. */
export function csvField(v: Cell | readonly ListItem[]): string {
  if (isList(v)) return `"${csvList(v).replace(/"/g, '""')}"`;
  const s = cell(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** --every: the column every CSV and JSON row of the reports formatted inside withLeadingColumn begins with (report_at). */
let leading: { key: string; value: string } | undefined;

/** Runs `format` with every CSV/JSON row it formats beginning with the column `key` = `value`. */
export function withLeadingColumn<T>(key: string, value: string, format: () => T): T {
  leading = { key, value };
  try {
    return format();
  } finally {
    leading = undefined;
  }
}

/** A JSON row's first keys: --every's report_at inside withLeadingColumn, else none (for reports that write their JSON rows themselves). */
export function jsonRowStart(): Record<string, unknown> {
  return leading ? { [leading.key]: leading.value } : {};
}

export function formatCsv<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  const first = leading ? `${csvField(leading.key)},` : '';
  const cell = leading ? `${csvField(leading.value)},` : '';
  const lines = [first + columns.map((c) => csvField(c.key ?? c.title)).join(',')];
  for (const r of rows) lines.push(cell + columns.map((c) => csvField(c.value(r))).join(','));
  return lines.join('\n');
}

/** A cell as a JSON value: a list as an array; NaN and infinities as strings (non-finite.ts). */
function jsonCell(v: Cell | readonly ListItem[]): unknown {
  return v === undefined ? null : jsonSafe(v);
}

export function formatJsonRows<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  return rows
    .map((r) => {
      const o = jsonRowStart();
      for (const c of columns) o[c.key ?? c.title] = jsonCell(c.value(r));
      return JSON.stringify(o);
    })
    .join('\n');
}

/** A report's rows; an empty table is the line `none` (CSV: the header alone; JSON: nothing). */
export function formatReport<R>(format: ReportFormat, columns: readonly Column<R>[], rows: readonly R[], none?: string): string {
  if (format === 'csv') return formatCsv(columns, rows);
  if (format === 'json') return formatJsonRows(columns, rows);
  return formatTable(columns, rows, tableLayout(), none);
}
