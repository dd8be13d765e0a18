// `npm run bench [-- --size 1GB --reps 5 --seed 1]`: generate (or reuse, keyed
// by seed and size, under bench/out/) a synthetic capture with cawire synth, then
// time, in one run and several repetitions each, reading the file with cat (the
// floor), cawire print, print --json, latency, summary, print from stdin, and
// --help. Each cawire process is pinned to one core (taskset) when possible.
// Prints the table and writes it to BENCHMARKS.md with the command and machine.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, availableParallelism, tmpdir, type as osType, release } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parseSize } from '../src/cli/units.js';
import { writeSynthCapture, type SynthTruth } from '../src/synth/capture-stream.js';
import type { ScenarioOptions } from '../src/synth/scenario.js';
import { writeVantageCaptures } from '../src/synth/vantage.js';

import { markdownTable, median, replaceSection, rows, type BenchCase, type Timing } from './report.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT_DIR = join(ROOT, 'bench/out');
const BENCHMARKS = join(ROOT, 'BENCHMARKS.md');

/** A busy control network: 20 IOCs, 6 clients, 1000 PVs, 100k messages/s of mostly monitor updates. */
const BENCH_SCENARIO = { iocs: 20, clients: 6, pvs: 1000, rate: 100_000 } satisfies Partial<ScenarioOptions>;

// `cawire` is the measured process (pinned to core 0, peak RSS taken); PIN pins another one.
const CASES: readonly BenchCase[] = [
  { name: 'floor', command: 'PIN cat FILE > /dev/null', readsCapture: true },
  { name: 'print', command: 'cawire print FILE > /dev/null', readsCapture: true, bar: { kind: 'messagesPerSec', min: 2e6 } },
  { name: 'print --json', command: 'cawire print --json FILE > /dev/null', readsCapture: true, bar: { kind: 'messagesPerSec', min: 2e6 } },
  { name: 'latency', command: 'cawire latency FILE > /dev/null', readsCapture: true, bar: { kind: 'floorFraction', min: 0.1 } },
  // The same statistics through a danfo.js DataFrame: what loading danfo.js costs.
  { name: 'latency --danfo', command: 'cawire latency --danfo FILE > /dev/null', readsCapture: true },
  { name: 'summary', command: 'cawire summary FILE > /dev/null', readsCapture: true, bar: { kind: 'floorFraction', min: 0.1 } },
  // Monitor updates from their header words (and a DBR_TIME stamp): at least as fast as summary.
  { name: 'monitors', command: 'cawire monitors FILE > /dev/null', readsCapture: true, bar: { kind: 'floorFraction', min: 0.1 } },
  { name: 'tcp', command: 'cawire tcp FILE > /dev/null', readsCapture: true, bar: { kind: 'floorFraction', min: 0.1 } },
  { name: 'stdin', command: 'cat FILE | cawire print > /dev/null', readsCapture: true, bar: { kind: 'messagesPerSec', min: 2e6 } },
  { name: '--help', command: 'cawire --help > /dev/null', readsCapture: false, bar: { kind: 'seconds', max: 0.15 } },
  // Several captures at once: the same file given twice, on one thread and then on a thread per file (every core).
  { name: 'latency ×2 --jobs 1', command: 'cawire latency --jobs 1 FILE FILE > /dev/null', readsCapture: true, reads: 2 },
  { name: 'latency ×2 --jobs 2', command: 'cawire latency --jobs 2 FILE FILE > /dev/null', readsCapture: true, reads: 2, allCores: true },
  { name: 'summary ×2 --jobs 2', command: 'cawire summary --jobs 2 FILE FILE > /dev/null', readsCapture: true, reads: 2, allCores: true },
  // The capture cut by records into 4 rotated files (tcpdump -C style) and read as one with --join.
  { name: 'latency --join ×4 pieces', command: 'cawire latency --join PIECES > /dev/null', readsCapture: true },
  { name: 'summary --join ×4 pieces', command: 'cawire summary --join PIECES > /dev/null', readsCapture: true },
  // Two vantage captures of one world (each half the bench size), 1% loss, 0.3 s clock offset: compare streams both.
  { name: 'compare (2 vantage captures)', command: 'cawire compare VANTAGE > /dev/null', readsCapture: true },
  // The capture as a Parquet dataset (each repetition replaces the files of the one before), then one SQL aggregate over it.
  { name: 'export', command: 'cawire export -q bench/out/export-dataset FILE', readsCapture: true, rssBarMb: 300 },
  {
    name: 'sql aggregate',
    command: `cawire sql "SELECT type, count(*) AS n, avg(value) AS mean FROM messages GROUP BY type" bench/out/export-dataset > /dev/null`,
    readsCapture: false,
  },
];

