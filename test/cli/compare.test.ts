// `cawire compare` on the command line: the JSON the issue names, and captures with nothing in common.

import { spawnSync } from 'node:child_process';
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
});
