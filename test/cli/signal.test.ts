// Ctrl-C on a live pipe (`tcpdump -U -w - … | cawire summary`) and captures that
// end badly. A report's stdin is a real pipe that the test writes a real capture
// into, part of it, then keeps open (a pausing tcpdump) until it sends the
// signal. What a stopped report prints must be what the same report prints for
// the capture cut after the last frame it read (the file cut at that record
// boundary, found here by walking the pcap records, not by cawire); the frame and
// time span in its note come from those records too.
// Spawns `node bin/cawire.js`, so it needs the build (`npm test` runs it first).

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, createWriteStream, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { HAVE_SHARED, REAL, SHARED, SKIP_REASON } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cawire-signal-'));
/** node start-ups and a few MB through pipes, on a loaded machine */
const SLOW = { timeout: 120_000 };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Bytes a pipe may hold that the reader has not taken yet: once a write has
 * handed everything to the kernel, the reader has read all but at most this
 * many. Linux pipes hold 64 KiB (16 pages); this allows for 64 KiB pages.
 */
const PIPE_SLACK = 1024 * 1024;

/** A classic pcap's record boundaries and time stamps, from its headers. */
interface PcapRecords {
  /** ends[i]: byte after frame i + 1 (ends[-1] would be the 24-byte file header) */
  ends: number[];
  /** capture time of each frame, seconds */
  times: number[];
}

function pcapRecords(buf: Buffer): PcapRecords {
  const magic = buf.readUInt32LE(0);
  expect([0xa1b2c3d4, 0xa1b23c4d]).toContain(magic); // the corpus files are little-endian
  const fraction = magic === 0xa1b23c4d ? 1e-9 : 1e-6;
  const ends: number[] = [];
  const times: number[] = [];
  for (let at = 24; at + 16 <= buf.length; ) {
    const next = at + 16 + buf.readUInt32LE(at + 8);
    if (next > buf.length) break;
    times.push(buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * fraction);
    ends.push(next);
    at = next;
  }
  return { ends, times };
}

/** The capture's first `frames` frames, as a file (cut at that record boundary). */
function cutFile(name: string, capture: Buffer, records: PcapRecords, frames: number): string {
  const path = join(dir, name);
  writeFileSync(path, capture.subarray(0, frames === 0 ? 24 : records.ends[frames - 1]));
  return path;
}

/** Frames whose records end within the first `bytes` bytes. */
function framesWithin(records: PcapRecords, bytes: number): number {
  return records.ends.filter((end) => end <= bytes).length;
}

/** A report run with its stdin redirected from a file: the reference output (no file name in it, as for '-'). */
function reference(args: string[], input: string) {
  const fd = openSync(input, 'r');
  try {
    const r = spawnSync(process.execPath, [CLI, ...args, '-'], { encoding: 'utf8', stdio: [fd, 'pipe', 'pipe'], maxBuffer: 256 << 20 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  } finally {
    closeSync(fd);
  }
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** `cawire ARGS -` reading from a pipe the test writes into. */
function live(args: string[]): { child: ChildProcessWithoutNullStreams; ended: Promise<Ended> } {
  const child = spawn(process.execPath, [CLI, ...args, '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined); // EPIPE once cawire stops reading
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ended = new Promise<Ended>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })));
  return { child, ended };
}

/** Writes `bytes` into the child's stdin; resolves once the kernel has them all (the reader has all but PIPE_SLACK). */
function feed(child: ChildProcessWithoutNullStreams, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => child.stdin.write(bytes, (err) => (err ? reject(err) : resolve())));
}

/** The note of a read stopped by `signal` after `frames` frames spanning `seconds`. */
function cutShortLine(signal: string, frames: number, seconds: number): string {
  return `cawire: capture cut short by ${signal} after frame ${frames} (${seconds.toFixed(3)} s of capture); the report covers what was read`;
}

/** The number `pattern` captures in `text` (NaN when it does not match). */
const numberIn = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? NaN);

