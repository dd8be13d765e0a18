// Batched output to a stream (stdout): lines are encoded straight into a large
// buffer that is written when full; a closed pipe (`cawire … | head`) ends the
// run quietly.

import { MAX_BYTES_PER_UNIT, TextOut } from './text-out.js';

/** Written buffers kept for reuse: more are in flight only while the reader is slow. */
const SPARE_BUFFERS = 4;

export class LineWriter {
  /**
   * Where a line is written (`render(writer.text, ev)`, then endLine()). Once a
   * buffer is full, its complete lines are sent and a line under way moves to the
   * next (see full()).
   */
  readonly text: TextOut;
  /** where the line under way starts in text.buf */
  private lineStart = 0;
  /** written buffers, for reuse: only for process.stdout (a file, pipe or terminal), whose write is done with the bytes once it calls back; other streams may keep chunks (a PassThrough does) */
  private readonly spare: Buffer[] = [];
  private readonly reuse: boolean;
  private flushTimer?: NodeJS.Immediate;
  private waiting?: Promise<void>;
  private release?: () => void;
  /** set once the reader went away (EPIPE): further output is dropped */
  closed = false;
  /** a write that failed otherwise (disk full, I/O error): thrown to the caller, not from the event */
  private failure?: Error;

  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly batchBytes = 128 * 1024,
  ) {
    this.text = new TextOut(batchBytes, (_text, need) => this.full(need));
    this.reuse = out === process.stdout;
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') this.failure ??= err;
      this.closed = true;
      this.release?.();
    });
  }

  line(s: string): void {
    if (s.length * MAX_BYTES_PER_UNIT + 1 > this.batchBytes) {
      // A line longer than the buffer (a whole waveform in JSON) goes out on its own.
      this.flush();
      this.send(`${s}\n`);
      this.endLine();
      return;
    }
    this.text.str(s);
    this.text.char(10);
    this.endLine();
  }

  /** Ends the line written to `text` since the last one (its newline written by the caller). */
  endLine(): void {
    if (this.failure) throw this.failure;
    this.lineStart = this.text.pos;
  }

  /**
   * Sends the complete lines and moves the one under way (if any) to a buffer with
   * `need` more bytes of room. The stream holds a sent buffer until it is written:
   * the next lines go to another, and this one is reused once the write is done
   * (fresh memory costs page faults). A line that outgrows a buffer (a whole
   * waveform in JSON) goes out in pieces, as far as it is written each time, so
   * memory stays at a few buffers whatever the line's length.
   */
  private full(need: number): void {
    const text = this.text;
    const old = text.buf;
    const partial = text.pos - this.lineStart;
    if (partial + need > this.batchBytes && need <= this.batchBytes) {
      const size = text.pos;
      text.buf = this.spare.pop() ?? Buffer.allocUnsafe(this.batchBytes);
      text.pos = 0;
      this.lineStart = 0;
      if (size > 0) this.sendBuffer(old, size);
      return;
    }
    const next =
      partial + need <= this.batchBytes
        ? (this.spare.pop() ?? Buffer.allocUnsafe(this.batchBytes))
        : Buffer.allocUnsafe(Math.max(2 * old.length, partial + need));
    old.copy(next, 0, this.lineStart, text.pos);
    text.buf = next;
    text.pos = partial;
    const lines = this.lineStart;
    this.lineStart = 0;
    if (lines > 0) this.sendBuffer(old, lines);
  }

  /** Sends the lines written so far. */
  flush(): void {
    if (this.text.pos > 0) this.full(0);
  }

  /** Sends whole[0, size), keeping `whole` for reuse once written when it is a batch buffer. */
  private sendBuffer(whole: Buffer, size: number): void {
    this.send(
      whole.subarray(0, size),
      this.reuse && whole.length === this.batchBytes
        ? () => {
            if (this.spare.length < SPARE_BUFFERS) this.spare.push(whole);
          }
        : undefined,
    );
  }

  /**
   * Live output: flushes once the input has nothing more ready (on the event
   * loop's next turn), so the lines of chunks that arrive together go out in one write.
   */
  flushSoon(): void {
    this.flushTimer ??= setImmediate(() => {
      this.flushTimer = undefined;
      this.flush();
    });
  }

  private send(data: Buffer | string, written?: () => void): void {
    if (this.closed) return;
    if (!this.out.write(data, written) && !this.waiting) {
      this.waiting = new Promise((resolve) => {
        this.release = () => {
          this.waiting = this.release = undefined;
          resolve();
        };
        this.out.once('drain', this.release);
      });
    }
  }

  /** Resolves when the stream can take more (back-pressure for live input). */
  ready(): Promise<void> | undefined {
    return this.closed ? undefined : this.waiting;
  }

  async end(): Promise<void> {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    this.flush();
    if (this.waiting) await this.waiting;
    // A failed write is reported by an 'error' event on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failure) throw this.failure;
  }
}
