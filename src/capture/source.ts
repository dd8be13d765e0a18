// Where capture bytes come from: a file ('-' = stdin), a Buffer or a stream,
// gunzipped on the fly when they start with the gzip magic (1f 8b).

import { closeSync, fstatSync, open as openCallback, read as readCallback, readSync } from 'node:fs';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream';
import { constants as zlibConstants, createGunzip } from 'node:zlib';
import { CaptureParser } from './reader.js';
import { CaptureError, type CaptureStats, type PacketSink } from './types.js';

export type CaptureSource = string | Buffer | NodeJS.ReadableStream;

export interface CaptureChunkOptions {
  /** bytes per file read and per gunzipped chunk; default 1 MiB (64 KiB for reusedBufferChunks) */
  highWaterMark?: number;
  /**
   * Aborting it ends the chunks at once, even while a read waits for input (a
   * live pipe): the bytes read so far are all the input there is.
   */
  signal?: AbortSignal;
}

/**
 * The capture's bytes as chunks, for one iteration. `gzip` becomes true, before
 * the first chunk is yielded, when the input was gzip-compressed; `stopped`
 * once the signal ended the chunks before the input's end.
 */
export interface CaptureChunks extends AsyncIterable<Buffer> {
  readonly gzip: boolean;
  readonly stopped: boolean;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

/**
 * A reused read buffer is small enough to stay in the CPU's cache. On the
 * benchmark machine, reading 1 GB alone into one buffer of 64 or 128 KiB took
 * 0.14-0.16 s (what `cat` takes), of 256 KiB 0.61 s, and into fresh 1 MiB
 * buffers 0.7-0.8 s. Beside the dissector's own data, a 128 KiB buffer fell off
 * that cliff in about half the runs (0.45-0.65 s of system time, 0.17-0.26 at 64 KiB).
 */
const REUSED_BUFFER_SIZE = 64 * 1024;

/** A synchronous file reader lets the event loop run (timers, output, signals) after this many bytes. */
const EVENT_LOOP_TURN_BYTES = 1024 * 1024;

/** fs.open as a promise of the descriptor (a number: a FIFO's is handed to a socket, which closes it). */
const openFile = promisify(openCallback);

/** fs.read on the thread pool, as a promise of the bytes read. */
function readInto(fd: number, buf: Buffer, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => readCallback(fd, buf, offset, length, null, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * Every chunk is a fresh buffer, never written again: a consumer may keep views
 * of it, as a Dissector's messages do (CaMessageBase: how long a message's bytes
 * stay valid).
 */
export function captureChunks(source: CaptureSource, opts: CaptureChunkOptions = {}): CaptureChunks {
  return chunksOf(source, opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, false, opts.signal);
}

/**
 * captureChunks, but a regular file is read into one buffer, chunk after chunk:
 * only for a consumer that keeps no view of a chunk once it has taken the next
 * (a Dissector with copyMessages: runDissection and dissect use it so). Not
 * exported by the library: a default Dissector's events would see their bytes
 * overwritten by the next chunk.
 */
export function reusedBufferChunks(source: CaptureSource, opts: CaptureChunkOptions = {}): CaptureChunks {
  return chunksOf(source, opts.highWaterMark ?? REUSED_BUFFER_SIZE, true, opts.signal);
}

function chunksOf(source: CaptureSource, chunkSize: number, reuseBuffer: boolean, signal: AbortSignal | undefined): CaptureChunks {
  const result = {
    gzip: false,
    stopped: false,
    [Symbol.asyncIterator]: () => {
      // Fresh buffers until the first bytes say the file is not gzip: the head chunks are
      // kept while looking, and gunzip queues its input.
      const reads: FileReads = { reuse: false, signal, onStop: () => (result.stopped = true) };
      const plain = (): void => void (reads.reuse = reuseBuffer);
      return decoded(rawChunks(source, chunkSize, reads), chunkSize, () => (result.gzip = true), plain, () => result.stopped);
    },
  };
  return result;
}

/**
 * The chunks of a source whose read may wait (a pipe, a stream, a device) until
 * `reads.signal` aborts; then the iteration ends at once (reads.onStop is told),
 * without waiting for a read under way: a pipe's source destroys its stream on
 * the abort, which ends that read. Without a signal, the chunks as they are (the
 * wrapper costs a promise per chunk; a regular file checks the signal itself).
 */
function abortable<T>(chunks: AsyncIterable<T>, reads: FileReads): AsyncIterable<T> {
  return reads.signal ? untilAborted(chunks, reads.signal, reads.onStop) : chunks;
}

async function* untilAborted<T>(chunks: AsyncIterable<T>, signal: AbortSignal, onStop: () => void): AsyncGenerator<T> {
  const input = chunks[Symbol.asyncIterator]();
  let wake: ((stopped: undefined) => void) | undefined;
  const onAbort = (): void => wake?.(undefined);
  signal.addEventListener('abort', onAbort);
  let finished = false;
  try {
    while (!signal.aborted) {
      // A fresh promise per read: a race against one long-lived abort promise would pile up reactions on it.
      const pending = input.next();
      const next = await new Promise<IteratorResult<T> | undefined>((resolve, reject) => {
        wake = resolve;
        pending.then(resolve, reject);
      });
      wake = undefined;
      if (next === undefined) {
        pending.catch(() => undefined); // the abort ends that read (a destroyed stream): no one waits for it
        break;
      }
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
    onStop();
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Runs the source's own clean-up once its read under way has settled.
    if (!finished) input.return?.().catch(() => undefined);
  }
}

/** Parses a whole capture into `sink`; resolves to the parser's statistics. */
export async function readCapture(
  source: CaptureSource,
  sink: PacketSink,
  opts?: CaptureChunkOptions,
): Promise<CaptureStats> {
  const chunks = captureChunks(source, opts);
  const parser = new CaptureParser(sink);
  for await (const chunk of chunks) parser.push(chunk);
  parser.stats.gzip = chunks.gzip;
  return parser.end();
}

/** How a regular file is read, decided while it is read: into one reused buffer, or fresh ones. */
interface FileReads {
  reuse: boolean;
  /** ends the reading: a pipe's stream is destroyed, a regular file's reads stop before the next chunk */
  signal?: AbortSignal;
  /** told when the signal ended the reading before the input's end */
  onStop: () => void;
}

function rawChunks(source: CaptureSource, chunkSize: number, reads: FileReads): AsyncIterable<Buffer | string> {
  if (Buffer.isBuffer(source)) return bufferChunks(source);
  if (source === '-') return stdinChunks(chunkSize, reads);
  if (typeof source === 'string') return fileChunks(source, chunkSize, reads);
  return abortable(source, reads);
}

async function* bufferChunks(buf: Buffer): AsyncGenerator<Buffer> {
  yield buf;
}

/**
 * Standard input: redirected from a regular file (`cawire - < x.pcap`), it is
 * read as a named file is (process.stdin would read it 64 KiB at a time on the
 * thread pool); a pipe or terminal through process.stdin.
 */
async function* stdinChunks(chunkSize: number, reads: FileReads): AsyncGenerator<Buffer | string> {
  let regular = false;
  try {
    regular = fstatSync(0).isFile();
  } catch {
    // no usable descriptor 0: process.stdin reports it
  }
  if (regular) yield* regularFileChunks(0, '-', chunkSize, reads);
  else yield* abortable(destroyedOnAbort(process.stdin, reads.signal), reads);
}

/** The chunks of a stream read as data arrives; an abort destroys it (a read under way then ends, the process can exit). */
async function* destroyedOnAbort<T extends NodeJS.ReadableStream & { destroy(): unknown }>(stream: T, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  const destroy = (): void => void stream.destroy();
  signal?.addEventListener('abort', destroy);
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } finally {
    signal?.removeEventListener('abort', destroy);
  }
}

async function* fileChunks(path: string, chunkSize: number, reads: FileReads): AsyncGenerator<Buffer> {
  const fd = await openFile(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw fileError(path, err);
  });
  let kind: 'regular' | 'pipe' | 'other';
  try {
    const st = fstatSync(fd);
    kind = st.isFile() ? 'regular' : st.isFIFO() ? 'pipe' : 'other';
  } catch (err) {
    closeSync(fd);
    throw fileError(path, err as NodeJS.ErrnoException);
  }
  if (kind === 'pipe') {
    // A FIFO or a shell's <(…): read as process.stdin reads a pipe, as data arrives on the
    // event loop. The socket owns the descriptor from here and closes it.
    yield* abortable(pipeChunks(fd, path, reads.signal), reads);
    return;
  }
  try {
    yield* kind === 'regular' ? regularFileChunks(fd, path, chunkSize, reads) : abortable(readAheadChunks(fd, path, chunkSize), reads);
  } finally {
    closeSync(fd);
  }
}

/**
 * A regular file is read synchronously: its bytes are in the page cache or a
 * disk read away, and a synchronous read cost 0.22 s/GB against 0.31 for
 * thread-pool reads (no hand-off, no promise per chunk). Every chunk is a fresh
 * buffer, since events keep views of it, unless `reads` says none are kept. The
 * event loop gets a turn per MiB read, as it did per chunk with asynchronous reads.
 */
async function* regularFileChunks(fd: number, path: string, chunkSize: number, reads: FileReads): AsyncGenerator<Buffer> {
  let sinceTurn = 0;
  let reused: Buffer | undefined;
  for (;;) {
    // A signal is handled while the event loop has its turn (or the consumer awaits): seen before the next read.
    if (reads.signal?.aborted) return reads.onStop();
    const buf = reads.reuse ? (reused ??= Buffer.allocUnsafe(chunkSize)) : Buffer.allocUnsafe(chunkSize);
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, buf, 0, chunkSize, null);
    } catch (err) {
      throw fileError(path, err as NodeJS.ErrnoException);
    }
    if (bytesRead === 0) return;
    yield bytesRead === chunkSize ? buf : buf.subarray(0, bytesRead);
    sinceTurn += bytesRead;
    if (sinceTurn >= EVENT_LOOP_TURN_BYTES) {
      sinceTurn = 0;
      await new Promise(setImmediate);
    }
  }
}