/** The client- and server-side captures of one world (cawire synth --vantage), each half the size of `file`, kept beside it; their paths. */
function vantagePair(file: string): string[] {
  const paths = [file.replace(/\.pcap$/, '.client.pcap'), file.replace(/\.pcap$/, '.server.pcap')];
  if (paths.every(has)) return paths;
  const m = /seed(\d+)-(\d+)\.pcap$/.exec(file);
  const [seed, size] = m ? [Number(m[1]), Number(m[2])] : [1, 1e9];
  process.stderr.write(`generating ${paths.join(' and ')} …\n`);
  writeVantageCaptures(
    {
      scenario: { ...BENCH_SCENARIO, seed, durationNs: undefined },
      up: { kind: 'fixed', medianNs: 2_000_000 },
      down: { kind: 'lognormal', medianNs: 5_000_000, sigma: 0.5 },
      loss: 0.01,
      clockOffset: 0.3,
      nat: false,
      maxBytes: size / 2,
    },
    paths[0]!,
    paths[1]!,
  );
  return paths;
}

/** The bench capture (classic pcap) cut by records into `n` files of about equal size, kept beside it; their paths. */
function rotatedPieces(file: string, n: number): string[] {
  const paths = Array.from({ length: n }, (_, i) => file.replace(/\.pcap$/, `.piece${i + 1}.pcap`));
  if (paths.every(has)) return paths;
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  const header = Buffer.alloc(24);
  readSync(fd, header, 0, 24, 0);
  const little = header.readUInt32LE(0) === 0xa1b2c3d4 || header.readUInt32LE(0) === 0xa1b23c4d;
  const recordHeader = Buffer.alloc(16);
  let at = 24;
  for (let i = 0; i < n; i++) {
    const out = openSync(paths[i]!, 'w');
    writeSync(out, header);
    const end = i === n - 1 ? size : (size * (i + 1)) / n;
    // whole records from `at` up to the first record that starts past `end`
    const from = at;
    while (at + 16 <= size && at < end) {
      readSync(fd, recordHeader, 0, 16, at);
      at += 16 + (little ? recordHeader.readUInt32LE(8) : recordHeader.readUInt32BE(8));
    }
    const chunk = Buffer.allocUnsafe(Math.min(at, size) - from);
    readSync(fd, chunk, 0, chunk.length, from);
    writeSync(out, chunk);
    closeSync(out);
  }
  closeSync(fd);
  return paths;
}

interface BenchOptions {
  size: number;
  reps: number;
  seed: number;
}

const has = (path: string): boolean => existsSync(path);

/** The capture for this seed and size, generated once and kept in bench/out/. */
async function benchCapture(o: BenchOptions): Promise<{ file: string; truth: SynthTruth; generated: boolean }> {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `synth-seed${o.seed}-${o.size}.pcap`);
  const truthFile = file.replace(/\.pcap$/, '.truth.json');
  let generated = false;
  if (!has(file) || !has(truthFile)) {
    process.stderr.write(`generating ${file} …\n`);
    const scenario = { ...BENCH_SCENARIO, seed: o.seed, durationNs: undefined };
    await writeSynthCapture({ scenario, format: 'pcap', maxBytes: o.size }, file, truthFile);
    generated = true;
  }
  return { file, truth: JSON.parse(readFileSync(truthFile, 'utf8')) as SynthTruth, generated };
}

const PIN = has('/usr/bin/taskset') ? 'taskset -c 0 ' : '';

/** The case's command line to run: `cawire` measured (peak RSS in KiB to `rssFile`), PIN expanded, FILE named. */
function shellCommand(c: BenchCase, file: string, rssFile: string): string {
  const measure = has('/usr/bin/time') ? `/usr/bin/time -f %M -o ${rssFile} node bin/cawire.js` : `node dist/bench/max-rss.js ${rssFile}`;
  return c.command
    .replace('PIN ', PIN)
    .replace('cawire', `${c.allCores ? '' : PIN}${measure}`)
    .replace('PIECES', () => rotatedPieces(file, 4).join(' '))
    .replace('VANTAGE', () => vantagePair(file).join(' '))
    .replaceAll('FILE', file);
}

/** 1000000000 -> '1GB', 200000000 -> '200MB'. */
function sizeLabel(bytes: number): string {
  for (const [unit, scale] of [['GB', 1e9], ['MB', 1e6], ['KB', 1e3]] as const) if (bytes % scale === 0) return `${bytes / scale}${unit}`;
  return String(bytes);
}

