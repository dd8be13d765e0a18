// --every: the report again each interval of capture time while the capture is
// read, then at its end (src/cli/every.ts, the runner's snapshots).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HAVE_SHARED, REAL, SHARED, SKIP_REASON } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const MULTI = join(REAL, 'multi_ioc.pcap');
const SCENARIOS = join(SHARED, 'corpus/scenarios');

function cawire(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

const jsonRows = (text: string): Record<string, unknown>[] => text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

/** First packet time of a classic pcap (µs), read from its first record header. */
function firstPacket(path: string): number {
  const b = readFileSync(path);
  return b.readUInt32LE(24) + b.readUInt32LE(28) / 1e6;
}

if (!HAVE_SHARED) console.warn(SKIP_REASON);

describe.skipIf(!HAVE_SHARED)('--every', () => {
  it('searches: each snapshot is the report of the capture up to its time (what --until gives), the last one the whole report', () => {
    const r = cawire(['searches', '--json', '--every', '2s', '-q', '-'], readFileSync(MULTI));
    expect(r.code).toBe(0);
    const rows = jsonRows(r.out);
    const times = [...new Set(rows.map((x) => x.report_at as string))];
    // multi_ioc.txt run log: caget rounds from 2.44 s after the first packet, 0.34 s apart: snapshots at +2 s (none
    // yet: an empty report has no JSON rows), +4 s, +6 s …, and one at the end
    expect(times.length).toBeGreaterThan(2);
    for (const at of times.slice(0, -1)) {
      const snapshot = rows.filter((x) => x.report_at === at).map(({ report_at: _, ...rest }) => rest);
      expect(snapshot).toEqual(jsonRows(cawire(['searches', '--json', '--until', at, MULTI]).out));
    }
    const last = rows.filter((x) => x.report_at === times.at(-1)).map(({ report_at: _, ...rest }) => rest);
    expect(last).toEqual(jsonRows(cawire(['searches', '--json', MULTI]).out));
  });

  it('the ticks fall each interval after the first packet; CSV has one header line', () => {
    const r = cawire(['circuits', '--csv', '--every', '3s', '-q', MULTI]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('report_at,'))).toHaveLength(1);
    const first = firstPacket(MULTI);
    const ats = [...new Set(lines.slice(1).map((l) => l.split(',')[0]!))].map((t) => Date.parse(t) / 1000);
    // every snapshot but the last (the end) is a whole number of intervals after the first packet (Date.parse: to the ms)
    expect(ats.length).toBeGreaterThan(2);
    for (const at of ats.slice(0, -1)) expect(Math.abs(at - first - 3 * Math.round((at - first) / 3))).toBeLessThan(0.001);
  });

  it('circuits on slow_consumer.client: a snapshot during the stall shows it open from frame 2271; the end shows it closed by frame 2310 (38.31 s)', () => {
    const r = cawire(['circuits', '--every', '20s', '-q', join(SCENARIOS, 'slow_consumer.client.pcap')]);
    expect(r.code).toBe(0);
    const reports = r.out.split(/^-- report at /m).slice(1);
    expect(reports.length).toBeGreaterThan(1);
    // slow_consumer.txt: the client's zero window from frame 2271 (10.276 s) until frame 2310 (48.590 s)
    expect(reports[0]).toMatch(/client window 0 for [\d.]+ s \(frames 2271-end/);
    expect(reports.at(-1)).toMatch(/^the end, /);
    expect(reports.at(-1)).toMatch(/client window 0 for 38\.31\d s \(frames 2271-2310/);
  });

  it('tcp on slow_consumer.client: the stall in progress in a snapshot (no end yet), closed at frame 2310 at the end', () => {
    const r = cawire(['tcp', '--json', '--every', '20s', '-q', join(SCENARIOS, 'slow_consumer.client.pcap')]);
    expect(r.code).toBe(0);
    const rows = jsonRows(r.out);
    expect(rows.length).toBeGreaterThan(1);
    type Stall = { side: string; start_frame: number; end_frame: number | null };
    const first = (rows[0]!.stalls as Stall[])[0]!;
    // slow_consumer.txt: the client's zero window from frame 2271 until its window update in frame 2310
    expect([first.side, first.start_frame, first.end_frame]).toEqual(['client', 2271, null]);
    const last = (rows.at(-1)!.stalls as Stall[])[0]!;
    expect([last.side, last.start_frame, last.end_frame]).toEqual(['client', 2271, 2310]);
  });

  it('latency on flaky_connect.client: counts grow to the whole report (96 names connected, median 64.773 ms)', () => {
    const r = cawire(['latency', '--kind', 'connect', '--json', '--every', '5s', '-q', join(SCENARIOS, 'flaky_connect.client.pcap')]);
    expect(r.code).toBe(0);
    // the server's rows (a row of its own counts the names never connected)
    const rows = jsonRows(r.out).filter((x) => x.server === '10.9.2.2:5064');
    expect(rows.length).toBeGreaterThan(2);
    const counts = rows.map((x) => x.count as number);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    // flaky_connect.txt: 96 names connected: median 64.773 ms
    expect(rows.at(-1)!.count).toBe(96);
    expect(rows.at(-1)!.p50_ms as number).toBeCloseTo(64.773, 3);
  });

  it('several files without --join: a usage error', () => {
    const r = cawire(['summary', '--every', '10s', MULTI, MULTI]);
    expect([r.code, r.err]).toEqual([2, 'cawire: --every reports on one capture as it is read: a pipe, a file, or rotated files with --join\n']);
  });
});
