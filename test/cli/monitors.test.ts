// `cawire monitors` and print's mcsd-style extraction (--src/--dst/--sport/--dport, {payload}, {data}),
// on slow_consumer.client.pcap, against the facts of slow_consumer.txt.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCsvList } from '../../src/output/csv-list.js';
import { HAVE_SHARED, SHARED, SKIP_REASON } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const SLOW = join(SHARED, 'corpus/scenarios/slow_consumer.client.pcap');

function cawire(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, COLUMNS: '120' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const lines = (text: string) => text.trimEnd().split('\n');
const json = (text: string) => lines(text).map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(!HAVE_SHARED)(`print: mcsd-style extraction (${SKIP_REASON})`, () => {
  it("{data[0]} of TP:cnt's updates is the mcsd pipeline: one jump, 244 to 475, in frame 3627", () => {
    const r = cawire('print', '--command', 'EventAddResponse', '--pv', 'TP:cnt', '-f', '{frame} {data[0]}', SLOW);
    expect(r.code).toBe(0);
    const rows = lines(r.out).map((l) => l.split(' ').map(Number) as [number, number]);
    // slow_consumer.txt: "TP:cnt: 300 updates, first value 25, last 554"; "values 245..474 never sent (the update in frame 3627 jumps from 244 to 475)"
    expect(rows).toHaveLength(300);
    expect([rows[0]![1], rows.at(-1)![1]]).toEqual([25, 554]);
    // mcsd's awk: $NF != p + 1 { print p + 1 "-" $NF - 1 }
    const jumps = rows.slice(1).flatMap(([frame, v], i) => (v !== rows[i]![1] + 1 ? [[frame, rows[i]![1] + 1, v - 1]] : []));
    expect(jumps).toEqual([[3627, 245, 474]]);
  });

  it('{payload:OFF:LEN} is the payload bytes as hex: the DBR_TIME_DOUBLE value at offset 16', () => {
    const r = cawire('print', '--command', 'EventAddResponse', '--pv', 'TP:cnt', '-f', '{frame} {payload:16:8}', SLOW);
    // 244 and 475 as IEEE 754 doubles, big-endian (Python: struct.pack('>d', 244).hex())
    expect(lines(r.out).filter((l) => l.startsWith('3627 '))).toEqual(['3627 406e800000000000', '3627 407db00000000000']);
  });

  it('--src/--dst/--sport/--dport select by direction: the IOC sends the 300 + 53 updates, the client the 2 subscriptions', () => {
    const count = (...args: string[]) => lines(cawire('print', ...args, '-f', '{type}', SLOW).out).filter((l) => l !== '').length;
    // slow_consumer.txt: client 10.9.1.2, IOC 10.9.2.2:5064; 300 updates of subscription 1, 53 of subscription 2
    expect(count('--command', 'EventAddResponse', '--src', '10.9.2.2')).toBe(353);
    expect(count('--command', 'EventAddResponse', '--sport', '5064')).toBe(353);
    expect(count('--command', 'EventAddResponse', '--dst', '10.9.2.0/24')).toBe(0);
    expect(count('--command', 'EventAddRequest', '--dport', '5064', '--src', '10.9.1.2')).toBe(2);
    expect(count('--command', 'EventAddRequest', '--sport', '5064')).toBe(0);
    const bad = cawire('print', '--src', '10.9.2', SLOW);
    expect([bad.code, bad.err.trim()]).toEqual([2, "cawire: --src wants an IPv4 address or CIDR block (10.9.0.0/16), not '10.9.2'"]);
  });
});

describe.skipIf(!HAVE_SHARED)(`cawire monitors (${SKIP_REASON})`, () => {
  it('--json --sequence: the keys the issue names, the 38.41 s gap by the zero window, the values never sent', () => {
    const rows = json(cawire('monitors', '--json', '--sequence', SLOW).out);
    // slow_consumer.txt: subscription 1 = TP:cnt, 300 updates, longest gap 38.410 s (frames 2215 -> 2313);
    // subscription 2 = TP:wf, 53 updates, 38.559 s (frames 2211 -> 2313); both on one circuit; TP:cnt 245..474 never sent
    expect(rows.map((r) => [r.pv, r.subscription_id, r.circuit, r.updates, r.longest_gap_frames])).toEqual([
      ['TP:cnt', 1, 1, 300, [2215, 2313]],
      ['TP:wf', 2, 1, 53, [2211, 2313]],
    ]);
    expect(rows.map((r) => Number((r.longest_gap_s as number).toFixed(3)))).toEqual([38.41, 38.559]);
    for (const r of rows) {
      expect(typeof r.rate_hz).toBe('number');
      expect(r.stalls).toEqual([{ start_frame: (r.longest_gap_frames as number[])[0], end_frame: 2313, start: expect.any(String), duration_s: r.longest_gap_s, cause: 'zero window' }]);
    }
    expect(rows[0]!.missing).toEqual([[245, 474]]);
  });

  it('--lag: the updates queued through the 38.31 s zero window lag about that much behind their time stamps', () => {
    const [cnt] = json(cawire('monitors', '--json', '--lag', '--pv', 'TP:cnt', SLOW).out);
    // slow_consumer.txt: the client advertised a zero window from frame 2271 to 2310, 38.31 s
    expect(cnt!.lag_max_s).toBeGreaterThan(38);
    expect(cnt!.lag_max_s).toBeLessThan(38.6);
    const [plain] = json(cawire('monitors', '--json', '--pv', 'TP:cnt', SLOW).out);
    expect(Object.keys(plain!).filter((k) => k.startsWith('lag'))).toEqual([]);
  });

  it('--csv: one row per subscription, the stalls a list cell', () => {
    const [header, ...rows] = lines(cawire('monitors', '--csv', SLOW).out);
    const cols = header!.split(',');
    for (const key of ['pv', 'subscription_id', 'circuit', 'updates', 'rate_hz', 'longest_gap_s', 'longest_gap_frames', 'stalls']) expect(cols).toContain(key);
    expect(rows).toHaveLength(2);
    // no cell here holds a comma: a quoted one is a list
    const cell = (row: string, key: string) => row.split(',')[cols.indexOf(key)]!.replace(/^"(.*)"$/, '$1');
    expect(rows.map((r) => [cell(r, 'pv'), cell(r, 'updates'), parseCsvList(cell(r, 'longest_gap_frames')).join('-')])).toEqual([
      ['TP:cnt', '300', '2215-2313'],
      ['TP:wf', '53', '2211-2313'],
    ]);
    expect(parseCsvList(cell(rows[0]!, 'stalls'))).toEqual([expect.stringMatching(/^2215-2313 38\.410 s zero window$/)]);
  });

  it('--by pv adds up the subscriptions of a PV; --stalls lists each stall', () => {
    const rows = json(cawire('monitors', '--json', '--by', 'pv', SLOW).out);
    expect(rows.map((r) => [r.pv, r.subscriptions, r.updates])).toEqual([
      ['TP:cnt', 1, 300],
      ['TP:wf', 1, 53],
    ]);
    const stalls = json(cawire('monitors', '--json', '--stalls', SLOW).out);
    expect(stalls.map((s) => [s.pv, s.start_frame, s.end_frame, s.cause])).toEqual([
      ['TP:cnt', 2215, 2313, 'zero window'],
      ['TP:wf', 2211, 2313, 'zero window'],
    ]);
  });

  it('--every: the rows so far each interval of capture time, then the whole read', () => {
    const [header, ...rows] = lines(cawire('monitors', '--every', '20s', '--csv', SLOW).out);
    expect(header!.startsWith('report_at,pv,subscription_id,')).toBe(true);
    // the last report is the whole capture: 300 and 53 updates (slow_consumer.txt)
    expect(rows.slice(-2).map((r) => r.split(',').slice(1, 3).concat(r.split(',')[header!.split(',').indexOf('updates')]!))).toEqual([
      ['TP:cnt', '1', '300'],
      ['TP:wf', '2', '53'],
    ]);
    expect(rows.length).toBeGreaterThan(2);
  });

  it('an empty result says so; a bad --plot name is a usage error', () => {
    const none = cawire('monitors', '--pv', 'NO:such', SLOW);
    expect([none.code, none.out.trim()]).toEqual([0, 'no monitor updates found']);
    const bad = cawire('monitors', '--plot', join(tmpdir(), 'x.gif'), SLOW);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^cawire: --plot writes \.svg or \.png files/);
  });

  it('--plot writes SVG and PNG and says where', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cawire-monitors-'));
    for (const name of ['rates.svg', 'rates.png']) {
      const path = join(dir, name);
      const r = cawire('monitors', '--pv', 'TP:cnt', '--plot', path, SLOW);
      expect(r.code).toBe(0);
      expect(r.err).toContain(`cawire: wrote ${path}`);
      const bytes = readFileSync(path);
      if (name.endsWith('.svg')) expect(bytes.toString('utf8', 0, 200)).toMatch(/<svg/);
      else expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    }
  });
});