describe.skipIf(!HAVE_SHARED)('Ctrl-C on a report reading a live pipe', SLOW, () => {
  if (!HAVE_SHARED) console.warn(SKIP_REASON);
  const CAPTURE = join(SHARED, 'corpus/scenarios/twopoint_lossy.client.pcap');
  const capture = HAVE_SHARED ? readFileSync(CAPTURE) : Buffer.alloc(0);
  const records = HAVE_SHARED ? pcapRecords(capture) : { ends: [], times: [] };
  /** what the "tcpdump" has written when the signal comes: 2 MB of frames and half of the next record */
  const written = HAVE_SHARED ? framesWithin(records, 2_000_000) : 0;
  const part = HAVE_SHARED ? capture.subarray(0, records.ends[written - 1]! + 30) : capture;

  const reports: [string, string[]][] = [
    ['summary', ['summary']],
    ['latency (CreateChan per server)', ['latency']],
    ['searches', ['searches']],
    ['beacons', ['beacons']],
    ['circuits (CSV)', ['circuits', '--csv']],
  ];
  for (const [name, args] of reports) {
    it(`${name}: SIGINT stops the read, prints the report of the frames read, says so, exits 0`, async () => {
      const { child, ended } = live(args);
      await feed(child, part);
      child.kill('SIGINT');
      const r = await ended;
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
      // Every byte but the pipe's last few was read; the half record after them is dropped.
      const frames = numberIn(r.err, /cut short by SIGINT after frame (\d+) /);
      expect(frames).toBeGreaterThanOrEqual(framesWithin(records, part.length - PIPE_SLACK));
      expect(frames).toBeLessThanOrEqual(written);
      const line = cutShortLine('SIGINT', frames, records.times[frames - 1]! - records.times[0]!);
      const ref = reference(args, cutFile(`${args[0]}-${frames}.pcap`, capture, records, frames));
      expect(ref.code).toBe(0);
      expect(r.out).toBe(ref.out);
      expect(r.out.length).toBeGreaterThan(0);
      // The same notes as the cut file's (skipped packets, orphan replies), and the signal's.
      expect(r.err.split('\n')).toContain(line);
      expect(r.err.split('\n').filter((l) => l !== line)).toEqual(ref.err.split('\n'));
      expect(r.err).not.toMatch(/ends early/);
    });
  }

  it('SIGTERM likewise', async () => {
    const { child, ended } = live(['summary', '--json']);
    await feed(child, part);
    child.kill('SIGTERM');
    const r = await ended;
    expect(r.code).toBe(0);
    const frames = numberIn(r.err, /cut short by SIGTERM after frame (\d+) /);
    expect(frames).toBeLessThanOrEqual(written);
    expect(r.err.split('\n')).toContain(cutShortLine('SIGTERM', frames, records.times[frames - 1]! - records.times[0]!));
    expect(r.out).toBe(reference(['summary', '--json'], cutFile(`summary-json-${frames}.pcap`, capture, records, frames)).out);
  });

  it('the writer closing the pipe mid-record is a truncated capture: the report of the complete frames, exit 0', async () => {
    const { child, ended } = live(['circuits', '--csv']);
    await feed(child, part);
    child.stdin.end();
    const r = await ended;
    expect(r.code).toBe(0);
    const ref = reference(['circuits', '--csv'], cutFile(`eof-${written}.pcap`, capture, records, written));
    expect(r.out).toBe(ref.out);
    const cut = records.ends[written - 1]!;
    const note = `cawire: capture ends early at byte ${cut} after frame ${written} (file ends after 30 of the ${records.ends[written]! - cut} bytes of a packet record); decoded everything before it`;
    expect(r.err.split('\n')).toEqual([note, ...ref.err.split('\n')]);
  });

  it('Ctrl-C in a terminal: the signal and the end of the pipe come together, and the report is printed either way', async () => {
    const { child, ended } = live(['searches', '--csv']);
    await feed(child, part);
    child.stdin.end(); // tcpdump dies of the same SIGINT
    child.kill('SIGINT');
    const r = await ended;
    expect(r.code).toBe(0);
    const frames = numberIn(r.err, /(?:cut short by SIGINT|capture ends early at byte \d+) after frame (\d+) /);
    expect(frames).toBeGreaterThanOrEqual(framesWithin(records, part.length - PIPE_SLACK));
    expect(frames).toBeLessThanOrEqual(written);
    expect(r.out).toBe(reference(['searches', '--csv'], cutFile(`both-${frames}.pcap`, capture, records, frames)).out);
  });

  for (const [first, second, status] of [
    ['SIGINT', 'SIGTERM', 143],
  ] as const) {
    it(`a second signal (${second}) before the report is out ends cawire at once: status ${status}`, async () => {
      // The second signal follows the first at once, while the report is still being made (the renderer
      // takes milliseconds, so no later moment is sure); a different signal, as the kernel merges two alike.
      const { child, ended } = live(['latency', '--raw', '--kind', 'all']);
      await feed(child, capture);
      child.kill(first);
      child.kill(second);
      const r = await ended;
      // The status only a second signal gives (128 + the signal handled second: two signals sent back to back
      // may be handled in either order, 130 or 143); the run never got to its end-of-run notes.
      expect({ signal: r.signal, err: r.err }).toEqual({ signal: null, err: '' });
      expect([status, 130]).toContain(r.code);
    });
  }

  it('a signal before the capture header is complete: nothing to report, exit 2 with one line', async () => {
    // A pcapng section header block of 3 MB (long options), of which 2 MB are written: cawire waits for the rest.
    const length = 3 * 1024 * 1024;
    const head = Buffer.alloc(2 * 1024 * 1024);
    head.writeUInt32LE(0x0a0d0d0a, 0);
    head.writeUInt32LE(length, 4);
    head.writeUInt32LE(0x1a2b3c4d, 8);
    const { child, ended } = live(['summary']);
    await feed(child, head);
    child.kill('SIGINT');
    const r = await ended;
    expect({ code: r.code, out: r.out }).toEqual({ code: 2, out: '' });
    expect(r.err).toMatch(/^cawire: no complete capture header in the \d+ bytes read before SIGINT\n$/);
    const read = numberIn(r.err, /in the (\d+) bytes/);
    expect(read).toBeGreaterThanOrEqual(head.length - PIPE_SLACK);
    expect(read).toBeLessThanOrEqual(head.length);
  });

  it('print keeps its behaviour: SIGINT ends it (killed by the signal, no report)', async () => {
    const { child, ended } = live(['print']);
    await feed(child, part);
    child.kill('SIGINT');
    const r = await ended;
    expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: 'SIGINT' });
    expect(r.err).toBe('');
  });

  it('latency over several files: the file being read stops, a file not begun is left out', async () => {
    // A FIFO as the first file (read on a worker thread as a live pipe); --jobs 1 leaves the second for later.
    const fifo = join(dir, 'live.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const other = join(REAL, 'caput.pcap');
    const child = spawn(process.execPath, [CLI, 'latency', '--jobs', '1', fifo, other], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const ended = new Promise<number | null>((resolve) => child.on('close', resolve));
    const writer = createWriteStream(fifo);
    writer.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => writer.write(part, (e) => (e ? reject(e) : resolve())));
    child.kill('SIGINT');
    expect(await ended).toBe(0);
    writer.destroy();
    const frames = numberIn(err, /live\.fifo: capture cut short by SIGINT after frame (\d+) /);
    expect(frames).toBeGreaterThanOrEqual(framesWithin(records, part.length - PIPE_SLACK));
    expect(frames).toBeLessThanOrEqual(written);
    // the stop reached the worker: what it read is reported, as the cut file alone is
    expect(out).toBe(reference(['latency'], cutFile(`several-${frames}.pcap`, capture, records, frames)).out);
    expect(err).toContain(`cawire: capture cut short by SIGINT before ${other} could be read; the report covers the other files\n`);
  });
});