/** A FIFO's chunks, read by a socket on the event loop (a read per chunk on the thread pool cost 4x as much). */
async function* pipeChunks(fd: number, path: string, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  const socket = new Socket({ fd, readable: true, writable: false });
  try {
    yield* destroyedOnAbort(socket, signal);
  } catch (err) {
    if (signal?.aborted) return;
    throw fileError(path, err as NodeJS.ErrnoException);
  } finally {
    socket.destroy();
  }
}

/** Devices and anything else neither a regular file nor a FIFO: the next chunk is read (on the thread pool) while the consumer decodes this one. */
async function* readAheadChunks(fd: number, path: string, chunkSize: number): AsyncGenerator<Buffer> {
  const readNext = () => {
    const buf = Buffer.allocUnsafe(chunkSize);
    return readInto(fd, buf, 0, chunkSize).then(
      (bytesRead) => (bytesRead === chunkSize ? buf : buf.subarray(0, bytesRead)),
      (err: NodeJS.ErrnoException) => {
        throw fileError(path, err);
      },
    );
  };
  let next = readNext();
  try {
    for (;;) {
      const chunk = await next;
      if (chunk.length === 0) return;
      next = readNext();
      yield chunk;
    }
  } finally {
    await next.catch(() => undefined);
  }
}

function fileError(path: string, err: NodeJS.ErrnoException): CaptureError {
  const why =
    err.code === 'ENOENT'
      ? 'no such file'
      : err.code === 'EACCES'
        ? 'permission denied'
        : err.code === 'EISDIR'
          ? 'is a directory'
          : err.message;
  return new CaptureError(`cannot open ${path}: ${why}`);
}

