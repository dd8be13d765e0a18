// The progress line on stderr while a command reads captures (cli-progress): bytes
// read of the total, CA messages decoded, the rate and the time left; for stdin or
// gzip (whose size says nothing of what it holds) bytes and rate only. Only when
// stderr is a terminal and -q was not given (main.ts); the line is cleared at the end.

import { openSync, readSync, closeSync, statSync } from 'node:fs';
import type { WriteStream } from 'node:tty';
import cliProgress from 'cli-progress';
import { setReadProgress, type ReadProgress } from '../dissect/read-progress.js';

const MB = 1024 * 1024;

/** The bytes of the files as read (undefined: stdin, gzip, a source that is no file). */
export function totalBytes(sources: readonly unknown[]): number | undefined {
  let total = 0;
  for (const s of sources) {
    if (typeof s !== 'string' || s === '-') return undefined;
    try {
      const fd = openSync(s, 'r');
      const magic = Buffer.alloc(2);
      readSync(fd, magic, 0, 2, 0);
      closeSync(fd);
      if (magic[0] === 0x1f && magic[1] === 0x8b) return undefined;
      total += statSync(s).size;
    } catch {
      return undefined;
    }
  }
  return total;
}

/** A ReadProgress drawn by cli-progress on `stream`. */
export class ProgressLine implements ReadProgress {
  private bar?: cliProgress.SingleBar;
  private bytes = 0;
  private started = 0;
  private messages = 0;

  constructor(private readonly stream: NodeJS.WritableStream = process.stderr) {}

  begin(sources: readonly unknown[]): void {
    const total = totalBytes(sources);
    this.bytes = 0;
    this.started = Date.now();
    const format =
      total === undefined
        ? 'reading {mb} MB | {messages} messages | {rate} MB/s'
        : 'reading [{bar}] {percentage}% | {mb} of {total_mb} MB | {messages} messages | {rate} MB/s | {eta_formatted} left';
    this.bar = new cliProgress.SingleBar(
      { format, stream: this.stream as WriteStream, clearOnComplete: true, hideCursor: false, barsize: 20, fps: 5, etaBuffer: 50, noTTYOutput: false },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total ?? 0, 0, this.payload(total));
  }

  private payload(total: number | undefined): Record<string, string> {
    const seconds = (Date.now() - this.started) / 1000;
    return {
      mb: (this.bytes / MB).toFixed(1),
      total_mb: total === undefined ? '?' : (total / MB).toFixed(1),
      messages: String(this.messages),
      rate: seconds > 0 ? (this.bytes / MB / seconds).toFixed(1) : '0.0',
    };
  }

  read(bytes: number, messages: number): void {
    this.bytes += bytes;
    this.messages = messages;
    const bar = this.bar;
    if (!bar) return;
    const total = bar.getTotal() || undefined;
    bar.update(total === undefined ? 0 : Math.min(this.bytes, total), this.payload(total));
  }

  end(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** Shows progress for every read of this run (main.ts calls it when stderr is a terminal and -q is not given). */
export function showProgress(stream: NodeJS.WritableStream = process.stderr): void {
  setReadProgress(new ProgressLine(stream));
}
