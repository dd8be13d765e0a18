// `cawire compare` on the command line: the JSON the issue names, and captures with nothing in common.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HAVE_SHARED, SHARED, SKIP_REASON } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const S = join(SHARED, 'corpus/scenarios');
const cawire = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe.skipIf(!HAVE_SHARED)(`cawire compare ${HAVE_SHARED ? '' : SKIP_REASON}`, () => {
  it('prints one JSON object with the keys the issue lists', () => {
    const r = cawire('compare', '--json', join(S, 'twopoint_lossy.client.pcap'), join(S, 'twopoint_lossy.server.pcap'));
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.clock_offset_source).toBe('estimated');
    expect(typeof j.clock_offset_s).toBe('number');
    for (const dir of [j.client_to_server, j.server_to_client, j.servers[0].client_to_server, j.servers[0].server_to_client]) {
      expect(Object.keys(dir.owd_ms)).toEqual(expect.arrayContaining(['min', 'p50', 'p90', 'p99', 'max']));
    }
    expect([j.client_to_server.packets, j.client_to_server.lost_packets]).toEqual([158, 3]);
    expect([j.server_to_client.packets, j.server_to_client.lost_packets]).toEqual([7201, 149]);
    expect(j.servers[0].server).toBe('10.9.2.2:5064');
  });

  it('--clock-offset 0 is given; --raw gives a row per matched packet', () => {
    const j = JSON.parse(cawire('compare', '--json', '--clock-offset', '0', join(S, 'twopoint_lossy.client.pcap'), join(S, 'twopoint_lossy.server.pcap')).stdout);
    expect(j.clock_offset_source).toBe('given');
    expect(j.clock_offset_s).toBe(0);
    const raw = cawire('compare', '--raw', '--csv', join(S, 'twopoint_lossy.client.pcap'), join(S, 'twopoint_lossy.server.pcap'));
    expect(raw.stdout.trimEnd().split('\n')).toHaveLength(1 + 158 + 7201);
  });

  it('captures of different traffic: one line, exit 2', () => {
    const r = cawire('compare', join(S, 'twopoint_lossy.client.pcap'), join(S, 'flaky_connect.server.pcap'));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^cawire: .*no CA packet in common/);
  });

  const A = join(S, 'twopoint_lossy.client.pcap');
  const B = join(S, 'twopoint_lossy.server.pcap');

  it('--slower-than and --interval in the JSON: the slow pairs with their legs and frames, the intervals adding up', () => {
    const r = cawire('compare', '--json', '--slower-than', '100ms', '--interval', '1s', A, B);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    // The .txt: CreateChan 126/126, ReadNotify 126/126, EventAdd 3 at both points.
    expect(Object.fromEntries(j.pairs.by_kind.map((k: { kind: string; pairs: number }) => [k.kind, k.pairs]))).toEqual({ create: 126, read: 126, subscribe: 3 });
    expect(j.slow_pairs.length).toBeGreaterThan(0);
    for (const p of j.slow_pairs) {
      expect(p.total_ms).toBeGreaterThan(100);
      expect(p.blame).toBe('network');
      expect(Math.abs(p.to_server_ms + p.server_ms + p.to_client_ms - p.total_ms)).toBeLessThan(1e-5);
      expect(p.frames_a).toMatch(/^\d+,\d+$/);
      expect(p.frames_b).toMatch(/^\d+,\d+$/);
      expect(p.request_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    }
    const sum = (dir: string, key: string) => j.intervals.filter((i: Record<string, unknown>) => i.direction === dir).reduce((n: number, i: Record<string, number>) => n + i[key]!, 0);
    expect([sum('client_to_server', 'packets'), sum('client_to_server', 'lost_packets')]).toEqual([158, 3]);
    expect([sum('server_to_client', 'packets'), sum('server_to_client', 'lost_packets')]).toEqual([7201, 149]);
  });

  it('--pv selects the pairs of those PVs', () => {
    const j = JSON.parse(cawire('compare', '--json', '--pv', 'TP:ai', A, B).stdout);
    // TP:ai: one camonitor (create, subscribe) and 30 caget runs (create, read).
    expect(Object.fromEntries(j.pairs.by_kind.map((k: { kind: string; pairs: number }) => [k.kind, k.pairs]))).toEqual({ create: 31, read: 30, subscribe: 1 });
    expect(j.client_to_server.packets).toBe(158);
  });

  it('--plot draws the delay over time, both directions, every loss marked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cawire-compare-plot-'));
    try {
      const file = join(dir, 'owd.svg');
      const r = cawire('compare', '--plot', file, A, B);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(`cawire: wrote ${file}`);
      const svg = readFileSync(file, 'utf8');
      expect(svg.match(/<g class="series"/g)).toHaveLength(4);
      expect(svg.match(/class="mark"/g)).toHaveLength(3 + 149);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('raw rows carry each capture\'s own time to the nanosecond', () => {
    const rows = cawire('compare', '--raw', '--csv', A, B).stdout.split('\n');
    const header = rows[0]!.split(',');
    const first = rows[1]!.split(',');
    expect(first[header.indexOf('time_a')]).toMatch(/\.\d{9}Z$/);
    expect(first[header.indexOf('time_b')]).toMatch(/\.\d{9}Z$/);
  });

  it('usage errors: one line, exit 2', () => {
    for (const args of [
      ['--plot', 'owd.txt'],
      ['--csv', '--slower-than', '100ms', '--interval', '1s'],
      ['--raw', '--slower-than', '100ms'],
    ]) {
      const r = cawire('compare', ...args, A, B);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^cawire: /);
    }
  });
});
