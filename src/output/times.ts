// Capture times in the reports: one text format, chosen once per run. ISO 8601
// with as many fraction digits as the capture's timestamps have (pcap µs: 6, ns:
// 9; pcapng: its finest if_tsresol), in UTC (`Z`), or with --local in the local
// zone with its offset (`+01:00`). JSON and CSV carry the same strings.

import { isoSecond } from '../../protocols/ca/time.js';
import type { CaptureStats } from '../capture/types.js';

/** Fraction digits when the capture's resolution is not known. */
export const DEFAULT_TIME_DIGITS = 9;

let digits = DEFAULT_TIME_DIGITS;
let local = false;

/** --local: times in the local zone with its offset (set once per run by the command line). */
export function setLocalTimes(on: boolean): void {
  local = on;
}

/** The fraction digits of the captures read (the finest of them): set once they are read, before a report is formatted. */
export function useCaptureTimes(captures: readonly Pick<CaptureStats, 'timeDigits'>[]): void {
  const known = captures.map((c) => c.timeDigits).filter((d): d is number => d !== undefined);
  digits = known.length ? Math.max(...known) : DEFAULT_TIME_DIGITS;
}

/** The local zone's offset from UTC at that time, in minutes (east positive). */
function offsetMinutes(sec: number): number {
  const off = -new Date(sec * 1000).getTimezoneOffset();
  return off === 0 ? 0 : off; // no -0
}

function zone(minutes: number): string {
  if (minutes === 0 && !local) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

function format(sec: number, nsec: number, places: number): string {
  const fraction = places > 0 ? `.${String(nsec).padStart(9, '0').slice(0, places)}` : '';
  if (!local) return `${isoSecond(sec)}${fraction}Z`;
  const off = offsetMinutes(sec);
  return `${isoSecond(sec + off * 60)}${fraction}${zone(off)}`;
}

/** A capture time (Unix seconds and nanoseconds) in this run's format. */
export function formatTime(sec: number, nsec: number): string {
  return format(sec, nsec, digits);
}
