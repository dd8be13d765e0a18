// Every report through the one runner, from the command line: --join, several files, filters, --by.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HAVE_SHARED, REAL } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cawire-runner-cli-'));
const MULTI = join(REAL, 'multi_ioc.pcap');

function cawire(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

/** multi_ioc.pcap cut into two pcap files at record `at` (0-based). */
function halves(at: number): [string, string] {
  const bytes = readFileSync(MULTI);
  const ends: number[] = [];
  for (let off = 24; off < bytes.length; off += 16 + bytes.readUInt32LE(off + 8)) ends.push(off);
  const a = join(dir, 'a.pcap');
  const b = join(dir, 'b.pcap');
  writeFileSync(a, Buffer.concat([bytes.subarray(0, 24), bytes.subarray(24, ends[at])]));
  writeFileSync(b, Buffer.concat([bytes.subarray(0, 24), bytes.subarray(ends[at])]));
  return [a, b];
}

describe.skipIf(!HAVE_SHARED)('reports through the runner (CLI)', () => {
  it('--join of two pieces (named out of order) prints the unsplit capture\'s reports and says how it joined them', () => {
    const [a, b] = halves(500);
    for (const report of [['summary', '--json'], ['circuits', '--csv'], ['latency', '--kind', 'all', '--json'], ['searches']]) {
      const joined = cawire([...report, '--join', b, a]);
      expect(joined.code).toBe(0);
      // the summary's commands name the capture when it is one file
      expect(joined.out).toBe(cawire([...report, MULTI]).out.replaceAll(` ${MULTI}`, ''));
    }
    const circuits = cawire(['circuits', '--json', '--join', b, a]);
    expect(circuits.out).toBe(cawire(['circuits', '--json', MULTI]).out);
    // multi_ioc.txt: 1006 packets; the pieces hold records 1-500 and 501-1006, read back to back (no gap)
    expect(circuits.err).toBe(`cawire: joined 2 files as one capture in time order, frames numbered on as mergecap -a numbers them: ${a} (frames 1-500), ${b} (frames 501-1006)\n`);
  });

  it('several files without --join: each its own capture, every row naming its file', () => {
    const [a, b] = halves(500);
    const r = cawire(['circuits', '--csv', '--jobs', '2', a, b]);
    expect(r.code).toBe(0);
    const rows = r.out.trimEnd().split('\n').slice(1);
    const whole = cawire(['circuits', '--csv', MULTI]).out.trimEnd().split('\n').length - 1;
    // multi_ioc.txt: 60 circuits; one cut by the split is seen in both files
    expect(rows.filter((l) => l.startsWith(`${a},`)).length + rows.filter((l) => l.startsWith(`${b},`)).length).toBe(rows.length);
    expect(rows.length).toBeGreaterThanOrEqual(whole);
  });

  it('filters on every report: --port 41233 is IOC2 (20 circuits, 40 creations), --host CIDR on print', () => {
    expect(cawire(['circuits', '--csv', '--port', '41233', MULTI]).out.trimEnd().split('\n')).toHaveLength(21);
    const lat = JSON.parse(cawire(['latency', '--json', '--port', '41233', MULTI]).out);
    expect([lat.server, lat.count]).toEqual(['127.0.0.1:41233', 40]);
    // multi_ioc.txt tally: every CA message is on 127.0.0.0/8; 10.0.0.0/8 holds none
    expect(cawire(['print', '--host', '10.0.0.0/8', MULTI]).out).toBe('');
    expect(cawire(['print', '--host', '127.0.0.0/8', MULTI]).out).toBe(cawire(['print', MULTI]).out);
  });

  it('--by host and --by user on circuits: one client host, user root on host vm, 60 circuits', () => {
    const host = cawire(['circuits', '--by', 'host', '--json', MULTI]).out.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(host.map((r) => [r.client_host, r.circuits, r.channels_created])).toEqual([['127.0.0.1', 60, 120]]);
    const user = cawire(['circuits', '--by', 'user', '--json', MULTI]).out.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(user.map((r) => [r.client_user, r.circuits])).toEqual([['root@vm', 60]]);
  });

  it('--duration on a pipe: the report covers the first 5 s of capture time', () => {
    // multi_ioc.txt run log: caget rounds from 2.44 s after the first packet, 0.34 s apart: 8 begin in the first 5 s
    const r = cawire(['searches', '--json', '--duration', '5s', '-'], readFileSync(MULTI));
    expect(r.code).toBe(0);
    const rows = r.out.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.searches)).toEqual([8, 8, 8, 8, 8, 8]);
  });

  it('print --join of two pieces prints the unsplit capture, frames numbered on', () => {
    const [a, b] = halves(500);
    for (const args of [[], ['--json'], ['-f', '{frame} {time} {command}']]) {
      const joined = cawire(['print', ...args, '--join', b, a]);
      expect(joined.code).toBe(0);
      expect(joined.out).toBe(cawire(['print', ...args, MULTI]).out);
    }
  });

  it('print --since/--until/--duration: the lines of the whole print inside that capture time', () => {
    const bytes = readFileSync(MULTI);
    // the first packet's time, from its record header (classic pcap, µs)
    const first = bytes.readUInt32LE(24) + bytes.readUInt32LE(28) / 1e6;
    const all = cawire(['print', MULTI]).out.trimEnd().split('\n');
    const within = (from: number, to: number) => all.filter((l) => Number(l.split(' ')[0]) >= first + from && Number(l.split(' ')[0]) < first + to);
    const window = cawire(['print', '--since', '+3s', '--until', '+4s', MULTI]).out.trimEnd().split('\n');
    expect(window.length).toBeGreaterThan(10);
    expect(window).toEqual(within(3, 4));
    const piped = cawire(['print', '--duration', '3s', '-q', '-'], bytes).out.trimEnd().split('\n');
    expect(piped).toEqual(within(0, 3));
    // on several files, relative bounds are each file's own
    const [a, b] = halves(500);
    const firstB = readFileSync(b).readUInt32LE(24) + readFileSync(b).readUInt32LE(28) / 1e6;
    const several = cawire(['print', '--until', '+1s', a, b]).out.trimEnd().split('\n');
    const times = several.map((l) => Number(l.split(' ')[0]));
    expect(times.every((t) => t < first + 1 || (t >= firstB && t < firstB + 1))).toBe(true);
    expect(times.some((t) => t >= firstB)).toBe(true);
  });
});
