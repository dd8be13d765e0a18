// The one parser of durations and the one of sizes, for every option of every command.
// A duration is a number with a unit (300ms, 250us, 2s, 1.5m, 1h); a bare number is
// seconds, and only where an option accepts it (README says which). A size is bytes,
// with KB/MB/GB (powers of 1000) or KiB/MiB/GiB (powers of 1024).

import { InvalidArgumentError } from 'commander';

/** Seconds per unit; a unit below the second is divided by (1400ms is 1400 / 1e3 = 1.4, not 1400 * 1e-3 = 1.4000000000000001). */
const SECONDS_PER: Readonly<Record<string, number>> = { s: 1, m: 60, min: 60, h: 3600 };
const PER_SECOND: Readonly<Record<string, number>> = { ns: 1e9, us: 1e6, µs: 1e6, ms: 1e3 };

export interface DurationRules {
  /** a bare number (seconds) is refused: for options whose bare numbers once meant milliseconds */
  unitRequired?: boolean;
}

/** '300ms', '250us', '2s', '1m', '1h' (and a bare number of seconds unless refused) -> seconds. */
export function parseDuration(v: string, rules: DurationRules = {}): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|µs|ms|s|min|m|h)?\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError('want a duration such as 300ms, 250us, 2s or 1m');
  if (m[2] === undefined && rules.unitRequired) throw new InvalidArgumentError(`'${v}' has no unit: write ${v}ms or ${v}s`);
  const unit = m[2] ?? 's';
  return unit in PER_SECOND ? Number(m[1]) / PER_SECOND[unit]! : Number(m[1]) * SECONDS_PER[unit]!;
}

const BYTES_PER: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30 };

/** '100MB', '1GB', '64MiB', '2e6', '4096' -> bytes (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024). */
export function parseSize(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*(k|m|g|ki|mi|gi)?b?\s*$/i.exec(v);
  if (!m) throw new InvalidArgumentError('want a size such as 64MiB, 100MB or 4096');
  return Math.round(Number(m[1]) * BYTES_PER[(m[2] ?? '').toLowerCase()]!);
}

/** ISO 8601 (local time unless it names a zone) or Unix seconds, as Unix seconds. */
export function parseTime(v: string): number {
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('want an ISO time (2026-11-23T08:56:00Z) or Unix seconds');
  return ms / 1000;
}

/** A point in capture time: '+30s' (after the capture's first packet, any duration), an ISO time or Unix seconds. */
export function parseTimeBound(v: string): { at: number } | { afterFirst: number } {
  const rel = /^\s*\+(.*)$/.exec(v);
  return rel ? { afterFirst: parseDuration(rel[1]!) } : { at: parseTime(v) };
}

/** '0.25s', '-300us', '0': a duration that may be negative (a clock offset). */
export function parseSignedDuration(v: string): number {
  const neg = v.trim().startsWith('-');
  const s = parseDuration(neg ? v.trim().slice(1) : v);
  return neg ? -s : s;
}
