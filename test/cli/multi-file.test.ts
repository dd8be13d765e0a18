// `cawire print|latency a.pcap b.pcap …`: several captures at once, each read on
// a worker thread as its own capture, merged in time order. Every expectation is
// computed from the single-file runs of the same files.
// Spawns `node bin/cawire.js`, so it needs the build (`npm test` runs it first).

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quantileSorted } from '../../src/analysis/latency-stats.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cawire-multi-'));
/** node start-ups, worker threads and danfo.js on a loaded machine */
const SLOW = { timeout: 120_000 };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three captures over the same eight seconds (every seed starts at synth's default start time). */
const SEEDS = [11, 12, 13];
const FILES = SEEDS.map((seed) => join(dir, `seed${seed}.pcap`));
/** Starts 2 s after FILES[0] ends: the next piece of a rotated capture, as far as times go. */
const LATER = join(dir, 'later.pcap');
const NOT_A_CAPTURE = join(dir, 'readme.txt');

function cawire(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

/** stdout of a run that must succeed quietly */
function ok(args: string[]): string {
  const r = cawire(args);
  expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
  return r.out;
}

beforeAll(() => {
  SEEDS.forEach((seed, i) => ok(['synth', '--seed', String(seed), '--duration', '8s', '-q', '--no-truth', FILES[i]!]));
  const end = Math.ceil(Number(ok(['print', '-q', '--format', '{timestamp}', FILES[0]!]).trim().split('\n').at(-1)));
  ok(['synth', '--seed', '14', '--duration', '2s', '--start', String(end + 1), '-q', '--no-truth', LATER]);
  writeFileSync(NOT_A_CAPTURE, 'not a capture at all\n');
}, 120_000);

const lines = (text: string): string[] => text.split('\n').slice(0, -1);

/** `sec.frac` of {timestamp} as integer nanoseconds */
function nanos(timestamp: string): bigint {
  const [sec, frac = ''] = timestamp.split('.');
  return BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
}

/**
 * Each file's lines with their capture time, merged by (time, file): a stable sort.
 * Each file's own lines must already be in time order, else "merge" would not be a sort.
 */
function mergeByTime(perFile: string[][], time: (line: string) => bigint | string): string {
  const all = perFile.flatMap((own, file) => {
    const keyed = own.map((line) => ({ t: time(line), file, line }));
    keyed.forEach((l, i) => expect(i === 0 || keyed[i - 1]!.t <= l.t).toBe(true));
    return keyed;
  });
  all.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.file - b.file));
  return all.map((l) => `${l.line}\n`).join('');
}

