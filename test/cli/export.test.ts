// `cawire export` and `cawire sql` on the corpus: the dataset's rows counted
// with SQL equal what the reports print for the same captures, and the facts of
// the captures' .txt files; rotated pieces export to the whole capture's rows; an
// interrupted export leaves nothing visible; two processes exporting into one
// dataset give what one export of both gives; exporting again replaces.
// Spawns `node bin/cawire.js`, so it needs the build (`npm test` runs it first).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HAVE_SHARED, REAL, SHARED, SKIP_REASON } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const SCENARIOS = join(SHARED, 'corpus/scenarios');
const tmp = mkdtempSync(join(tmpdir(), 'cawire-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SLOW = { timeout: 300_000 };

function cawire(args: string[], input?: Buffer): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, input });
  if (r.status !== 0) throw new Error(`cawire ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const sql = (query: string, dataset: string): Record<string, unknown>[] => jsonLines(cawire(['sql', '--json', query, dataset]));

/** Every Parquet file a reader of the dataset sees (not under a dot folder). */
function visibleParquet(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...visibleParquet(p));
    else if (e.name.endsWith('.parquet')) out.push(p);
  }
  return out;
}

function count<T>(items: Iterable<T>, key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return m;
}

const sorted = (m: Map<string, number>): [string, number][] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** A classic pcap cut into pieces of `n` records each (what editcap -c does), from its record headers. */
function splitPcap(file: string, n: number, outDir: string): string[] {
  const buf = readFileSync(file);
  const header = buf.subarray(0, 24);
  const pieces: string[] = [];
  let start = 24;
  let records = 0;
  const flush = (end: number): void => {
    const out = join(outDir, `piece-${String(pieces.length).padStart(3, '0')}.pcap`);
    writeFileSync(out, Buffer.concat([header, buf.subarray(start, end)]));
    pieces.push(out);
    start = end;
    records = 0;
  };
  for (let at = 24; at + 16 <= buf.length; ) {
    at += 16 + buf.readUInt32LE(at + 8);
    if (++records === n) flush(at);
  }
  if (records > 0) flush(buf.length);
  return pieces;
}

describe.skipIf(!HAVE_SHARED)('cawire export on the corpus, counted with cawire sql', () => {
  const captures = [
    ...readdirSync(REAL).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(REAL, f)),
    ...readdirSync(SCENARIOS).filter((f) => f.endsWith('.pcap')).map((f) => join(SCENARIOS, f)),
  ];
  const dataset = join(tmp, 'corpus');

  it('exports every capture (several files on worker threads)', SLOW, () => {
    expect(captures.length).toBeGreaterThan(10);
    cawire(['export', '-q', '--jobs', '2', '--host-label', 'lab', dataset, ...captures]);
    // One folder per table, partitioned by host and hour.
    for (const t of ['messages', 'pairs', 'circuits', 'searches']) expect(readdirSync(join(dataset, t))).toEqual(['host=lab']);
    expect(readdirSync(join(dataset, 'messages/host=lab')).every((h) => /^hour=\d{4}-\d\d-\d\dT\d\d$/.test(h))).toBe(true);
    expect(readdirSync(dataset).filter((f) => f.startsWith('.'))).toEqual([]); // the staging folder is gone
  });

  it('messages per type equal what cawire print prints, per capture', SLOW, () => {
    const rows = sql('SELECT file, type, count(*) AS n FROM messages GROUP BY file, type', dataset);
    for (const file of captures) {
      const printed = count(jsonLines(cawire(['print', '--json', file])), (r) => String(r.type));
      const exported = new Map(rows.filter((r) => r.file === basename(file)).map((r) => [String(r.type), Number(r.n)]));
      expect(sorted(exported), file).toEqual(sorted(printed));
    }
  });

  it('pairs per kind and server equal cawire latency --kind all --raw, and the unanswered its --unanswered', SLOW, () => {
    const answered = sql('SELECT file, kind, server, count(*) AS n FROM pairs WHERE NOT unanswered GROUP BY ALL', dataset);
    const unanswered = sql('SELECT file, kind, count(*) AS n FROM pairs WHERE unanswered GROUP BY ALL', dataset);
    for (const file of captures) {
      const raw = count(jsonLines(cawire(['latency', '--kind', 'all', '--raw', '--json', file])), (r) => `${r.kind} ${r.server}`);
      const mine = new Map(answered.filter((r) => r.file === basename(file)).map((r) => [`${r.kind} ${r.server}`, Number(r.n)]));
      expect(sorted(mine), file).toEqual(sorted(raw));
      const left = count(jsonLines(cawire(['latency', '--kind', 'all', '--unanswered', '--json', file])), (r) => String(r.kind));
      const mineLeft = new Map(unanswered.filter((r) => r.file === basename(file)).map((r) => [String(r.kind), Number(r.n)]));
      expect(sorted(mineLeft), file).toEqual(sorted(left));
    }
  });

  it('circuit rows equal cawire circuits', SLOW, () => {
    const rows = sql('SELECT file, circuit, client, server, updates, ca_bytes_to_server, ca_bytes_to_client, retransmissions FROM circuits ORDER BY file, circuit', dataset);
    for (const file of captures) {
      const listed = jsonLines(cawire(['circuits', '--json', file])).map((r) => [r.circuit, r.client, r.server, r.updates, r.ca_bytes_to_server, r.ca_bytes_to_client, r.retransmissions]);
      const mine = rows.filter((r) => r.file === basename(file)).map((r) => [r.circuit, r.client, r.server, r.updates, r.ca_bytes_to_server, r.ca_bytes_to_client, r.retransmissions]);
      expect(mine, file).toEqual(listed.sort((a, b) => Number(a[0]) - Number(b[0])));
    }
  });

  it('stall rows equal cawire tcp\'s stalls; slow_consumer.client: the client\'s 38.31 s stall, frames 2271-2310, TP:cnt and TP:wf held', SLOW, () => {
    const rows = sql('SELECT file, circuit, side, start_frame, end_frame, probes, held_pvs FROM stalls ORDER BY file, circuit, start_frame', dataset);
    for (const file of captures) {
      const listed = jsonLines(cawire(['tcp', '--json', file])).flatMap((c) =>
        (c.stalls as Record<string, unknown>[]).map((s) => [c.circuit, s.side, s.start_frame, s.end_frame, s.probes, (s.held_pvs as string[]).join(' ') || null]),
      );
      const mine = rows.filter((r) => r.file === basename(file)).map((r) => [r.circuit, r.side, r.start_frame, r.end_frame, r.probes, r.held_pvs]);
      expect(mine, file).toEqual(listed);
    }
    // slow_consumer.txt: the client advertised a zero window from frame 2271 until its window update in frame 2310 (38.31 s)
    const [stall] = sql("SELECT side, start_frame, end_frame, duration_s, held_pvs FROM stalls WHERE file = 'slow_consumer.client.pcap' ORDER BY duration_s DESC LIMIT 1", dataset);
    expect([stall!.side, stall!.start_frame, stall!.end_frame, String(stall!.held_pvs).split(' ').sort()]).toEqual(['client', 2271, 2310, ['TP:cnt', 'TP:wf']]);
    expect(Math.abs(Number(stall!.duration_s) - 38.31)).toBeLessThan(0.05);
  });

  it('subscription rows equal cawire monitors; slow_consumer.client: TP:cnt 300 updates, its longest gap frames 2215-2313', SLOW, () => {
    const rows = sql('SELECT file, circuit, pv, subscription_id, updates, longest_gap_from_frame, longest_gap_to_frame, stalls FROM subscriptions ORDER BY file, circuit, subscription_id', dataset);
    for (const file of captures) {
      const listed = jsonLines(cawire(['monitors', '--json', file]))
        .map((r) => [r.circuit, r.pv, r.subscription_id, r.updates, (r.longest_gap_frames as number[] | null)?.[0] ?? null, (r.longest_gap_frames as number[] | null)?.[1] ?? null, (r.stalls as unknown[]).length])
        .sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[2]) - Number(b[2]));
      const mine = rows.filter((r) => r.file === basename(file)).map((r) => [r.circuit, r.pv, r.subscription_id, r.updates, r.longest_gap_from_frame, r.longest_gap_to_frame, r.stalls]);
      expect(mine, file).toEqual(listed);
    }
    // slow_consumer.txt: subscription 1 (TP:cnt) 300 updates, the longest time between two 38.410 s (frames 2215 -> 2313)
    const [cnt] = sql("SELECT updates, longest_gap_s, longest_gap_from_frame AS a, longest_gap_to_frame AS b, stall_causes FROM subscriptions WHERE file = 'slow_consumer.client.pcap' AND pv = 'TP:cnt'", dataset);
    expect([cnt!.updates, cnt!.a, cnt!.b, cnt!.stall_causes]).toEqual([300, 2215, 2313, 'zero window']);
    expect(Math.abs(Number(cnt!.longest_gap_s) - 38.41)).toBeLessThan(0.001);
  });

  it('holds the facts of the captures’ .txt files', SLOW, () => {
    // caget_basic.txt: 12 separate caget processes, one circuit each; 231 packets.
    expect(sql("SELECT count(*) AS n FROM circuits WHERE file = 'caget_basic.pcap'", dataset)).toEqual([{ n: 12 }]);
    expect(sql("SELECT max(frame) AS n FROM messages WHERE file = 'caget_basic.pcap'", dataset)[0]!.n).toBeLessThanOrEqual(231);
    // slow_consumer.txt: updates of subscription 1 (TP:cnt): 300, first value 25, last 554; of subscription 2: 53.
    const subs = sql(
      "SELECT parameter2 AS sub, count(*) AS n, arg_min(value, time) AS first, arg_max(value, time) AS last FROM messages WHERE file = 'slow_consumer.client.pcap' AND type = 'EventAddResponse' GROUP BY sub ORDER BY sub",
      dataset,
    );
    expect(subs.map((s) => [s.sub, s.n])).toEqual([
      [1, 300],
      [2, 53],
    ]);
    expect([subs[0]!.first, subs[0]!.last]).toEqual([25, 554]);
  });
});

describe.skipIf(!HAVE_SHARED)('cawire export of rotated files', () => {
  it('pieces of a capture (a folder of them) export to the rows of the whole capture', SLOW, () => {
    const whole = join(SCENARIOS, 'flaky_connect.client.pcap');
    const piecesDir = join(tmp, 'pieces');
    mkdirSync(piecesDir);
    const pieces = splitPcap(whole, 150, piecesDir);
    expect(pieces.length).toBeGreaterThan(3);
    const a = join(tmp, 'whole-ds');
    const b = join(tmp, 'pieces-ds');
    cawire(['export', '-q', '--host-label', 'h', a, whole]);
    cawire(['export', '-q', '--host-label', 'h', b, piecesDir]);
    for (const t of ['messages', 'pairs', 'circuits', 'searches', 'beacons']) {
      // Every column but the file, in a stable order.
      const q = `SELECT * EXCLUDE (file) FROM ${t} ORDER BY ALL`;
      const wholeRows = sql(q, a);
      expect(sql(q, b), t).toEqual(wholeRows);
      if (t !== 'beacons') expect(wholeRows.length, t).toBeGreaterThan(0);
    }
    // Each message names the piece it is in: the pieces hold 150 frames each.
    const files = sql('SELECT file, min(frame) AS first, max(frame) AS last FROM messages GROUP BY file ORDER BY file', b);
    for (const f of files) expect(Math.floor((Number(f.first) - 1) / 150)).toBe(Number(String(f.file).slice(6, 9)));
  });
});

describe.skipIf(!HAVE_SHARED)('cawire export into one dataset', () => {
  const a = join(REAL, 'caput.pcap');
  const b = join(REAL, 'multi_ioc.pcap');
  const tables = ['messages', 'pairs', 'circuits', 'searches', 'beacons'];
  const everything = (dataset: string) => Object.fromEntries(tables.map((t) => [t, sql(`SELECT * FROM ${t} ORDER BY ALL`, dataset)]));

  it('two exports from two processes at once equal one export of both', SLOW, async () => {
    const two = join(tmp, 'two');
    const one = join(tmp, 'one');
    const run = (file: string) =>
      new Promise<number | null>((resolve) => spawn(process.execPath, [CLI, 'export', '-q', '--host-label', 'ioc-gw1', two, file], { stdio: 'ignore' }).on('exit', resolve));
    expect(await Promise.all([run(a), run(b)])).toEqual([0, 0]);
    cawire(['export', '-q', '--host-label', 'ioc-gw1', one, a, b]);
    const fromTwo = everything(two);
    expect(fromTwo.messages!.length).toBeGreaterThan(100);
    expect(fromTwo).toEqual(everything(one));
  });

  it('exporting the same captures again replaces their files, and other captures stay', SLOW, () => {
    const d = join(tmp, 'again');
    cawire(['export', '-q', '--host-label', 'x', d, a]);
    cawire(['export', '-q', '--host-label', 'x', d, b]);
    const before = everything(d);
    const files = visibleParquet(d).length;
    cawire(['export', '-q', '--host-label', 'x', d, a]);
    expect(everything(d)).toEqual(before);
    expect(visibleParquet(d).length).toBe(files);
    // Another host label is another partition beside it.
    cawire(['export', '-q', '--host-label', 'y', d, a]);
    expect(sql("SELECT host, count(*) AS n FROM messages WHERE file = 'caput.pcap' GROUP BY host ORDER BY host", d).map((r) => r.host)).toEqual(['x', 'y']);
  });
});

describe.skipIf(!HAVE_SHARED)('an interrupted export', () => {
  /** A live pipe: the capture's first `n` bytes go in, then the pipe stays open until the process is signalled. */
  async function exportStopped(signal: NodeJS.Signals, dataset: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; staged: string[] }> {
    const capture = readFileSync(join(SCENARIOS, 'slow_consumer.client.pcap'));
    // Row groups of 10 rows: the staged files have row groups written well before the pipe pauses.
    const child = spawn(process.execPath, [CLI, 'export', '--row-group-rows', '10', '--host-label', 'h', dataset, '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    child.stdin.on('error', () => undefined); // the pipe breaks when the process is killed
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
    child.stdin.write(capture.subarray(0, capture.length >> 1));
    // Wait (on the files, not on a clock) until a staged file has data in it.
    let staged: string[] = [];
    for (let i = 0; i < 600 && staged.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(dataset)) continue;
      staged = readdirSync(dataset, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('.parquet'));
    }
    child.kill(signal);
    const end = await exited;
    return { ...end, stderr, staged };
  }

  it('killed: what it had written stays out of sight (staged), no table file is visible', SLOW, async () => {
    const d = join(tmp, 'killed');
    const r = await exportStopped('SIGKILL', d);
    expect(r.signal).toBe('SIGKILL');
    expect(r.staged.length).toBeGreaterThan(0);
    expect(r.staged.every((p) => p.startsWith('.cawire-staging-'))).toBe(true);
    expect(visibleParquet(d)).toEqual([]);
    // sql sees empty tables
    expect(sql('SELECT count(*) AS n FROM messages', d)).toEqual([{ n: 0 }]);
  });

  it('stopped by SIGINT: nothing written, the staging folder removed, exit 130', SLOW, async () => {
    const d = join(tmp, 'stopped');
    mkdirSync(d);
    const r = await exportStopped('SIGINT', d);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('export stopped by SIGINT: nothing was written');
    expect(readdirSync(d)).toEqual([]);
  });
});

describe('cawire sql without the corpus', () => {
  it('--examples prints queries that run on an empty dataset', SLOW, () => {
    const text = cawire(['sql', '--examples']);
    const queries = [...text.matchAll(/^cawire sql "([\s\S]*?)" DIR$/gm)].map((m) => m[1]!.replaceAll('\\"', '"'));
    expect(queries.length).toBeGreaterThanOrEqual(4);
    const d = join(tmp, 'empty');
    mkdirSync(join(d, 'messages'), { recursive: true });
    for (const q of queries) expect(cawire(['sql', '--csv', q, d]).split('\n')[0]!.length, q).toBeGreaterThan(0);
  });

  it('a bad query is one line and exit 2', () => {
    const d = join(tmp, 'bad');
    mkdirSync(join(d, 'messages'), { recursive: true });
    const r = spawnSync(process.execPath, [CLI, 'sql', 'SELECT nope FROM messages', d], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^cawire: sql: .*nope/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('export into a path that is a file is refused, exit 2', () => {
    const f = join(tmp, 'a-file');
    writeFileSync(f, 'x');
    const r = spawnSync(process.execPath, [CLI, 'export', f, CLI], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^cawire: .*is a file/);
    expect(relative(tmp, f)).toBe('a-file');
  });
});
