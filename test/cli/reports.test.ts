import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { circuitCapture, putFailCapture, restartCapture, searchCapture, serverCloseCapture } from '../analysis/report-captures.js';
import { parseCsvList } from '../../src/output/csv-list.js';
import { HAVE_SHARED, PUBLIC, REAL, SHARED } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cawire-reports-'));

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const SEARCHES = file('searches.pcap', searchCapture());
const BEACONS = file('beacons.pcap', restartCapture());
const CIRCUITS = file('circuits.pcap', circuitCapture());
const PUTS = file('puts.pcap', putFailCapture());
const CLOSES = file('closes.pcap', serverCloseCapture());
const SCENARIOS = join(SHARED, 'corpus/scenarios');

function cawire(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, COLUMNS: '120' } });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

const lines = (text: string) => text.trimEnd().split('\n');

/**
 * search_notfound.pcap's search datagrams per client port, as `tshark -Y udp.dstport==5064 -T fields -e frame.time_epoch`
 * gives their times (microseconds past 1795424150 s): the client's back-off is the time between one and the next.
 */
const SEARCH_FRAME_TIMES = {
  54035: [4140889, 4172880, 4236885, 4364868, 4620874, 5132887, 6156891],
  43988: [7651475, 7683466, 7747461, 7875443, 8131453, 8643465],
  57164: [10163347, 10195331, 10259338, 10387333, 10643329, 11155338, 12179342, 14227343, 18323320],
} as const;
const intervals = (us: readonly number[]): number[] => us.slice(1).map((t, i) => (t - us[i]!) / 1e6);
const json = (text: string) => lines(text).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('cawire searches', () => {
  it('prints a table per PV name by default, with the other views named under it', () => {
    const r = cawire('searches', '--top', '2', SEARCHES);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(lines(r.out)).toEqual([
      // COLUMNS=120: the heads wrapped to fit
      '┌─────────┬──────────┬─────────┬─────────────────────────────┬──────────┬─────────┬───────────────┬─────────┬──────────┐',
      '│ PV      │ searches │ clients │ first seen                  │    first │    last │ answered by   │ replies │ reply ms │',
      '│         │          │         │                             │    frame │   frame │               │         │ (median) │',
      '├─────────┼──────────┼─────────┼─────────────────────────────┼──────────┼─────────┼───────────────┼─────────┼──────────┤',
      '│ GONE:pv │        5 │       2 │ 2023-11-14T22:13:20.000000Z │        1 │       8 │               │       0 │          │',
      '│ OK:pv   │        3 │       2 │ 2023-11-14T22:13:20.000000Z │        1 │      41 │ 10.0.0.1:5064 │       2 │     1.25 │',
      '└─────────┴──────────┴─────────┴─────────────────────────────┴──────────┴─────────┴───────────────┴─────────┴──────────┘',
      '2 name(s) searched for without a reply: cawire searches --unanswered',
      '1 name(s) answered by more than one server: cawire searches --duplicates',
    ]);
  });

  it('--duplicates: one row per server that answered the name, with the frame of its first reply', () => {
    expect(cawire('searches', '--duplicates', '--csv', SEARCHES).out).toBe(
      [
        'pv,server,replies,first_reply,first_reply_frame,reply_ms',
        'DUP:pv,10.0.0.1:5064,1,2023-11-14T22:13:20.001000Z,2,1',
        'DUP:pv,10.0.0.2:5070,1,2023-11-14T22:13:20.002000Z,3,2',
        '',
      ].join('\n'),
    );
  });

  it('--clients and --storm as JSON Lines', () => {
    // Every name, most searched for first, and the counts in the same order (the table shows the first three with counts).
    const storm = Array.from({ length: 30 }, (_, i) => `STORM:${i}`).sort();
    expect(json(cawire('searches', '--clients', '--json', SEARCHES).out).map((r) => [r.client, r.searches, r.rate, r.peak, r.top_names, r.top_name_counts])).toEqual([
      ['10.0.0.7:50002', 30, 103.45, 30, storm, storm.map(() => 1)],
      ['10.0.0.9:50000', 5, 52.08, 5, ['GONE:pv', 'DUP:pv', 'OK:pv'], [3, 1, 1]],
      ['10.0.0.8:50001', 4, 1.6, 3, ['GONE:pv', 'OK:pv'], [2, 2]],
    ]);
    const wide = lines(cawire('searches', '--clients', '--wide', SEARCHES).out);
    expect(wide[3]).toMatch(/^│ 10\.0\.0\.7:50002 .*│ STORM:0 x1 STORM:1 x1 STORM:10 x1 STORM:11 x1 .* STORM:9 x1 │$/);
    expect(wide[4]).toMatch(/^│ 10\.0\.0\.9:50000 .*│ GONE:pv x3 DUP:pv x1 OK:pv x1 +│$/);
    // too wide for a box in 120 columns: columns two spaces apart, the names most searched for first, the rest counted
    expect(lines(cawire('searches', '--clients', SEARCHES).out)).toEqual([
      'client          searches  names  first seen                   first   last  searches/s  peak  top names',
      '                                                              frame  frame              in 1',
      '                                                                                           s',
      '──────────────  ────────  ─────  ───────────────────────────  ─────  ─────  ──────────  ────  ──────────────────────────',
      '10.0.0.7:50002        30     30  2023-11-14T22:13:22.000000Z      9     38      103.45    30  STORM:0 x1 +29 more',
      '10.0.0.9:50000         5      3  2023-11-14T22:13:20.000000Z      1      5       52.08     5  GONE:pv x3 +2 more',
      '10.0.0.8:50001         4      2  2023-11-14T22:13:20.500000Z      6     41         1.6     3  GONE:pv x2 OK:pv x2',
    ]);
    expect(json(cawire('searches', '--storm', '10', '--json', SEARCHES).out)).toEqual([
      {
        from: '2023-11-14T22:13:22.000000Z',
        first_frame: 9,
        to: '2023-11-14T22:13:23.000000Z',
        last_frame: 41,
        searches: 31,
        peak: 30,
        clients: 2,
        top_names: ['OK:pv', ...storm],
        top_name_counts: [1, ...storm.map(() => 1)],
      },
    ]);
  });

  it('refuses two views at once, and bad numbers', () => {
    // commander's usage errors: the documented status is 2 (see the report to the lead on main.ts)
    const both = cawire('searches', '--unanswered', '--duplicates', SEARCHES);
    expect([both.out, both.err]).toEqual(['', "cawire: option '--unanswered' cannot be used with option '--duplicates'\n"]);
    expect(both.code).not.toBe(0);
    expect(cawire('searches', '--top', '0', SEARCHES).err).toBe("cawire: option '--top <n>' argument '0' is invalid. wants a whole number above 0.\n");
    expect(cawire('searches', '--json', '--csv', SEARCHES).err).toBe("cawire: option '--json' cannot be used with option '--csv'\n");
  });

  it.skipIf(!HAVE_SHARED)('search_notfound --unanswered: the 5 names, their search counts and back-off, and the note on stderr', () => {
    const r = cawire('searches', '--unanswered', '--csv', join(REAL, 'search_notfound.pcap'));
    const backoff = (ports: keyof typeof SEARCH_FRAME_TIMES) => intervals(SEARCH_FRAME_TIMES[ports]).join('|');
    expect(lines(r.out)).toEqual([
      'pv,client,searches,first_seen,first_frame,last_frame,backoff_s,name_answered',
      `DOES:NOT:EXIST,127.0.0.1:57164,9,2026-11-23T08:56:00.163347Z,50,59,"${backoff(57164)}",false`,
      `NOPE:one,127.0.0.1:54035,7,2026-11-23T08:55:54.140889Z,2,19,"${backoff(54035)}",false`,
      `NOPE:three,127.0.0.1:54035,7,2026-11-23T08:55:54.140889Z,2,19,"${backoff(54035)}",false`,
      `NOPE:two,127.0.0.1:54035,7,2026-11-23T08:55:54.140889Z,2,19,"${backoff(54035)}",false`,
      `NOPE:cainfo,127.0.0.1:43988,6,2026-11-23T08:55:57.651475Z,27,42,"${backoff(43988)}",false`,
    ]);
    expect(r.err).toBe('cawire: not decoded: 1 packet neither TCP nor UDP\n');
    // The table shows them to the ms, as before.
    expect(cawire('searches', '--unanswered', '--wide', '-q', join(REAL, 'search_notfound.pcap')).out).toContain('│ 0.032 0.064 0.128 0.256 0.512 1.024 2.048 4.096 │');
  });

  it.skipIf(!HAVE_SHARED)('search_notfound --unanswered --json: the back-off of each name as an array of seconds', () => {
    const rows = json(cawire('searches', '--unanswered', '--json', '-q', join(REAL, 'search_notfound.pcap')).out);
    expect(rows.map((r) => [r.pv, r.backoff_s])).toEqual([
      ['DOES:NOT:EXIST', intervals(SEARCH_FRAME_TIMES[57164])],
      ['NOPE:one', intervals(SEARCH_FRAME_TIMES[54035])],
      ['NOPE:three', intervals(SEARCH_FRAME_TIMES[54035])],
      ['NOPE:two', intervals(SEARCH_FRAME_TIMES[54035])],
      ['NOPE:cainfo', intervals(SEARCH_FRAME_TIMES[43988])],
    ]);
  });

  it.skipIf(!HAVE_SHARED)('search_notfound: the notes under the names table are row keys in JSON and CSV', () => {
    const path = join(REAL, 'search_notfound.pcap');
    expect(lines(cawire('searches', '-q', path).out).at(-1)).toBe('5 name(s) searched for without a reply: cawire searches --unanswered');
    const rows = json(cawire('searches', '--json', '-q', path).out);
    // search_notfound.txt: NOPE:one/two/three, NOPE:cainfo and DOES:NOT:EXIST never answered, each searched by one client;
    // TEST:ai and TEST:bi found on the first search, by the one IOC.
    expect(rows.map((r) => [r.pv, r.answered_by, r.unanswered_clients])).toEqual([
      ['DOES:NOT:EXIST', [], 1],
      ['NOPE:one', [], 1],
      ['NOPE:three', [], 1],
      ['NOPE:two', [], 1],
      ['NOPE:cainfo', [], 1],
      ['TEST:ai', ['127.0.0.1:5064'], 0],
      ['TEST:bi', ['127.0.0.1:5064'], 0],
    ]);
    const csv = lines(cawire('searches', '--csv', '-q', path).out);
    expect(csv[0]).toBe('pv,searches,clients,first_seen,first_frame,last_frame,answered_by,replies,reply_ms,unanswered_clients');
    expect(csv.at(-1)).toMatch(/^TEST:bi,1,1,[^,]+,27,27,"127\.0\.0\.1:5064",1,0\.057,0$/);
  });
});

