import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { twoServerScenario } from '../analysis/ca-scenario.js';
import { searchCapture } from '../analysis/report-captures.js';
import { CAPUT_WRITE_OUTCOMES } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const corpus = new URL('../../../shared/corpus/real/', import.meta.url);
const real = (name: string): string => new URL(name, corpus).pathname;
const dir = mkdtempSync(join(tmpdir(), 'cawire-latency-'));
const FILE = join(dir, 'two-servers.pcap');
writeFileSync(FILE, twoServerScenario());
const SEARCHES = join(dir, 'searches.pcap');
writeFileSync(SEARCHES, searchCapture());

/** Node start-ups (and danfo.js with --danfo, about 1 s of CPU) on a busy machine. */
const SLOW = { timeout: 60_000 };

function latency(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'latency', ...args], { encoding: 'utf8', env: { ...process.env, COLUMNS: '120' } });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

describe('cawire latency', SLOW, () => {
  it('prints the unanswered count, then CreateChan statistics per server in ms (caproto benchmark style)', () => {
    const r = latency(FILE);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        '0 channel creation requests were unanswered',
        '┌───────────────┬───────┬───────┬───────┬───────┬───────┬───────┬───────┬───────┐',
        '│ server        │ count │  mean │   std │   min │   25% │   50% │   75% │   max │',
        '├───────────────┼───────┼───────┼───────┼───────┼───────┼───────┼───────┼───────┤',
        '│ 10.0.0.1:5064 │     6 │ 2.000 │ 0.000 │ 2.000 │ 2.000 │ 2.000 │ 2.000 │ 2.000 │',
        '│ 10.0.0.2:5064 │     6 │ 6.000 │ 1.095 │ 5.000 │ 5.000 │ 6.000 │ 7.000 │ 7.000 │',
        '└───────────────┴───────┴───────┴───────┴───────┴───────┴───────┴───────┴───────┘',
        '',
      ].join('\n'),
    );
  });

  it('--kind and --csv give other pairs as CSV statistics, full precision', () => {
    const r = latency('--kind', 'connect', '--csv', FILE);
    expect(r.out).toBe(
      [
        'server,count,mean_ms,std_ms,min_ms,p25_ms,p50_ms,p75_ms,max_ms,unanswered,conflicts,conflict_frames',
        '10.0.0.1:5064,6,102,0,102,102,102,102,102,0,,',
        '10.0.0.2:5064,6,106,1.0954451150103321,105,105,106,107,107,0,,',
        '',
      ].join('\n'),
    );
  });

  it('--kind all --by pv --json: one JSON line per kind and group; a single value has no std ("NaN")', () => {
    const lines = latency('--kind', 'all', '--by', 'pv', '--json', FILE).out.trim().split('\n').map((l) => JSON.parse(l));
    // search 12 PVs, handshake 1 (no PV), create 12, read 12, write 6, subscribe 6, echo 1 (no PV), connect 12
    expect(lines).toHaveLength(62);
    expect(lines.find((l) => l.kind === 'write' && l.pv === 'A:pv3')).toEqual({
      kind: 'write',
      pv: 'A:pv3',
      count: 1,
      mean_ms: 4,
      std_ms: 'NaN',
      min_ms: 4,
      p25_ms: 4,
      p50_ms: 4,
      p75_ms: 4,
      max_ms: 4,
      unanswered: 0,
      conflicts: null,
      conflict_frames: null,
    });
    expect(lines.filter((l) => l.kind === 'echo')).toEqual([
      { kind: 'echo', pv: '', count: 6, mean_ms: 0.5, std_ms: 0, min_ms: 0.5, p25_ms: 0.5, p50_ms: 0.5, p75_ms: 0.5, max_ms: 0.5, unanswered: 0, conflicts: null, conflict_frames: null },
    ]);
  });

  it('--danfo computes the statistics through danfo.js: the same table, CSV and JSON as the default', () => {
    for (const args of [['--kind', 'all'], ['--kind', 'all', '--by', 'pv', '--csv'], ['--kind', 'connect', '--json']]) {
      const plain = latency(...args, FILE);
      const viaDanfo = latency(...args, '--danfo', FILE);
      expect(plain.out.split('\n').length).toBeGreaterThan(2);
      expect(viaDanfo.code).toBe(0);
      expect(viaDanfo.out).toBe(plain.out);
    }
  });

  it('--slower-than lists each slower pair with its frame numbers', () => {
    const r = latency('--slower-than', '6.5ms', '--csv', FILE);
    expect(r.out).toBe(
      [
        'kind,pv,client,server,circuit,request_time,latency_ms,request_frame,response_frame,outcome',
        'create,B:pv1,10.0.1.2:41001,10.0.0.2:5064,4,2023-11-14T22:13:21.600000000Z,7,82,84,ok',
        'create,B:pv3,10.0.1.2:41003,10.0.0.2:5064,8,2023-11-14T22:13:23.600000000Z,7,174,176,ok',
        'create,B:pv5,10.0.1.2:41005,10.0.0.2:5064,12,2023-11-14T22:13:25.600000000Z,7,266,268,ok',
        '',
      ].join('\n'),
    );
    // units: bare numbers are ms; us and s work too
    expect(latency('--slower-than', '6500us', '--csv', FILE).out).toBe(r.out);
    expect(latency('--slower-than', '0.0065s', '--csv', FILE).out).toBe(r.out);
    // a bare number was milliseconds here: it is refused rather than read as seconds
    expect(latency('--slower-than', '6.5', '--csv', FILE)).toEqual({ out: '', err: "cawire: option '--slower-than <duration>' argument '6.5' is invalid. '6.5' has no unit: write 6.5ms or 6.5s\n", code: 2 });
  });

  it('--raw lists every pair in request order with outcome, as JSON Lines', () => {
    const lines = latency('--raw', '--kind', 'read', '--json', FILE).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.pv} ${l.latency_ms} ${l.outcome}`)).toEqual(
      [0, 1, 2, 3, 4, 5].flatMap((i) => [`A:pv${i} 3 ECA_NORMAL`, `B:pv${i} 6 ECA_GETFAIL`]),
    );
    expect(lines[0]).toEqual({
      kind: 'read',
      pv: 'A:pv0',
      client: '10.0.1.1:40000',
      server: '10.0.0.1:5064',
      circuit: 1,
      request_time: '2023-11-14T22:13:20.200000000Z', // 1700000000.2: an ISO string, as in CSV and tables, with the capture's ns digits
      latency_ms: 3,
      request_frame: 10,
      response_frame: 12,
      outcome: 'ECA_NORMAL',
    });
  });

  it('--since and --until (Unix seconds or ISO) keep the requests sent in that window', () => {
    const r = latency('--since', '1700000001', '--until', '2023-11-14T22:13:23Z', '--csv', FILE);
    expect(r.out).toBe(
      [
        'server,count,mean_ms,std_ms,min_ms,p25_ms,p50_ms,p75_ms,max_ms,unanswered,conflicts,conflict_frames',
        '10.0.0.1:5064,2,2,0,2,2,2,2,2,0,,',
        '10.0.0.2:5064,2,6,1.4142135623730951,5,5.5,6,6.5,7,0,,',
        '',
      ].join('\n'),
    );
  });

  it('--json/--csv: the notes beside the search table (unanswered, names answered by two servers) are row keys', () => {
    // searchCapture: GONE:pv searched by two clients and OK:pv searched again at frame 41, never answered: 3 unanswered;
    // DUP:pv answered by 10.0.0.1:5064 and, in frame 3, by 10.0.0.2:5070.
    const table = latency('--kind', 'search', '-q', SEARCHES).out.split('\n');
    expect([table[0], ...table.slice(-3, -1)]).toEqual(['3 searches were unanswered', '1 name was answered by more than one server:', '  DUP:pv (client 10.0.0.9:50000, frame 3): 10.0.0.1:5064, 10.0.0.2:5070']);
    const rows = (...args: string[]) => latency('--kind', 'search', '--json', '-q', ...args, SEARCHES).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows().map((r) => [r.server, r.count, r.unanswered, r.conflicts, r.conflict_frames])).toEqual([
      ['10.0.0.1:5064', 33, 0, 1, [3]],
      ['', 0, 3, 0, []],
    ]);
    const byPv = rows('--by', 'pv').filter((r) => r.unanswered || r.conflicts);
    expect(byPv.map((r) => [r.pv, r.count, r.unanswered, r.conflict_frames])).toEqual([
      ['DUP:pv', 1, 0, [3]],
      ['OK:pv', 2, 1, []],
      ['GONE:pv', 0, 2, []],
    ]);
    // Other kinds have no search conflicts: null, not 0.
    const others = latency('--kind', 'all', '--json', '-q', FILE).out.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind !== 'search');
    expect(new Set(others.map((r) => r.kind))).toEqual(new Set(['handshake', 'create', 'read', 'write', 'subscribe', 'echo', 'connect']));
    expect(others.map((r) => [r.conflicts, r.conflict_frames])).toEqual(others.map(() => [null, null]));
  });

  it('--timeout reports slow requests as unanswered and their replies as orphans', () => {
    const r = latency('--kind', 'connect', '--timeout', '106ms', FILE);
    expect(r.out.split('\n')[0]).toBe('3 searched channels never connected');
    expect(r.out).toContain('│ 10.0.0.2:5064 │     3 │ 105.000 │');
    expect(r.err).toBe('cawire: replies whose request is not in the capture (or came after --timeout): connect 3\n');
    const quiet = latency('--kind', 'connect', '--timeout', '106ms', '--raw', '--csv', '-q', FILE);
    expect(quiet.err).toBe('');
    expect(quiet.out.trim().split('\n').slice(1).map((l) => l.split(',')[6])).toEqual(['102', '105', '102', '102', '105', '102', '102', '105', '102']);
  });

  it('--plot draws one CDF per server', () => {
    const svg = join(dir, 'create.svg');
    const r = latency('--plot', svg, FILE);
    expect(r.code).toBe(0);
    const text = readFileSync(svg, 'utf8');
    expect([...text.matchAll(/<g class="series" data-name="([^"]+)">\n<path class="cdf"/g)].map((m) => m[1])).toEqual(['10.0.0.1:5064', '10.0.0.2:5064']);
    expect(text).toContain('>CreateChan latency per server</text>');
  });

  it('refuses unusable arguments with a one-line message', () => {
    expect(latency('--plot', join(dir, 'x.gif'), FILE)).toEqual({ out: '', err: `cawire: --plot writes .svg or .png files, not '${join(dir, 'x.gif')}'\n`, code: 2 });
    expect(latency('--since', '2024-01-01', '--until', '2023-01-01', FILE)).toEqual({ out: '', err: 'cawire: --since must be earlier than --until\n', code: 2 });
    expect(latency('--unanswered', '--raw', FILE).err).toBe('cawire: --unanswered lists requests without replies; it does not combine with --raw or --slower-than\n');
    // commander's own parse errors: exit status 2 like every usage error
    const bad = latency('--slower-than', 'soon', FILE);
    expect(bad.err).toBe("cawire: option '--slower-than <duration>' argument 'soon' is invalid. want a duration such as 300ms, 250us, 2s or 1m\n");
    expect(bad.code).toBe(2);
    expect(latency('--since', 'yesterday', FILE).err).toBe("cawire: option '--since <time>' argument 'yesterday' is invalid. want an ISO time (2026-11-23T08:56:00Z) or Unix seconds\n");
    expect(latency('--kind', 'get', FILE).err).toContain("argument 'get' is invalid. Allowed choices are search, handshake, create, read, write, subscribe, echo, connect, all.");
  });
});

describe.skipIf(!existsSync(corpus))('cawire latency on the real captures', SLOW, () => {
  it('caget_basic: 16 channels, none unanswered', () => {
    const r = latency(real('caget_basic.pcap'));
    expect(r.out.split('\n')[0]).toBe('0 channel creation requests were unanswered');
    expect(r.out).toContain('│ 127.0.0.1:5064 │    16 │ 0.395 │ 0.479 │ 0.067 │ 0.077 │ 0.091 │ 1.083 │ 1.083 │'); // median 0.0915 shown to µs
  });

  it('search_notfound --unanswered lists the 5 names never found with client and no server', () => {
    const r = latency('--kind', 'search', '--unanswered', '--csv', real('search_notfound.pcap'));
    expect(r.out).toBe(
      [
        'kind,pv,client,server,request_time,request_frame,reason',
        'search,NOPE:one,127.0.0.1:54035,,2026-11-23T08:55:54.140889Z,2,end-of-capture',
        'search,NOPE:two,127.0.0.1:54035,,2026-11-23T08:55:54.140889Z,2,end-of-capture',
        'search,NOPE:three,127.0.0.1:54035,,2026-11-23T08:55:54.140889Z,2,end-of-capture',
        'search,NOPE:cainfo,127.0.0.1:43988,,2026-11-23T08:55:57.651475Z,27,end-of-capture',
        'search,DOES:NOT:EXIST,127.0.0.1:57164,,2026-11-23T08:56:00.163347Z,50,end-of-capture',
        '',
      ].join('\n'),
    );
    expect(latency('--kind', 'search', real('search_notfound.pcap')).out.split('\n')[0]).toBe('5 searches were unanswered');
  });

  it('search_notfound --json: the unanswered line above the table is the rows\' `unanswered`, the 5 names in a row of their own', () => {
    const rows = latency('--kind', 'search', '--json', '-q', real('search_notfound.pcap')).out.trim().split('\n').map((l) => JSON.parse(l));
    // search_notfound.txt: TEST:ai and TEST:bi found on the first search (2 pairs); five names never answered, searched
    // without a server to ask, so their row's server is empty; no statistics without a pair.
    expect(rows.map((r) => [r.server, r.count, r.unanswered, r.conflicts, r.conflict_frames])).toEqual([
      ['127.0.0.1:5064', 2, 0, 0, []],
      ['', 0, 5, 0, []],
    ]);
    expect(rows[1]).toMatchObject({ mean_ms: 'NaN', std_ms: 'NaN', min_ms: 'NaN', max_ms: 'NaN' });
    const csv = latency('--kind', 'search', '--csv', '-q', real('search_notfound.pcap')).out.trim().split('\n');
    expect(csv.at(-1)).toBe(',0,NaN,NaN,NaN,NaN,NaN,NaN,NaN,5,0,""');
  });

  it('caput: 2 of 6 WriteNotify replies are ECA_PUTFAIL', () => {
    const r = latency('--kind', 'write', '--raw', '--csv', real('caput.pcap'));
    const rows = r.out.trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows.map((f) => `${f[1]} ${f[9]}`)).toEqual(CAPUT_WRITE_OUTCOMES);
  });

  it('flaky_connect: the .txt connect figures, and --unanswered names the four names of each of its 16 failed processes', () => {
    const file = fileURLToPath(new URL('../scenarios/flaky_connect.client.pcap', corpus));
    const stats = latency('--kind', 'connect', '--csv', '-q', file).out.trim().split('\n')[1]!.split(',');
    // count, min, median, max: the .txt says 96, 0.520, 64.773, 1258.276 ms
    expect([stats[1], ...[4, 6, 8].map((i) => Number(stats[i]).toFixed(3))]).toEqual(['96', '0.520', '64.773', '1258.276']);
    const rows = latency('--kind', 'connect', '--unanswered', '--csv', '-q', file).out.trim().split('\n');
    expect(rows[0]).toBe('kind,pv,client,server,request_time,request_frame,reason');
    const names = new Map<string, string[]>();
    for (const f of rows.slice(1).map((l) => l.split(','))) names.set(f[2]!.split(':')[1]!, [...(names.get(f[2]!.split(':')[1]!) ?? []), f[1]!]);
    const failed = '33433, 34504, 35003, 35395, 38131, 38163, 40734, 41780, 43695, 45723, 48002, 52909, 54333, 56790, 58807, 60985'.split(', ');
    expect([...names.keys()].sort()).toEqual(failed);
    expect([...names.values()].every((n) => n.join(' ') === 'TP:ai TP:ao TP:lo TP:so')).toBe(true);
  });

  it('multi_ioc: one row per server, 40 channels each', () => {
    const rows = latency('--csv', real('multi_ioc.pcap')).out.trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 2).join(' '));
    expect(rows).toEqual(['127.0.0.1:5064 40', '127.0.0.1:38231 40', '127.0.0.1:41233 40']);
  });
});
