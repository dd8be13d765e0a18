// The worker pool behind `cawire print|latency a b …` (src/parallel), run from
// the build (dist/src/parallel: a worker thread runs JavaScript, and its script
// is found beside pool.js): the merge by capture time, batches and their
// back-pressure, early stop, failures, and the latency parts.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latency } from '../../src/analysis/latency.js';
import type { PairRecord } from '../../src/analysis/pairing.js';
import { eventFilter } from '../../src/dissect/filter.js';
import { runDissection, type DissectResult } from '../../src/dissect/run.js';
import { eventToJson } from '../../src/output/json.js';
import { compileTemplate } from '../../src/output/template.js';
import { CaptureError } from '../../dist/src/capture/types.js';
import { LineWriter } from '../../dist/src/output/sink.js';
import { PREFETCH, pairFiles, printFiles } from '../../dist/src/parallel/pool.js';
import type { PrintTaskOptions } from '../../dist/src/parallel/messages.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/src/parallel/worker.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cawire-pool-'));
/** worker threads and captures of a few thousand messages, on a loaded machine */
const SLOW = { timeout: 60_000 };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three captures over the same two seconds (synth starts every seed at the same time). */
const FILES = [1, 2, 3].map((seed) => join(dir, `seed${seed}.pcap`));
const NOT_A_CAPTURE = join(dir, 'notes.txt');
/** Several 1 MiB reads: a worker waits for credit between them. */
const BIG = join(dir, 'big.pcap');

