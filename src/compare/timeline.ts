// One-way delay over time (--interval, --plot): every match's send time and raw
// delay, every loss's send time, per direction, binned at the end (when the
// clock offset is known) into intervals of A's clock from A's first packet.

import { quantileSorted } from '../analysis/latency-stats.js';
import { DOWN, UP, type Dir } from './packets.js';

export interface IntervalRow {
  /** the interval's start: Unix seconds and nanoseconds on A's clock */
  sec: number;
  nsec: number;
  /** seconds from the first compared packet of A */
  offsetS: number;
  direction: 'client_to_server' | 'server_to_client';
  packets: number;
  lost_packets: number;
  owd_ms: { min: number; p50: number; max: number };
}

/** A growable column of doubles. */
class Column {
  values = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = v;
  }
}

export class DelayTimeline {
  private readonly sentAt = [new Column(), new Column()];
  private readonly raw = [new Column(), new Column()];
  readonly lostAt = [new Column(), new Column()];

  delay(dir: Dir, sentAt: number, raw: number): void {
    this.sentAt[dir]!.push(sentAt);
    this.raw[dir]!.push(raw);
  }

  lost(dir: Dir, sentAt: number): void {
    this.lostAt[dir]!.push(sentAt);
  }

  /** The span of the send times (seconds since the origin, A's clock). */
  span(): { first: number; last: number } {
    let first = Infinity;
    let last = -Infinity;
    for (const c of [...this.sentAt, ...this.lostAt]) {
      for (let i = 0; i < c.length; i++) {
        const t = c.values[i]!;
        if (t < first) first = t;
        if (t > last) last = t;
      }
    }
    return { first, last };
  }

  /**
   * Rows per interval of `seconds` from `start` (seconds since the origin) and
   * direction; delays on one clock by `offset` (A's minus B's). Intervals with
   * nothing sent are left out.
   */
  rows(seconds: number, start: number, originSec: number, offset: number): IntervalRow[] {
    const rows: IntervalRow[] = [];
    const shift = [offset, -offset];
    for (const dir of [UP, DOWN] as Dir[]) {
      const bins = new Map<number, number[]>();
      const lost = new Map<number, number>();
      const at = this.sentAt[dir]!;
      const raw = this.raw[dir]!;
      for (let i = 0; i < at.length; i++) {
        const k = Math.floor((at.values[i]! - start) / seconds);
        const list = bins.get(k);
        if (list) list.push(raw.values[i]! + shift[dir]!);
        else bins.set(k, [raw.values[i]! + shift[dir]!]);
      }
      const lostAt = this.lostAt[dir]!;
      for (let i = 0; i < lostAt.length; i++) {
        const k = Math.floor((lostAt.values[i]! - start) / seconds);
        lost.set(k, (lost.get(k) ?? 0) + 1);
      }
      const keys = [...new Set([...bins.keys(), ...lost.keys()])].sort((x, y) => x - y);
      for (const k of keys) {
        const sorted = Float64Array.from(bins.get(k) ?? []).sort();
        const q = (p: number): number => (sorted.length ? Math.round(quantileSorted(sorted, p) * 1e9) / 1e6 : NaN);
        const offsetS = k * seconds;
        // Exact to the nanosecond: the interval's start in whole nanoseconds from the origin.
        const ns = Math.round((start + offsetS) * 1e9);
        rows.push({
          sec: originSec + Math.floor(ns / 1e9),
          nsec: ns - Math.floor(ns / 1e9) * 1e9,
          offsetS,
          direction: dir === UP ? 'client_to_server' : 'server_to_client',
          packets: sorted.length,
          lost_packets: lost.get(k) ?? 0,
          owd_ms: { min: q(0), p50: q(0.5), max: q(1) },
        });
      }
    }
    return rows.sort((x, y) => x.offsetS - y.offsetS || (x.direction < y.direction ? -1 : 1));
  }
}
