// `cawire tcp` on the command line: the trace of one circuit (a golden file), the plot, the JSON keys,
// --slow-handshake and the usage errors. Needs a build (npm run build).
// After a deliberate change of the trace format: UPDATE_GOLDEN=1 npx vitest run test/cli/tcp.test.ts

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HAVE_SHARED, SHARED, SKIP_REASON } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const GOLDEN = fileURLToPath(new URL('./tcp-trace.golden.txt', import.meta.url));
const SCENARIOS = join(SHARED, 'corpus/scenarios');

function cawire(...args: string[]): { out: string; err: string; code: number | null } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, COLUMNS: '120' } });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

describe.skipIf(!HAVE_SHARED)(`cawire tcp (${HAVE_SHARED ? 'corpus' : SKIP_REASON})`, () => {
  const flaky = join(SCENARIOS, 'flaky_connect.client.pcap');
  const slow = join(SCENARIOS, 'slow_consumer.client.pcap');

  it('--trace 12 of flaky_connect.client is the golden file; its flagged frames are tshark\'s', () => {
    const r = cawire('tcp', '--trace', '12', '--wide', '-q', flaky);
    expect(r.code).toBe(0);
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, r.out);
    expect(r.out).toBe(readFileSync(GOLDEN, 'utf8'));
    // `tshark -Y "tcp.port==58758 && tcp.analysis.retransmission"`: 184 186 187 194 196 198 204; lost_segment: 197
    const flagged = (word: string) => r.out.split('\n').filter((l) => l.includes(` ${word}`)).map((l) => Number(/^│\s*(\d+)/.exec(l)![1]));
    expect(flagged('retransmission')).toEqual([184, 186, 187, 194, 196, 198, 204]);
    expect(flagged('gap')).toEqual([197]);
  });

  it('--json: one object per circuit with the keys the issue names; the stall with its held PVs', () => {
    const r = cawire('tcp', '--json', slow);
    expect(r.code).toBe(0);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ circuit: 1, client: '10.9.1.2:53536', server: '10.9.2.2:5064', retransmissions: 6 });
    expect(Object.keys(row.rtt_ms as object)).toEqual(expect.arrayContaining(['min', 'p50', 'p90', 'max']));
    const [stall] = row.stalls as Record<string, unknown>[];
    expect(stall).toMatchObject({ side: 'client', start_frame: 2271, end_frame: 2310, probes: 7 });
    expect(Math.abs((stall!.duration_s as number) - 38.314)).toBeLessThan(0.05);
    expect((stall!.held_pvs as string[]).sort()).toEqual(['TP:cnt', 'TP:wf']);
    expect(Object.keys(stall!)).toEqual(expect.arrayContaining(['start', 'end']));
  });

  it('--plot with --trace writes an SVG and a PNG of the windows, the stall shaded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cawire-tcp-'));
    const svg = join(dir, 'w.svg');
    const png = join(dir, 'w.png');
    for (const file of [svg, png]) {
      const r = cawire('tcp', '--trace', '1', '--plot', file, slow);
      expect(r.code).toBe(0);
      expect(r.err).toContain(`cawire: wrote ${file}`);
    }
    const text = readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(text.trimEnd().endsWith('</svg>')).toBe(true);
    expect(text.match(/<g class="series"/g)).toHaveLength(4);
    expect(text.match(/<rect class="span"/g)).toHaveLength(2); // the two stalls
    expect(readFileSync(png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('--slow-handshake 300ms lists the circuits whose SYN-ACK came later', () => {
    const r = cawire('tcp', '--slow-handshake', '300ms', '--csv', flaky);
    expect(r.code).toBe(0);
    const [head, ...lines] = r.out.trim().split('\n');
    const at = head!.split(',').indexOf('handshake_ms');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => Number(l.split(',')[at]) > 300)).toBe(true);
    const all = cawire('tcp', '--csv', flaky).out.trim().split('\n').slice(1);
    expect(all.filter((l) => Number(l.split(',')[at]) > 300)).toEqual(lines);
  });

  it('usage errors are one line and exit 2', () => {
    for (const args of [['--plot', 'x.svg', slow], ['--trace', '1', '--plot', 'x.gif', slow], ['--trace', '1', slow, slow]]) {
      const r = cawire('tcp', ...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^cawire: .+\n$/);
    }
  });
});