describe('cawire beacons', () => {
  it('--timeline prints one casw-style line per beacon, anomalies starred', () => {
    const r = cawire('beacons', '--timeline', BEACONS);
    const server = '10.0.0.1:5064'.padEnd(40);
    expect(lines(r.out)).toEqual([
      `  ${server} 2023-11-14T22:13:20.000000Z frame 2 id=100 first`,
      `  ${server} 2023-11-14T22:13:35.000000Z frame 3 id=101 period=15.000000 copies=1`,
      `  ${server} 2023-11-14T22:13:50.000000Z frame 5 id=102 period=15.000000 estimate=15.000000`,
      `  ${server} 2023-11-14T22:14:05.000000Z frame 6 id=103 period=15.000000 estimate=15.000000`,
      `  ${server} 2023-11-14T22:14:20.000000Z frame 7 id=104 period=15.000000 estimate=15.000000`,
      `  ${server} 2023-11-14T22:15:05.000000Z frame 8 id=107 discarded (skip) missed=2`,
      `* ${server} 2023-11-14T22:15:20.000000Z frame 9 id=108 period=60.000000 estimate=15.000000 missing ANOMALY`,
      `* ${server} 2023-11-14T22:16:35.000000Z frame 10 id=113 period=75.000000 estimate=20.625000 missing missed=4 ANOMALY`,
      `* ${server} 2023-11-14T22:16:50.000000Z frame 11 id=114 period=15.000000 estimate=27.421875 ANOMALY`,
      `  ${server} 2023-11-14T22:17:50.000000Z frame 12 id=0 discarded (behind) restart copies=1`,
      `  ${server} 2023-11-14T22:17:50.020000Z frame 14 id=0 discarded (duplicate) copies=1`,
      `  ${server} 2023-11-14T22:17:50.060000Z frame 16 id=1 period=60.060000 estimate=25.869141 missing`,
      `* ${server} 2023-11-14T22:17:50.140000Z frame 17 id=2 period=0.080000 estimate=30.142998 ANOMALY`,
      `* ${server} 2023-11-14T22:17:50.300000Z frame 18 id=3 period=0.160000 estimate=26.385123 copies=1 ANOMALY`,
      `* ${server} 2023-11-14T22:17:50.620000Z frame 19 id=4 period=0.320000 estimate=23.106983 ANOMALY`,
    ]);
  });

  it('per server as JSON: gaps, restarts, silences and anomalies with their frames', () => {
    expect(json(cawire('beacons', '--json', BEACONS).out)).toEqual([
      {
        server: '10.0.0.1:5064',
        version: 13,
        beacons: 15,
        copies: 4,
        first_seen: '2023-11-14T22:13:20.000000Z',
        first_frame: 2,
        last_frame: 19,
        period_s: 15,
        min_s: 0.02,
        max_s: 75,
        missed: 6,
        gap_frames: [8, 10],
        restarts: 1,
        restart_frames: [12],
        silences: 3,
        longest_silence_s: 75,
        silence_frames: ['7-8', '9-10', '11-12'],
        anomalies: 6,
        anomaly_frames: [9, 10, 11, 17, 18, 19],
      },
    ]);
    expect(json(cawire('beacons', '--json', '--silence', '70', BEACONS).out)[0]).toMatchObject({ silences: 1, longest_silence_s: 75 });
  });

  it('says under the table that copies were merged; in JSON the servers\' copies add up to it', () => {
    // the note wrapped to 120 columns
    expect(lines(cawire('beacons', BEACONS).out).slice(-2)).toEqual([
      'copies merged: 4 (the same beacon id from the same server on another path within 1 s: relayed by a caRepeater, or sent',
      '  to several addresses); counted once',
    ]);
    expect(json(cawire('beacons', '--json', BEACONS).out).reduce((n, r) => n + (r.copies as number), 0)).toBe(4);
  });

  it.skipIf(!HAVE_SHARED)('cabeacon.cap: the anomalies of a starting server', () => {
    expect(lines(cawire('beacons', '--timeline', join(PUBLIC, 'cabeacon.cap')).out).map((l) => l.slice(0, 2) + l.split(' frame ')[1])).toEqual([
      '  1 id=0 first',
      '  2 id=1 period=0.020250',
      '  3 id=2 period=0.040300 estimate=0.020250 missing',
      '* 4 id=3 period=0.080309 estimate=0.022756 missing ANOMALY',
      '* 5 id=4 period=0.160312 estimate=0.029950 missing ANOMALY',
      '* 6 id=5 period=0.320273 estimate=0.046246 missing ANOMALY',
      '* 7 id=6 period=0.640234 estimate=0.080499 missing ANOMALY',
      '* 8 id=7 period=1.280267 estimate=0.150466 missing ANOMALY',
    ]);
  });
});

