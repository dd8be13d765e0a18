// Batched output to a stream (stdout): lines are encoded straight into a large
// buffer that is written when full; a closed pipe (`cawire … | head`) ends the
// run quietly.

/** UTF-8 bytes a JS string can take at most per UTF-16 unit. */
const MAX_BYTES_PER_UNIT = 3;

/** Written buffers kept for reuse: more are in flight only while the reader is slow. */
const SPARE_BUFFERS = 4;

export class LineWriter {
  private buf: Buffer;
  private size = 0;
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
    this.buf = Buffer.allocUnsafe(batchBytes);
    this.reuse = out === process.stdout;
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') this.failure ??= err;
      this.closed = true;
      this.release?.();
    });
  }

  line(s: string): void {
    if (this.failure) throw this.failure;
    if (this.size + s.length * MAX_BYTES_PER_UNIT + 1 > this.buf.length) {
      this.flush();
      if (s.length * MAX_BYTES_PER_UNIT + 1 > this.buf.length) {
        // A line longer than the buffer (a whole waveform in JSON) goes out on its own.
        this.send(`${s}\n`);
        return;
      }
    }
    this.size += this.buf.write(s, this.size);
    this.buf[this.size++] = 10;
  }

  flush(): void {
    if (this.size === 0) return;
    const whole = this.buf;
    const chunk = whole.subarray(0, this.size);
    // The stream holds the chunk until it is written: the next lines go to another
    // buffer, and this one is reused once the write is done (fresh memory costs page faults).
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(this.batchBytes);
    this.size = 0;
    this.send(
      chunk,
      this.reuse
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
