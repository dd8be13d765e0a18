// An empty result says so in one line (table format); CSV prints the header alone, JSON nothing. --plot says where it wrote.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HAVE_SHARED, REAL } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));

function cawire(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, COLUMNS: '120' } });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

describe.skipIf(!HAVE_SHARED)('empty results and --plot', { timeout: 60_000 }, () => {
  const caput = join(REAL, 'caput.pcap');

  it('caput: CreateChan at most 1187 us (caput.txt): none slower than 2ms, one slower than 1ms', () => {
    expect(cawire('latency', '--slower-than', '2ms', '-q', caput)).toEqual({ out: 'no pairs slower than 2 ms found\n', err: '', code: 0 });
    expect(cawire('latency', '--slower-than', '2ms', '--csv', '-q', caput).out).toBe(
      'kind,pv,client,server,circuit,request_time,latency_ms,request_frame,response_frame,outcome\n',
    );
    expect(cawire('latency', '--slower-than', '2ms', '--json', '-q', caput).out).toBe('');
    const one = cawire('latency', '--slower-than', '1ms', '--csv', '-q', caput).out.trimEnd().split('\n');
    expect(one).toHaveLength(2);
    expect(one[1]!.split(',')[6]).toBe('1.187');
  });

  it('caput: one server, so no name answered by two; no reset circuits; no search storm', () => {
    expect(cawire('searches', '--duplicates', '-q', caput).out).toBe('no names answered by more than one server found\n');
    expect(cawire('circuits', '--ended-by-rst', '-q', caput).out).toBe('no circuits cut by a reset found\n');
    expect(cawire('circuits', '--ended-by-rst', '--json', '-q', caput).out).toBe('');
    expect(cawire('searches', '--storm', '1000', '-q', caput).out).toBe('no search storms (over 1000 searches in 1 s) found\n');
  });

  it('--plot says on stderr where it wrote (not with -q)', () => {
    const svg = join(mkdtempSync(join(tmpdir(), 'cawire-plot-')), 'latency.svg');
    const r = cawire('latency', '--plot', svg, caput);
    expect(r.err.split('\n')).toContain(`cawire: wrote ${svg}`);
    expect(existsSync(svg)).toBe(true);
    expect(cawire('latency', '--plot', svg, '-q', caput).err).toBe('');
  });
});
