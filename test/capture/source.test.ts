import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { captureChunks, readCapture, reusedBufferChunks, type CaptureChunkOptions } from '../../src/capture/source.js';
import { CaptureError } from '../../src/capture/types.js';
import { collectingSink, ethernetIpv4, parseInChunks, pcapFile } from './build-capture.js';

const capture = pcapFile({}, [
  { sec: 100, frac: 1, data: ethernetIpv4(1) },
  { sec: 200, frac: 2, data: ethernetIpv4(2, 3000) },
  { sec: 300, frac: 3, data: ethernetIpv4(3) },
]);
const expected = parseInChunks(capture).packets;

/** A stream that delivers `buf` in pieces of `size` bytes. */
function streamOf(buf: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) pieces.push(buf.subarray(i, i + size));
  return Readable.from(pieces);
}

async function read(source: Parameters<typeof readCapture>[0], opts?: { highWaterMark?: number }) {
  const sink = collectingSink();
  const stats = await readCapture(source, sink, opts);
  return { packets: sink.packets, stats };
}

describe('captureChunks / readCapture', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cawire-source-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a Buffer', async () => {
    const { packets, stats } = await read(capture);
    expect(packets).toEqual(expected);
    expect(stats).toMatchObject({ gzip: false, packets: 3, bytes: capture.length });
  });

  it('reads a file in chunks of highWaterMark bytes', async () => {
    const path = join(dir, 'plain.pcap');
    writeFileSync(path, capture);
    const sizes: number[] = [];
    for await (const chunk of captureChunks(path, { highWaterMark: 100 })) sizes.push(chunk.length);
    expect(sizes).toEqual([...Array(Math.floor(capture.length / 100)).fill(100), capture.length % 100]);
    expect((await read(path, { highWaterMark: 100 })).packets).toEqual(expected);
  });

  it('gunzips a gzip file and says so', async () => {
    const path = join(dir, 'packed.pcap.gz');
    writeFileSync(path, gzipSync(capture));
    const chunks = captureChunks(path);
    expect(chunks.gzip).toBe(false);
    const bytes: Buffer[] = [];
    for await (const chunk of chunks) bytes.push(chunk);
    expect(chunks.gzip).toBe(true);
    expect(Buffer.concat(bytes).equals(capture)).toBe(true);
    const { packets, stats } = await read(path);
    expect(packets).toEqual(expected);
    expect(stats).toMatchObject({ gzip: true, bytes: capture.length });
  });

  it('reusedBufferChunks reads a file through one buffer after the first chunk, 64 KiB by default', async () => {
    const path = join(dir, 'reused.pcap');
    const big = Buffer.concat([capture, Buffer.alloc(300 * 1024, 7)]);
    writeFileSync(path, big);
    const copies: Buffer[] = [];
    const arrays = new Set<ArrayBuffer>();
    for await (const chunk of reusedBufferChunks(path)) {
      copies.push(Buffer.from(chunk));
      arrays.add(chunk.buffer as ArrayBuffer);
    }
    expect(copies.map((c) => c.length)).toEqual([64 * 1024, 64 * 1024, 64 * 1024, 64 * 1024, big.length - 256 * 1024]);
    // the first chunk is read before the gzip check and is fresh; the rest share one buffer
    expect(arrays.size).toBe(2);
    expect(Buffer.concat(copies).equals(big)).toBe(true);
    const fresh = new Set<ArrayBuffer>();
    for await (const chunk of captureChunks(path)) fresh.add(chunk.buffer as ArrayBuffer);
    expect(fresh.size).toBe(1); // one 1 MiB chunk
    const small = new Set<ArrayBuffer>();
    for await (const chunk of captureChunks(path, { highWaterMark: 100 * 1024 })) small.add(chunk.buffer as ArrayBuffer);
    expect(small.size).toBe(4);
    // the library's captureChunks has no reuse: a caller passing the old option still gets fresh chunks
    const asked = new Set<ArrayBuffer>();
    for await (const chunk of captureChunks(path, { highWaterMark: 64 * 1024, reuseBuffer: true } as CaptureChunkOptions)) asked.add(chunk.buffer as ArrayBuffer);
    expect(asked.size).toBe(5);
  });

  it('reusedBufferChunks reads a gzip file whole (its compressed chunks are not reused)', async () => {
    const path = join(dir, 'reused.pcap.gz');
    const big = Buffer.concat([capture, Buffer.alloc(500 * 1024, 7)]);
    for (let i = capture.length; i < big.length; i += 97) big[i] = i & 0xff;
    writeFileSync(path, gzipSync(big, { level: 0 }));
    const out: Buffer[] = [];
    for await (const chunk of reusedBufferChunks(path)) out.push(Buffer.from(chunk));
    expect(Buffer.concat(out).equals(big)).toBe(true);
  });

  it('finds the gzip magic in a stream of 1-byte chunks', async () => {
    const { packets, stats } = await read(streamOf(gzipSync(capture), 1));
    expect(packets).toEqual(expected);
    expect(stats.gzip).toBe(true);
  });

  it('reads an uncompressed stream of odd-sized chunks', async () => {
    const { packets, stats } = await read(streamOf(capture, 777));
    expect(packets).toEqual(expected);
    expect(stats.gzip).toBe(false);
  });

  it('reports a truncated gzip file as a truncated capture', async () => {
    const packed = gzipSync(capture, { level: 0 });
    const { packets, stats } = await read(packed.subarray(0, packed.length - 60));
    expect(packets).toEqual(expected.slice(0, 2));
    expect(stats.truncated).toMatchObject({ frame: 3, atByte: capture.length - 16 - ethernetIpv4(3).length });
  });

  it('turns corrupt gzip data into a CaptureError', async () => {
    const packed = Buffer.from(gzipSync(capture));
    packed.fill(0xff, 10, 40);
    await expect(read(packed)).rejects.toThrowError(CaptureError);
    await expect(read(packed)).rejects.toThrowError(/^corrupt gzip data: /);
  });

  it('calls a gzip stream that gives no bytes at all corrupt, not an empty file', async () => {
    const packed = gzipSync(capture);
    for (const cut of [2, 10, 30]) {
      await expect(read(packed.subarray(0, cut))).rejects.toThrowError(
        new CaptureError(`corrupt gzip data: the stream ends after ${cut} bytes without a byte of capture data in it (cut short or damaged)`),
      );
    }
    // a whole gzip of an empty file is an empty file
    await expect(read(gzipSync(Buffer.alloc(0)))).rejects.toThrowError(new CaptureError('empty file: no capture header'));
  });

  it('an abort ends a stream that waits for input at once, with what was read so far', async () => {
    const live = new PassThrough();
    const controller = new AbortController();
    const chunks = captureChunks(live, { signal: controller.signal });
    live.write(capture.subarray(0, 100));
    const got: Buffer[] = [];
    for await (const chunk of chunks) {
      got.push(chunk);
      // the stream stays open: only the abort can end this iteration
      setImmediate(() => controller.abort('SIGINT'));
    }
    expect(Buffer.concat(got).equals(capture.subarray(0, 100))).toBe(true);
    expect(chunks.stopped).toBe(true);
  });

  it('an abort stops a regular file before its next read', async () => {
    const path = join(dir, 'stopped.pcap');
    writeFileSync(path, capture);
    const controller = new AbortController();
    const chunks = captureChunks(path, { highWaterMark: 100, signal: controller.signal });
    const got: Buffer[] = [];
    for await (const chunk of chunks) {
      got.push(Buffer.from(chunk));
      controller.abort('SIGTERM');
    }
    expect(got.map((c) => c.length)).toEqual([100]);
    expect(chunks.stopped).toBe(true);
  });

  it('a run without an abort is not stopped', async () => {
    const chunks = captureChunks(capture, { signal: new AbortController().signal });
    for await (const _ of chunks) void _;
    expect(chunks.stopped).toBe(false);
  });

  it('says which file cannot be opened and why', async () => {
    const missing = join(dir, 'missing.pcap');
    await expect(read(missing)).rejects.toThrowError(new CaptureError(`cannot open ${missing}: no such file`));
    await expect(read(dir)).rejects.toThrowError(new CaptureError(`cannot open ${dir}: is a directory`));
  });

  it('rejects a non-capture file with the parser message', async () => {
    const path = join(dir, 'page.html');
    writeFileSync(path, '<!DOCTYPE html><html></html>');
    await expect(read(path)).rejects.toThrowError('not a pcap or pcapng capture (starts with 3c 21 44 4f)');
  });

  it('rejects an empty file', async () => {
    const path = join(dir, 'empty.pcap');
    writeFileSync(path, '');
    await expect(read(path)).rejects.toThrowError('empty file: no capture header');
  });
});