describe('cawire circuits', () => {
  it('--ended-by-rst: the circuits cut by a reset and the other circuits of the client host open then', () => {
    expect(cawire('circuits', '--ended-by-rst', '--csv', CIRCUITS).out).toBe(
      [
        'circuit,client,server,reset_by,at,reset_frame,start_frame,last_frame,duration_s,channels_open,others_open',
        '1,10.0.0.9:40001,10.0.0.1:5064,server,2023-11-14T22:13:52.000000Z,42,1,40,32,1,2',
        '4,10.0.0.9:40004,10.0.0.2:5064,server,2023-11-14T22:13:55.000100Z,44,43,,0.0001,0,2',
        '',
      ].join('\n'),
    );
  });

  it('every circuit as JSON, wire strings with control characters escaped', () => {
    const rows = json(cawire('circuits', '--json', CIRCUITS).out);
    expect(rows.map((r) => [r.circuit, r.host, r.user, r.priority, r.created_pvs, r.create_failed_pvs, r.server_disconnected_pvs, r.events_off, r.echo_requests, r.ended])).toEqual([
      [1, 'opi\\x1b[2J', 'ops', 10, ['A:one', 'A:two', 'A:missing'], ['A:missing'], ['A:two'], 1, 1, 'RST by server, ServerDisconn x1'],
      [2, null, null, 0, ['B:one'], [], [], 0, 0, 'FIN by server'],
      [3, null, null, 0, [], [], [], 0, 0, 'open at end'],
      [4, null, null, null, [], [], [], 0, 0, 'RST by server'],
    ]);
  });

  it.skipIf(!HAVE_SHARED)('multi_ioc: each circuit\'s PVs as arrays in JSON and as one list field in CSV', () => {
    // multi_ioc.txt: 20 caget rounds, one circuit per IOC each (IOC1 on 5064, IOC2 on 41233, IOC3 on 38231);
    // the CREATE_CHAN requests of each circuit (tshark -e tcp.payload) name IOCn:ai, then IOCn:mbbi; caget clears both.
    const ioc: Record<string, string> = { '127.0.0.1:5064': 'IOC1', '127.0.0.1:41233': 'IOC2', '127.0.0.1:38231': 'IOC3' };
    const path = join(REAL, 'multi_ioc.pcap');
    const rows = json(cawire('circuits', '--json', '-q', path).out);
    expect(rows).toHaveLength(60);
    for (const r of rows) {
      const pvs = [`${ioc[r.server as string]}:ai`, `${ioc[r.server as string]}:mbbi`];
      expect([r.created_pvs, r.cleared_pvs, r.create_failed_pvs, r.server_disconnected_pvs]).toEqual([pvs, pvs, [], []]);
    }
    expect(Object.values(ioc).map((name) => rows.filter((r) => (r.created_pvs as string[])[0] === `${name}:ai`).length)).toEqual([20, 20, 20]);
    const csv = lines(cawire('circuits', '--csv', '-q', path).out);
    const header = csv[0]!.split(',');
    // No field here holds a comma or quote but the lists, which are quoted: split on the commas outside quotes.
    const fields = (line: string) => line.match(/("[^"]*"|[^,]*)(,|$)/g)!.map((f) => f.replace(/,$/, '').replace(/^"(.*)"$/, '$1'));
    for (const [i, line] of csv.slice(1).entries()) {
      const f = fields(line);
      expect(parseCsvList(f[header.indexOf('created_pvs')]!)).toEqual(rows[i]!.created_pvs);
      expect(parseCsvList(f[header.indexOf('create_failed_pvs')]!)).toEqual([]);
    }
  });

  it.skipIf(!HAVE_SHARED)('monitor_cancel: the table row of its one circuit', () => {
    const row = lines(cawire('circuits', '--wide', join(REAL, 'monitor_cancel.pcap')).out)[3];
    expect(row!.split('│').map((c) => c.trim()).slice(1, -1)).toEqual([
      '1',
      '127.0.0.1:45426 -> 127.0.0.1:5064',
      'vm/root',
      '13/13 p0',
      '2026-11-23T08:55:09.101393Z',
      '3.502',
      '0.01',
      '440/13752',
      '6048/24512',
      '4/4',
      'TEST:calc10 TEST:calc100 TEST:ai TEST:mbbi', // --wide: every PV
      '4/4',
      '337',
      '0/0',
      '0/0',
      '0/0', // retransmissions and capture gaps: none on the loopback
      '0', // zero-window stalls
      'FIN by client',
      '4-514', // SYN to the FIN that completed the close
    ]);
  });
});

describe('cawire summary', () => {
  it('one screen: the capture, then the problems, then the commands that show them', () => {
    const out = lines(cawire('summary', PUTS).out);
    expect(out.slice(-19)).toEqual([
      '┌────────────────────────────────────────┬───────┬─────────────────────────────────────────────┐',
      '│ problem                                │ found │ where                                       │',
      '├────────────────────────────────────────┼───────┼─────────────────────────────────────────────┤',
      '│ names searched for without a reply     │     0 │                                             │',
      '│ PV names answered by two servers       │     0 │                                             │',
      '│ failed channel creations               │     0 │                                             │',
      '│ ECA errors                             │     2 │ ECA_PUTFAIL x2 (P:v frame 10, P:v frame 14) │',
      '│ beacon anomalies (clients re-search)   │     0 │                                             │',
      '│ IOC restarts                           │     0 │                                             │',
      '│ circuits cut by a reset                │     0 │                                             │',
      '│ circuits closed by the server          │     0 │                                             │',
      '│ responses slower than 1 s              │     1 │ write P:v 1.500 s (frames 12->14)           │',
      '│ zero-window stalls                     │     0 │                                             │',
      '│ monitor updates held back              │     0 │                                             │',
      '│ circuits with retransmissions above 1% │     0 │                                             │',
      '└────────────────────────────────────────┴───────┴─────────────────────────────────────────────┘',
      'details:',
      `  cawire print --command ErrorResponse,ReadNotifyResponse,WriteNotifyResponse,EventAddResponse --format "{frame} {pv} {type} {command.status}" ${PUTS}`,
      `  cawire latency --kind all --slower-than 1s ${PUTS}`,
    ]);
    expect(out.slice(3, 5)).toEqual([
      '│ CA traffic   │                     2023-11-14T22:13:20.010000Z - │ 1.520 s                                           │',
      '│              │                       2023-11-14T22:13:21.530000Z │                                                   │',
    ]);
  });

  it('--csv rows: section, item, value, detail, command, frames', () => {
    const rows = lines(cawire('summary', '--csv', '--slow', '2', PUTS).out);
    expect(rows[0]).toBe('section,item,value,detail,command,items,frames');
    expect(rows).toContain(`capture,circuits,1,,cawire circuits ${PUTS},,`);
    expect(rows).toContain('messages,WriteNotifyResponse,1,,,,');
    expect(rows).toContain(`problems,responses slower than 2 s,0,,cawire latency --kind all --slower-than 2s ${PUTS},,`);
    expect(rows).toContain(`problems,IOC restarts,0,,cawire circuits ${PUTS},,""`);
    expect(rows).toHaveLength(1 + 7 + 8 + 12);
  });

  it('--retrans-rate: the threshold of the retransmission row, a percentage', () => {
    const rows = lines(cawire('summary', '--csv', '--retrans-rate', '2.5%', PUTS).out);
    expect(rows).toContain(`problems,circuits with retransmissions above 2.5%,0,,cawire circuits ${PUTS},,""`);
    expect(lines(cawire('summary', '--csv', '--retrans-rate', '0', PUTS).out)).toContain(`problems,circuits with retransmissions above 0%,0,,cawire circuits ${PUTS},,""`);
    const bad = cawire('summary', '--retrans-rate', '101', PUTS);
    expect([bad.out, bad.err]).toEqual(['', "cawire: option '--retrans-rate <percent>' argument '101' is invalid. wants a percentage from 0 to 100.\n"]);
    expect(bad.code).not.toBe(0);
  });

  it.skipIf(!HAVE_SHARED)('slow_consumer: the zero-window stall, in the summary and in circuits --json', () => {
    const capture = join(SCENARIOS, 'slow_consumer.client.pcap');
    const problems = json(cawire('summary', '--json', capture).out).filter((r) => r.section === 'problems' && r.item === 'zero-window stalls');
    // slow_consumer.txt: "advertised a zero window from frame 2271 ... until its window update in frame 2310 ...: 38.31 s.
    // One more zero-window ACK in frame 2341 was reopened by frame 2342 at once." The longest first.
    expect(problems.map((r) => [r.value, r.command, r.frames])).toEqual([[2, `cawire circuits ${capture}`, [2271, 2310, 2341, 2342]]]);
    expect(problems[0]!.detail).toMatch(/^10\.9\.1\.2:53536 -> 10\.9\.2\.2:5064: client window 0 for 38\.31\d s \(frames 2271-2310, 7 probes\); .* \(frames 2341-2342\)$/);
    const [row] = json(cawire('circuits', '--json', capture).out);
    // slow_consumer.txt, tshark: zero_window 8, window_full 2, retransmission 6 (all from the IOC: it sent the data)
    expect([row!.zero_windows_to_server, row!.zero_windows_to_client, row!.window_full_to_client, row!.retransmissions_to_client, row!.retransmissions]).toEqual([8, 0, 2, 6, 6]);
    expect([row!.zero_window_stalls, (row!.longest_stall_s as number).toFixed(2)]).toEqual([2, '38.31']);
    const stalls = row!.stall_list as string[];
    expect(stalls).toHaveLength(2);
    expect(stalls[0]).toMatch(/^client window 0 for 38\.31\d s \(frames 2271-2310, 7 probes\)$/);
    expect(stalls[1]).toBe('client window 0 for 0.000 s (frames 2341-2342)');
  });

  it('an IOC restart and the circuits the servers closed: every frame in --json and --csv, each command once under the screen', () => {
    // frames from tshark: FIN 22 and RST 25 from 10.0.0.1:5064, the SYN of 10.0.0.9's next circuit 28, FIN 35 from 10.0.0.2:5064
    const rows = json(cawire('summary', '--json', CLOSES).out).filter((r) => r.section === 'problems' && r.value !== 0);
    expect(rows.map((r) => [r.item, r.value, r.frames, r.command])).toEqual([
      ['IOC restarts', 1, [22, 25, 28], `cawire circuits ${CLOSES}`],
      ['circuits cut by a reset', 2, null, `cawire circuits --ended-by-rst ${CLOSES}`],
      ['circuits closed by the server', 3, [22, 25, 35], `cawire circuits ${CLOSES}`],
    ]);
    const csv = lines(cawire('summary', '--csv', CLOSES).out).find((l) => l.startsWith('problems,IOC restarts,'))!;
    expect(parseCsvList(csv.slice(csv.lastIndexOf(',"') + 2, -1))).toEqual(['22', '25', '28']);
    expect(lines(cawire('summary', CLOSES).out).slice(-3)).toEqual(['details:', `  cawire circuits ${CLOSES}`, `  cawire circuits --ended-by-rst ${CLOSES}`]);
  });

  it.skipIf(!HAVE_SHARED)('multi_ioc: every server in the servers row\'s `items`, where the detail shows a few', () => {
    const rows = json(cawire('summary', '--json', '-q', join(REAL, 'multi_ioc.pcap')).out);
    // multi_ioc.txt: IOC1 at 127.0.0.1:5064, IOC2 at :41233, IOC3 at :38231.
    expect(rows.find((r) => r.item === 'servers')).toMatchObject({ value: 3, items: ['127.0.0.1:38231', '127.0.0.1:41233', '127.0.0.1:5064'] });
    expect(rows.filter((r) => r.items !== null).map((r) => r.item)).toEqual(['servers']);
  });

  it.skipIf(!HAVE_SHARED)('caput: the failed puts with ECA_PUTFAIL', () => {
    const rows = json(cawire('summary', '--json', join(REAL, 'caput.pcap')).out).filter((r) => r.section === 'problems' && r.value !== 0);
    expect(rows.map((r) => [r.item, r.value, r.detail])).toEqual([
      ['names searched for without a reply', 1, 'TEST:nonexistent x6 (frames 225-231)'],
      ['ECA errors', 4, 'ECA_PUTFAIL x4 (TEST:disabled frame 247, TEST:disabled frame 268, TEST:ao frame 286, ...)'],
    ]);
  });
});
