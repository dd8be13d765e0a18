// Turning timed runs into the benchmark table: medians, throughput, the ratio to
// the `cat` floor, and the bars issue 5 sets for each command.

export interface Timing {
  /** wall seconds of each repetition */
  seconds: number[];
  /** peak resident set of each repetition, bytes (undefined when not measured) */
  rssBytes: (number | undefined)[];
}

export interface BenchCase {
  name: string;
  /** the shell command, with FILE for the capture */
  command: string;
  /** whether it reads the capture (throughput columns apply) */
  readsCapture: boolean;
  /** the bar the issue sets, checked against the row */
  bar?: Bar;
  /** how many times the command reads the capture (several files at once); default 1 */
  reads?: number;
  /** run on every core instead of pinned to one (worker threads) */
  allCores?: boolean;
  /** its own peak RSS bar in MB (default RSS_BAR_MB) */
  rssBarMb?: number;
}

export type Bar =
  | { kind: 'messagesPerSec'; min: number }
  /** throughput at least this fraction of the floor's */
  | { kind: 'floorFraction'; min: number }
  | { kind: 'seconds'; max: number };

export interface Row {
  name: string;
  command: string;
  medianSec: number;
  mbPerSec?: number;
  messagesPerSec?: number;
  peakRssMb?: number;
  /** median time / the floor's median time */
  vsFloor?: number;
  /** '' when no bar applies */
  verdict: string;
}

/** The peak RSS every command must stay under on the 1 GB capture (issue 5). */
export const RSS_BAR_MB = 200;

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * One table row per case. `floorSec` is the median time of reading the bytes
 * (`cat FILE > /dev/null`); `bytes` and `messages` describe the capture.
 */
export function rows(cases: readonly { c: BenchCase; t: Timing }[], bytes: number, messages: number, floorSec: number): Row[] {
  return cases.map(({ c, t }) => {
    const medianSec = median(t.seconds);
    const rss = t.rssBytes.filter((r): r is number => r !== undefined);
    const row: Row = { name: c.name, command: c.command, medianSec, verdict: '' };
    if (rss.length > 0) row.peakRssMb = Math.max(...rss) / 2 ** 20;
    if (c.readsCapture) {
      const reads = c.reads ?? 1;
      row.mbPerSec = (reads * bytes) / 1e6 / medianSec;
      row.messagesPerSec = (reads * messages) / medianSec;
      row.vsFloor = medianSec / floorSec;
    }
    row.verdict = verdict(c.bar, row, bytes / 1e6 / floorSec, c.rssBarMb);
    return row;
  });
}

function verdict(bar: Bar | undefined, row: Row, floorMbPerSec: number, rssBarMb = RSS_BAR_MB): string {
  const checks: string[] = [];
  if (bar?.kind === 'messagesPerSec') {
    checks.push(`${row.messagesPerSec! >= bar.min ? 'ok' : 'MISS'} ≥ ${bar.min / 1e6}M msg/s`);
  } else if (bar?.kind === 'floorFraction') {
    const need = floorMbPerSec * bar.min;
    checks.push(`${row.mbPerSec! >= need ? 'ok' : 'MISS'} ≥ ${fixed(need, 0)} MB/s`);
  } else if (bar?.kind === 'seconds') {
    checks.push(`${row.medianSec <= bar.max ? 'ok' : 'MISS'} < ${bar.max * 1000} ms`);
  }
  if (row.peakRssMb !== undefined && row.name !== 'floor') checks.push(`${row.peakRssMb < rssBarMb ? 'ok' : 'MISS'} RSS < ${rssBarMb} MB`);
  return checks.join(', ');
}

function fixed(v: number | undefined, digits: number): string {
  return v === undefined ? '–' : v.toFixed(digits);
}

/** Millions with two decimals ('2.41M'), thousands below a million ('830k'). */
function count(v: number | undefined): string {
  if (v === undefined) return '–';
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${Math.round(v / 1e3)}k`;
}

/** The rows as a Markdown table. */
export function markdownTable(table: readonly Row[]): string {
  const head = ['command', 'median s', 'MB/s', 'CA msg/s', 'peak RSS MB', '× floor', 'bar'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 || i === head.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of table) {
    const cells = [
      `\`${r.command.replace('PIN ', '').replaceAll('|', '\\|')}\``,
      r.medianSec.toFixed(3),
      fixed(r.mbPerSec, 0),
      count(r.messagesPerSec),
      fixed(r.peakRssMb, 0),
      r.vsFloor === undefined ? '–' : r.vsFloor.toFixed(1),
      r.verdict || '–',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Replaces the text between the markers in `doc` (or appends a marked section) with `section`. */
export function replaceSection(doc: string, section: string, start = '<!-- bench:start -->', end = '<!-- bench:end -->'): string {
  const block = `${start}\n${section.trim()}\n${end}`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from >= 0 && to > from) return doc.slice(0, from) + block + doc.slice(to + end.length);
  return `${doc.trimEnd()}${doc.trim() ? '\n\n' : ''}${block}\n`;
}