/** Runs the case once, adding its time and peak RSS to `timing`. */
function runOnce(c: BenchCase, file: string, scratch: string, timing: Timing): void {
  const rssFile = join(scratch, 'rss');
  const shell = shellCommand(c, file, rssFile);
  rmSync(rssFile, { force: true });
  const start = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', shell], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${shell} exited with ${r.status}: ${r.stderr.toString().trim()}`);
  timing.seconds.push(seconds);
  timing.rssBytes.push(has(rssFile) ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) * 1024 : undefined);
}

/** The commands this build of cawire has (others are skipped with a note). */
function availableCommands(): Set<string> {
  const help = spawnSync('node', ['bin/cawire.js', '--help'], { cwd: ROOT, encoding: 'utf8' }).stdout;
  return new Set([...help.matchAll(/^\s{2}(\w+) /gm)].map((m) => m[1]!));
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, nproc ${availableParallelism()}, ${osType()} ${release()}, node ${process.version}`;
}

async function main(): Promise<void> {
  const o = new Command('bench')
    .option('--size <bytes>', 'capture size (1GB, 200MB, …)', parseSize, 1e9)
    .option('--reps <n>', 'repetitions per command (median reported)', (v) => Number.parseInt(v, 10), 5)
    .option('--seed <n>', 'synth seed', (v) => Number.parseInt(v, 10), 1)
    .parse(process.argv)
    .opts<BenchOptions>();
  const { file, truth, generated } = await benchCapture(o);
  const bytes = truth.file.bytes;
  const messages = truth.messages.total;
  const commands = availableCommands();
  const skipped = CASES.filter((c) => c.command.startsWith('cawire ') && !c.command.startsWith('cawire --') && !commands.has(c.command.split(' ')[1]!));
  const scratch = mkdtempSync(join(tmpdir(), 'cawire-bench-'));
  try {
    spawnSync('bash', ['-c', `cat ${file} > /dev/null`]); // page cache warm
    // Round after round of every command, not one command's runs in a row: this machine drifts
    // between hours, and a ratio to the floor should compare runs of the same minutes.
    const measured = CASES.filter((c) => !skipped.includes(c)).map((c) => {
      const t: Timing = { seconds: [], rssBytes: [] };
      return { c, t };
    });
    for (let round = 1; round <= o.reps; round++) {
      process.stderr.write(`round ${round} of ${o.reps} …\n`);
      for (const { c, t } of measured) runOnce(c, file, scratch, t);
    }
    const floorSec = median(measured.find(({ c }) => c.name === 'floor')!.t.seconds);
    const table = markdownTable(rows(measured, bytes, messages, floorSec));
    const sizeArgs = `--size ${sizeLabel(o.size)} --reps ${o.reps} --seed ${o.seed}`;
    const section = [
      '## Benchmark: `npm run bench`',
      '',
      `Reproduce: \`npm run bench -- ${sizeArgs}\` (the capture is kept in bench/out/ and reused).`,
      '',
      `Machine: ${machine()}. Each cawire process (and cat as the floor) runs pinned to one core (\`taskset -c 0\`), but the \`--jobs 2\` row, which may use every core; ` +
        `peak RSS from \`/usr/bin/time -f %M\`; median of ${o.reps} runs, taken in ${o.reps} rounds of every command; page cache warm.`,
      '',
      `Capture: ${(bytes / 1e6).toFixed(0)} MB pcap, ${truth.capture.packets} packets, ${messages} CA messages ` +
        `(${(bytes / messages).toFixed(0)} bytes per message), ${((truth.capture.lastPacketUs - truth.capture.firstPacketUs) / 1e6).toFixed(1)} s of traffic, from ` +
        `\`cawire synth --seed ${o.seed} --iocs ${BENCH_SCENARIO.iocs} --clients ${BENCH_SCENARIO.clients} --pvs ${BENCH_SCENARIO.pvs} --rate ${BENCH_SCENARIO.rate} --size ${sizeLabel(o.size)}\`.`,
      '',
      table,
      '',
      ...(skipped.length ? [`Not measured (command absent from this build): ${skipped.map((c) => c.name).join(', ')}.`, ''] : []),
      `Measured ${new Date().toISOString().slice(0, 10)}${generated ? '' : ' (capture reused)'}.`,
    ].join('\n');
    process.stdout.write(`${section}\n`);
    writeFileSync(BENCHMARKS, replaceSection(has(BENCHMARKS) ? readFileSync(BENCHMARKS, 'utf8') : '# Benchmarks\n', section));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
