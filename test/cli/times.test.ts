// One time format in every report: ISO 8601 with the capture's own precision, UTC, or --local with the zone's offset.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HAVE_SHARED, REAL } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));

function cawire(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '-q'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '120', ...env } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const UTC = { TZ: 'UTC' };
const csvRow = (text: string, n: number) => text.trimEnd().split('\n')[n]!;

describe.skipIf(!HAVE_SHARED)('report times', { timeout: 60_000 }, () => {
  // caget_basic.txt and caget_basic.nano.txt: first packet 2026-11-23 08:54:20.564423(000), last 08:54:28.244563(000),
  // the same capture written with µs and with ns timestamps (and by tshark as pcapng, if_tsresol 6).
  const micro = join(REAL, 'caget_basic.pcap');
  const nano = join(REAL, 'caget_basic.nano.pcap');
  const pcapng = join(REAL, 'caget_basic.tshark.pcapng');

  it('µs captures: 6 fraction digits; ns captures: 9, in tables, CSV and JSON alike', () => {
    expect(csvRow(cawire(UTC, 'summary', '--csv', micro), 1)).toBe('capture,CA traffic,2026-11-23T08:54:20.564423Z - 2026-11-23T08:54:28.244563Z,7.680 s,,,');
    expect(csvRow(cawire(UTC, 'summary', '--csv', pcapng), 1)).toBe('capture,CA traffic,2026-11-23T08:54:20.564423Z - 2026-11-23T08:54:28.244563Z,7.680 s,,,');
    expect(csvRow(cawire(UTC, 'summary', '--csv', nano), 1)).toBe(
      'capture,CA traffic,2026-11-23T08:54:20.564423000Z - 2026-11-23T08:54:28.244563000Z,7.680 s,,,',
    );
    // the first beacon is the first packet
    expect(cawire(UTC, 'beacons', '--timeline', micro).split('\n')[0]).toContain(' 2026-11-23T08:54:20.564423Z frame 1 ');
    expect(cawire(UTC, 'beacons', '--timeline', nano).split('\n')[0]).toContain(' 2026-11-23T08:54:20.564423000Z frame 1 ');
    const first = (f: string) => JSON.parse(cawire(UTC, 'beacons', '--json', f).split('\n')[0]!).first_seen;
    expect([first(micro), first(nano)]).toEqual(['2026-11-23T08:54:20.564423Z', '2026-11-23T08:54:20.564423000Z']);
    expect(cawire(UTC, 'summary', micro).split('\n').slice(3, 5)).toEqual([
      '│ CA traffic   │                     2026-11-23T08:54:20.564423Z - │ 7.680 s                                           │',
      '│              │                       2026-11-23T08:54:28.244563Z │                                                   │',
    ]);
  });

  it('latency request_time: an ISO string in JSON as in CSV and tables (it was a Unix float in JSON)', () => {
    const row = JSON.parse(cawire(UTC, 'latency', '--raw', '--json', micro).split('\n')[0]!);
    expect(row.request_time).toMatch(/^2026-11-23T08:54:2\d\.\d{6}Z$/);
    expect(csvRow(cawire(UTC, 'latency', '--raw', '--csv', micro), 1).split(',')[5]).toBe(row.request_time);
  });

  it('--local: the local zone with its offset (TZ), in every format; UTC is Z', () => {
    const ny = { TZ: 'America/New_York' };
    expect(csvRow(cawire(ny, 'summary', '--csv', '--local', micro), 1)).toBe(
      'capture,CA traffic,2026-11-23T03:54:20.564423-05:00 - 2026-11-23T03:54:28.244563-05:00,7.680 s,,,',
    );
    expect(csvRow(cawire({ TZ: 'Asia/Kolkata' }, 'summary', '--csv', '--local', nano), 1)).toBe(
      'capture,CA traffic,2026-11-23T14:24:20.564423000+05:30 - 2026-11-23T14:24:28.244563000+05:30,7.680 s,,,',
    );
    expect(csvRow(cawire(UTC, 'summary', '--csv', '--local', micro), 1)).toContain('2026-11-23T08:54:20.564423+00:00 - ');
    // without --local the zone does not matter
    expect(cawire(ny, 'summary', '--csv', micro)).toBe(cawire(UTC, 'summary', '--csv', micro));
    expect(JSON.parse(cawire(ny, 'latency', '--raw', '--json', '--local', micro).split('\n')[0]!).request_time).toMatch(/^2026-11-23T03:54:2\d\.\d{6}-05:00$/);
  });
});