describe.skipIf(!HAVE_SHARED)('captures that end badly', SLOW, () => {
  const CAPUT = join(REAL, 'caput.pcap');
  const TSHARK = join(REAL, 'caget_basic.tshark.pcapng');

  function cawire(args: string[]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }

  function write(name: string, bytes: Buffer): string {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  }

  it('a file cut inside a record: the note names the last complete frame', () => {
    // caput.pcap holds 390 frames (its sidecar); cut 20 bytes into the record of frame 267
    const capture = readFileSync(CAPUT);
    const records = pcapRecords(capture);
    expect(records.ends).toHaveLength(390);
    const start = records.ends[265]!; // frame 267 begins where frame 266 ends
    const cut = write('caput-cut.pcap', capture.subarray(0, start + 20));
    const r = cawire(['summary', cut]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      `cawire: capture ends early at byte ${start} after frame 266 (file ends after 20 of the ${records.ends[266]! - start} bytes of a packet record); decoded everything before it\n`,
    );
    expect(r.out).toMatch(/│ packets\s+│\s+266 │/);
  });

  it('a file that ends inside its own file header has no packets: exit 2, one line', () => {
    const pcap = write('caput-header.pcap', readFileSync(CAPUT).subarray(0, 10));
    expect(cawire(['summary', pcap])).toEqual({ code: 2, out: '', err: 'cawire: file ends 10 bytes into its pcap file header: no packets in it\n' });
    const pcapng = write('tshark-header.pcapng', readFileSync(TSHARK).subarray(0, 20));
    expect(cawire(['circuits', pcapng])).toEqual({ code: 2, out: '', err: 'cawire: file ends 20 bytes into its pcapng section header block: no packets in it\n' });
    // the whole header and no packet: an empty capture, not an error
    const empty = write('caput-empty.pcap', readFileSync(CAPUT).subarray(0, 24));
    expect(cawire(['summary', '--csv', empty])).toMatchObject({ code: 0, err: '' });
  });

  it('a corrupt gzip stream is reported as one, not as an empty file', () => {
    const packed = gzipSync(readFileSync(CAPUT));
    const cut = write('caput-cut.pcap.gz', packed.subarray(0, 100));
    expect(cawire(['searches', cut])).toEqual({
      code: 2,
      out: '',
      err: 'cawire: corrupt gzip data: the stream ends after 100 bytes without a byte of capture data in it (cut short or damaged)\n',
    });
    const spoilt = Buffer.from(packed);
    spoilt.fill(0xff, 10, 40);
    const r = cawire(['summary', write('caput-spoilt.pcap.gz', spoilt)]);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toMatch(/^cawire: corrupt gzip data: [^\n]+\n$/);
  });
});