/** Passes the chunks through, or through gunzip when the first two bytes are 1f 8b. */
async function* decoded(
  raw: AsyncIterable<Buffer | string>,
  chunkSize: number,
  onGzip: () => void,
  onPlain: () => void,
  stopped: () => boolean,
): AsyncGenerator<Buffer> {
  const input = raw[Symbol.asyncIterator]();
  // Chunks read while looking for two bytes; usually just the first chunk.
  const head: Buffer[] = [];
  let headLength = 0;
  while (headLength < 2) {
    const next = await input.next();
    if (next.done) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    if (chunk.length === 0) continue;
    head.push(chunk);
    headLength += chunk.length;
  }
  const gzip = headLength >= 2 && startsWithGzipMagic(head);
  const tail = new StreamTail();
  const rest = async function* (): AsyncGenerator<Buffer> {
    for (const chunk of head) yield tail.saw(chunk);
    for (;;) {
      const next = await input.next();
      if (next.done) return;
      yield tail.saw(typeof next.value === 'string' ? Buffer.from(next.value) : next.value);
    }
  };
  if (!gzip) {
    onPlain();
    yield* rest();
    return;
  }
  onGzip();
  // Z_SYNC_FLUSH at the end: a truncated gzip file yields all it holds
  // (the capture parser then reports the cut record) instead of an error.
  const gunzip = createGunzip({ chunkSize, finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const output = pipeline(rest(), gunzip, () => {
    // errors reach the consumer through the iteration below
  });
  let decompressed = 0;
  try {
    for await (const chunk of output) {
      decompressed += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && code.startsWith('Z_')) {
      throw new CaptureError(`corrupt gzip data: ${(err as Error).message}`);
    }
    throw err;
  }
  // Nothing came out: a stream cut (or spoilt) before its first deflate block ends, unless it is a
  // whole gzip of an empty file, whose trailer (CRC-32 and length of the data) is 8 zero bytes.
  if (decompressed === 0 && !stopped() && !tail.endsInZeros(GZIP_TRAILER_LENGTH)) {
    throw new CaptureError(`corrupt gzip data: the stream ends after ${tail.bytes} bytes without a byte of capture data in it (cut short or damaged)`);
  }
}

/** gzip member trailer: CRC-32 and ISIZE, 4 bytes each. */
const GZIP_TRAILER_LENGTH = 8;

/** The last two chunks of a stream (views, no copies) and its length. */
class StreamTail {
  bytes = 0;
  private last: Buffer = EMPTY_CHUNK;
  private beforeLast: Buffer = EMPTY_CHUNK;

  saw(chunk: Buffer): Buffer {
    this.bytes += chunk.length;
    this.beforeLast = this.last;
    this.last = chunk;
    return chunk;
  }

  /** True when the stream's last `n` bytes are all zero (n at most the last two chunks' length). */
  endsInZeros(n: number): boolean {
    if (this.bytes < n) return false;
    const end = this.last.length >= n ? this.last.subarray(-n) : Buffer.concat([this.beforeLast, this.last]).subarray(-n);
    return end.every((b) => b === 0);
  }
}

const EMPTY_CHUNK = Buffer.alloc(0);

/** `head` holds non-empty chunks, at least two bytes in all. */
function startsWithGzipMagic(head: Buffer[]): boolean {
  const first = head[0]!;
  const second = first.length > 1 ? first[1] : head[1]![0];
  return first[0] === 0x1f && second === 0x8b;
}