beforeAll(() => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: build first (npm test does)`);
  FILES.forEach((file, i) => execFileSync(process.execPath, [CLI, 'synth', '--seed', String(i + 1), '--duration', '2s', '-q', '--no-truth', file]));
  execFileSync(process.execPath, [CLI, 'synth', '--seed', '4', '--size', '6MB', '-q', '--no-truth', BIG]);
  writeFileSync(NOT_A_CAPTURE, 'GET / HTTP/1.1\r\n\r\n');
}, 60_000);

/** Collects what is written, taking each chunk on a later turn (so the writer sees back-pressure). */
class Collector extends Writable {
  text = '';
  constructor() {
    super({ highWaterMark: 4096 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    setImmediate(done);
  }
}

function options(over: Partial<PrintTaskOptions> = {}): PrintTaskOptions {
  return { dissect: {}, json: false, format: '{timestamp} {file} {frame} {type} {pv}', filter: {}, batchLines: 50, ...over };
}

/** What the single-file path renders for each file, merged by (seconds, nanoseconds, file): a stable sort, as each file is in time order. */
async function expectedMerge(files: readonly string[], o: PrintTaskOptions): Promise<{ text: string; results: DissectResult[] }> {
  const lines: { sec: number; nsec: number; file: number; line: string }[] = [];
  const results: DissectResult[] = [];
  for (const [file, path] of files.entries()) {
    const render = o.json ? eventToJson : compileTemplate(o.format, { file: path });
    const keep = eventFilter(o.filter) ?? (() => true);
    const own: typeof lines = [];
    results.push(await runDissection(path, o.dissect, (ev) => keep(ev) && own.push({ sec: ev.tsSec, nsec: ev.tsNsec, file, line: render(ev) })));
    // the merge's premise for these captures: each file's messages come in time order
    expect(own.every((l, i) => i === 0 || own[i - 1]!.sec < l.sec || (own[i - 1]!.sec === l.sec && own[i - 1]!.nsec <= l.nsec))).toBe(true);
    lines.push(...own);
  }
  lines.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec || a.file - b.file);
  return { text: lines.map((l) => `${l.line}\n`).join(''), results };
}

async function print(files: readonly string[], o: PrintTaskOptions, jobs: number) {
  const sink = new Collector();
  const out = new LineWriter(sink);
  const queued: number[] = files.map(() => 0);
  const batches: number[] = files.map(() => 0);
  const results = await printFiles(files, o, jobs, out, (file, waiting) => {
    queued[file] = Math.max(queued[file]!, waiting);
    batches[file]!++;
  });
  await out.end();
  return { text: sink.text, results, queued, batches };
}

describe('printFiles', SLOW, () => {
  it('merges the files by capture time, exactly as the single-file lines sorted by (time, file)', async () => {
    const o = options();
    const expected = await expectedMerge(FILES, o);
    const r = await print(FILES, o, 2);
    expect(r.text).toBe(expected.text);
    expect(r.text.split('\n').length).toBeGreaterThan(3000);
    expect(r.results).toEqual(expected.results);
  });

  it('never has more than PREFETCH batches of a file waiting, however many it sends', async () => {
    const files = [BIG, FILES[0]!];
    const o = options({ batchLines: 20 });
    const r = await print(files, o, 2);
    expect(r.batches[0]).toBeGreaterThan(5 * PREFETCH);
    expect(Math.max(...r.queued)).toBeLessThanOrEqual(PREFETCH);
    expect(r.text).toBe((await expectedMerge(files, o)).text);
  });

  it('gives the same bytes with one thread hosting every file, and with JSON Lines', async () => {
    const one = await print(FILES, options({ batchLines: 33 }), 1);
    const three = await print(FILES, options({ batchLines: 33 }), 3);
    expect(one.text).toBe(three.text);
    const json = options({ json: true, batchLines: 64 });
    expect((await print(FILES, json, 1)).text).toBe((await expectedMerge(FILES, json)).text);
  });

  it('keeps lines whole when the format puts newlines inside them', async () => {
    const o = options({ format: '{frame}\n  {type} ({file})', batchLines: 7 });
    expect((await print(FILES.slice(0, 2), o, 2)).text).toBe((await expectedMerge(FILES.slice(0, 2), o)).text);
  });

  it('keeps lines whole whatever their characters (batches are UTF-8 bytes)', async () => {
    const named = ['ünïcode-ł.pcap', 'ascii.pcap'].map((name, i) => {
      const path = join(dir, name);
      copyFileSync(FILES[i]!, path);
      return path;
    });
    const o = options({ format: '{file} ✓ {frame} {type}', batchLines: 9 });
    const r = await print(named, o, 2);
    expect(r.text).toBe((await expectedMerge(named, o)).text);
    expect(r.text).toContain('ünïcode-ł.pcap ✓ 1 ');
  });

  it('applies the filter in every file', async () => {
    const o = options({ filter: { command: ['ReadNotifyResponse'] }, format: '{file} {type} {pv}' });
    const r = await print(FILES, o, 2);
    expect(r.text).toBe((await expectedMerge(FILES, o)).text);
    expect(new Set(r.text.trim().split('\n').map((l) => l.split(' ')[1]))).toEqual(new Set(['ReadNotifyResponse']));
  });

  it('stops, resolving to undefined, when the reader of the output goes away', async () => {
    let written = 0;
    const gone = new Writable({
      write(chunk: Buffer, _enc, done) {
        written += chunk.length;
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const out = new LineWriter(gone, 1024);
    expect(await printFiles(FILES, options(), 2, out)).toBeUndefined();
    expect(out.closed).toBe(true);
    expect(written).toBeGreaterThan(0);
  });

  it('rejects with a CaptureError naming the file that is not a capture', async () => {
    const out = new LineWriter(new Collector());
    const failure = printFiles([FILES[0]!, NOT_A_CAPTURE, FILES[1]!], options(), 2, out);
    await expect(failure).rejects.toBeInstanceOf(CaptureError);
    await expect(failure).rejects.toThrow(`${NOT_A_CAPTURE}: not a pcap or pcapng capture (starts with 47 45 54 20)`);
  });

  it('rejects with an internal error, the worker\'s stack kept, when a task fails otherwise', async () => {
    const out = new LineWriter(new Collector());
    const broken = options({ format: undefined as unknown as string });
    const err = await printFiles(FILES.slice(0, 2), broken, 2, out).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(CaptureError);
    // both files fail; whichever worker tells first is reported, naming its file
    const [file, why] = [err.message.slice(0, err.message.indexOf(': ')), err.message.slice(err.message.indexOf(': ') + 2)];
    expect(FILES.slice(0, 2)).toContain(file);
    expect(why).toMatch(/undefined/);
    expect(err.stack).toMatch(/worker\.js/);
  });
});

describe('pairFiles', SLOW, () => {
  it('gives each file what latency() gives for it alone, with --jobs 1 as with 2', async () => {
    const task = { kinds: ['create', 'read', 'search', 'connect'] as const, by: 'server' as const, timeout: 60, dissect: {}, listSlowerThan: -Infinity };
    const two = await pairFiles(FILES, { ...task, kinds: [...task.kinds] }, 2);
    const one = await pairFiles(FILES, { ...task, kinds: [...task.kinds] }, 1);
    expect(one).toEqual(two);
    for (const [i, file] of FILES.entries()) {
      const records: PairRecord[] = [];
      const alone = await latency(file, { kinds: task.kinds, by: 'server', timeout: 60, onRecord: (r) => records.push(r), statsEngine: 'stream' });
      const part = two[i]!;
      expect(part.records).toEqual(records);
      expect(part.unanswered).toEqual(alone.unanswered);
      expect(part.counts).toEqual(alone.counts);
      expect(part.conflicts).toEqual(alone.conflicts);
      expect(part.dissection).toEqual(alone.dissection);
      expect(part.distributions.map((d) => [d.kind, d.group, [...d.values]])).toEqual(alone.distributions.map((d) => [d.kind, d.group, [...d.values]]));
      expect(records.length).toBeGreaterThan(100);
    }
  });

  it('lists only the pairs slower than the bound, and none without one', async () => {
    const task = { kinds: ['read' as const], by: 'server' as const, timeout: 60, dissect: {} };
    const [slow] = await pairFiles(FILES.slice(0, 1), { ...task, listSlowerThan: 0.0003 }, 1);
    const [none] = await pairFiles(FILES.slice(0, 1), task, 1);
    expect(slow!.records.length).toBeGreaterThan(0);
    expect(slow!.records.every((r) => r.latency > 0.0003)).toBe(true);
    expect(slow!.records.length).toBeLessThan(slow!.counts.pairs.read);
    expect(none!.records).toEqual([]);
    expect(none!.counts).toEqual(slow!.counts);
  });

  it('a stop ends the file being read and begins no other: their parts are left out', async () => {
    const task = { kinds: ['create' as const], by: 'server' as const, timeout: 60, dissect: {} };
    const before = new AbortController();
    before.abort('SIGINT');
    expect(await pairFiles(FILES, task, 2, before.signal)).toEqual([undefined, undefined, undefined]);
    const during = new AbortController();
    const parts = pairFiles(FILES, task, 1, during.signal);
    during.abort('SIGINT'); // the first file is begun, the others wait for its thread
    const [first, ...rest] = await parts;
    expect(rest).toEqual([undefined, undefined]);
    // stopped before its header was read (left out), or after (what was read, marked)
    if (first) expect(first.dissection.capture.stoppedBy).toBe('SIGINT');
  });

  it('rejects with a CaptureError naming the file that is not a capture', async () => {
    const task = { kinds: ['create' as const], by: 'server' as const, timeout: 60, dissect: {} };
    await expect(pairFiles([...FILES, NOT_A_CAPTURE], task, 2)).rejects.toThrow(new CaptureError(`${NOT_A_CAPTURE}: not a pcap or pcapng capture (starts with 47 45 54 20)`));
  });
});