describe('cawire print with several files', SLOW, () => {
  it('prints the single-file outputs merged by capture time, earlier file first on ties', () => {
    const single = FILES.map((f) => lines(ok(['print', f])));
    const merged = ok(['print', ...FILES]);
    expect(merged).toBe(mergeByTime(single, (l) => nanos(l.slice(0, l.indexOf(' ')))));
    expect(lines(merged).length).toBe(single.reduce((n, l) => n + l.length, 0));
    expect(lines(merged).length).toBeGreaterThan(3 * 4096); // several batches of every file
  });

  it('--json: the JSON Lines of each file, merged the same way', () => {
    const single = FILES.map((f) => lines(ok(['print', '--json', f])));
    const merged = ok(['print', '--json', ...FILES]);
    // `time` is ISO 8601 with nine fraction digits: its text order is time order
    expect(merged).toBe(mergeByTime(single, (l) => (JSON.parse(l) as { time: string }).time));
  });

  it('a fixture with itself in another capture format: every golden line twice, the first file\'s first', () => {
    const golden = lines(readFileSync(`${FIXTURES}demo.print.txt`, 'utf8'));
    const merged = ok(['print', `${FIXTURES}demo.pcap`, `${FIXTURES}demo.nano.pcap`]);
    expect(merged).toBe(mergeByTime([golden, golden], (l) => nanos(l.slice(0, l.indexOf(' ')))));
  });

  it('--jobs 1 gives the same bytes as --jobs 2 and 3', () => {
    const args = ['print', '--format', '{timestamp} {file} {frame} {type} {pv}', ...FILES];
    const two = ok([...args, '--jobs', '2']);
    expect(ok([...args, '--jobs', '1'])).toBe(two);
    expect(ok([...args, '--jobs', '3'])).toBe(two);
    expect(ok(['print', '--json', '--jobs', '1', ...FILES])).toBe(ok(['print', '--json', '--jobs', '2', ...FILES]));
  });

  it('{file} names the capture each line came from; filters apply to every file', () => {
    const merged = lines(ok(['print', '--format', '{file} {frame} {type}', '--command', 'ReadNotifyResponse', ...FILES]));
    for (const f of FILES) {
      const own = merged.filter((l) => l.startsWith(`${f} `)).map((l) => l.slice(f.length + 1));
      expect(own.join('\n')).toBe(ok(['print', '--format', '{frame} {type}', '--command', 'ReadNotifyResponse', f]).trimEnd());
      expect(own.length).toBeGreaterThan(10);
    }
  });

  it('end-of-run notes come per file, labelled with its name', () => {
    const bytes = readFileSync(FILES[1]!);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
    const alone = cawire(['print', cut]);
    expect(alone.err).toMatch(/^cawire: capture ends early at byte \d+ after frame \d+ /);
    const r = cawire(['print', '--format', '{frame}', FILES[0]!, cut]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(alone.err.replace(/^cawire: /, `cawire: ${cut}: `));
    expect(cawire(['print', '-q', FILES[0]!, cut]).err).toBe('');
  });

  it('`print a b c | head -n 5`: exits 0 quietly once the reader is gone', async () => {
    const child = spawn(process.execPath, [CLI, 'print', ...FILES], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const head = await new Promise<string[]>((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const got = out.split('\n');
        if (got.length > 5) {
          child.stdout.destroy(); // what `head -n 5` does once it has its lines
          resolve(got.slice(0, 5));
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(head).toEqual(lines(ok(['print', ...FILES])).slice(0, 5));
  });
});

describe('cawire latency with several files', SLOW, () => {
  /** `--raw --json` rows of a run */
  const rows = (text: string) => lines(text).map((l) => JSON.parse(l) as Record<string, string | number>);

  it('describes the union of the files\' pairs: counts, min, max, quartiles, mean and std per server', () => {
    const perServer = new Map<string, number[]>();
    for (const f of FILES) {
      for (const r of rows(ok(['latency', '--kind', 'read', '--raw', '--json', f]))) {
        const server = String(r.server);
        if (!perServer.has(server)) perServer.set(server, []);
        perServer.get(server)!.push(Number(r.latency_ms));
      }
    }
    const stats = rows(ok(['latency', '--kind', 'read', '--json', ...FILES]));
    expect(stats.map((s) => s.server).sort()).toEqual([...perServer.keys()].sort());
    for (const s of stats) {
      const values = Float64Array.from(perServer.get(String(s.server))!).sort();
      const n = values.length;
      const mean = values.reduce((a, v) => a + v, 0) / n;
      const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
      expect([s.count, s.min_ms, s.p25_ms, s.p50_ms, s.p75_ms, s.max_ms]).toEqual([n, values[0], quantileSorted(values, 0.25), quantileSorted(values, 0.5), quantileSorted(values, 0.75), values[n - 1]]);
      expect(s.mean_ms).toBeCloseTo(mean, 12);
      expect(s.std_ms).toBeCloseTo(std, 12);
    }
    expect(stats.reduce((a, s) => a + Number(s.count), 0)).toBeGreaterThan(100);
  });

  /** ISO times of one format (UTC, the same digits) sort as text in time order. */
  const byText = (x: unknown, y: unknown): number => (String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0);

  it('--raw lists every file\'s pairs, by request time, then file order, then frame, naming the file', () => {
    const perFile = FILES.map((f) => rows(ok(['latency', '--kind', 'read', '--raw', '--json', f])));
    const expected = perFile
      .flatMap((list, file) => list.map((r) => ({ file, r: { file: FILES[file], ...r } })))
      .sort((a, b) => byText(a.r.request_time, b.r.request_time) || a.file - b.file || Number(a.r.request_frame) - Number(b.r.request_frame))
      .map((x) => x.r);
    expect(rows(ok(['latency', '--kind', 'read', '--raw', '--json', ...FILES]))).toEqual(expected);
    const csv = lines(ok(['latency', '--kind', 'read', '--raw', '--csv', ...FILES]));
    expect(csv[0]).toBe('file,kind,pv,client,server,circuit,request_time,latency_ms,request_frame,response_frame,outcome');
    expect(csv).toHaveLength(expected.length + 1);
  });

  it('adds up the unanswered requests, and --unanswered lists them in time order', () => {
    const count = (out: string): number => Number(/^(\d+) requests? w/.exec(out)![1]);
    const perFile = FILES.map((f) => rows(ok(['latency', '--kind', 'all', '--unanswered', '--json', f])));
    const all = ok(['latency', '--kind', 'all', ...FILES]);
    expect(count(all)).toBe(perFile.reduce((n, l) => n + l.length, 0));
    expect(count(all)).toBeGreaterThan(10);
    const expected = perFile
      .flatMap((list, file) => list.map((u) => ({ file, u: { file: FILES[file], ...u } })))
      .sort((a, b) => byText(a.u.request_time, b.u.request_time) || a.file - b.file || Number(a.u.request_frame) - Number(b.u.request_frame))
      .map((x) => x.u);
    expect(rows(ok(['latency', '--kind', 'all', '--unanswered', '--json', ...FILES]))).toEqual(expected);
  });

  it('--jobs 1 gives the same report as --jobs 2', () => {
    for (const args of [['--kind', 'all', '--csv'], ['--kind', 'all', '--raw', '--csv'], ['--kind', 'create', '--by', 'pv']]) {
      expect(ok(['latency', ...args, '--jobs', '1', ...FILES])).toBe(ok(['latency', ...args, '--jobs', '2', ...FILES]));
    }
  });

  it('notes once that files following one another in time are not joined, and suggests mergecap -a (and a report, --join)', () => {
    const note = `cawire: note: ${FILES[0]}, ${LATER} follow one another in time, but each file is read as its own capture: requests and replies, circuits and PV names are not joined across files; to read them as one capture, join them first: mergecap -a -w joined.pcap ${FILES[0]} ${LATER}\n`;
    const lat = cawire(['latency', LATER, FILES[0]!]);
    expect({ code: lat.code, err: lat.err }).toEqual({ code: 0, err: note.replace(/\n$/, '; or read them with --join\n') });
    const pr = cawire(['print', '--format', '{frame}', FILES[0]!, LATER]);
    expect({ code: pr.code, err: pr.err }).toEqual({ code: 0, err: note });
    expect(cawire(['print', '-q', FILES[0]!, LATER]).err).toBe('');
  });
});

describe('several files: errors', SLOW, () => {
  it('a file that is not a capture: exit 2, one line naming it, nothing on stdout', () => {
    for (const cmd of [['print'], ['latency'], ['print', '--jobs', '1']]) {
      const r = cawire([...cmd, FILES[0]!, NOT_A_CAPTURE, FILES[1]!]);
      expect(r).toEqual({ code: 2, out: '', err: `cawire: ${NOT_A_CAPTURE}: not a pcap or pcapng capture (starts with 6e 6f 74 20)\n` });
    }
    const missing = join(dir, 'missing.pcap');
    expect(cawire(['latency', FILES[0]!, missing])).toEqual({ code: 2, out: '', err: `cawire: cannot open ${missing}: no such file\n` });
  });

  it("'-' (stdin) only alone, and --jobs a whole number: exit 2 with one line", () => {
    for (const cmd of ['print', 'latency']) {
      const r = cawire([cmd, FILES[0]!, '-']);
      expect(r).toEqual({ code: 2, out: '', err: "cawire: '-' (stdin) reads one capture: it does not combine with other files\n" });
      const jobs = cawire([cmd, '--jobs', '0', ...FILES]);
      expect(jobs).toMatchObject({ code: 2, out: '' });
      expect(jobs.err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('one file keeps the single-file path: {file} is its name, and "-" for stdin', () => {
    copyFileSync(FILES[0]!, join(dir, 'copy.pcap'));
    const named = ok(['print', '--format', '{file} {frame}', join(dir, 'copy.pcap')]);
    expect(lines(named)[0]).toBe(`${join(dir, 'copy.pcap')} 1`);
    const piped = spawnSync(process.execPath, [CLI, '--format', '{file} {frame}', '-'], { input: readFileSync(FILES[0]!), encoding: 'utf8' });
    expect(lines(piped.stdout)[0]).toBe('- 1');
    expect(lines(piped.stdout)).toHaveLength(lines(named).length);
  });
});
