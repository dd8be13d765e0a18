// Batched output to a stream (stdout): lines are joined and written in large
// chunks; a closed pipe (`cawire … | head`) ends the run quietly.

export class LineWriter {
  private batch: string[] = [];
  private size = 0;
  private waiting?: Promise<void>;
  private release?: () => void;
  /** set once the reader went away (EPIPE): further output is dropped */
  closed = false;
  /** a write that failed otherwise (disk full, I/O error): thrown to the caller, not from the event */
  private failure?: Error;

  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly batchBytes = 64 * 1024,
  ) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') this.failure ??= err;
      this.closed = true;
      this.release?.();
    });
  }

  line(s: string): void {
    if (this.failure) throw this.failure;
    this.batch.push(s);
    this.size += s.length + 1;
    if (this.size >= this.batchBytes) this.flush();
  }

  flush(): void {
    if (this.batch.length === 0) return;
    const text = this.batch.join('\n') + '\n';
    this.batch = [];
    this.size = 0;
    if (this.closed) return;
    if (!this.out.write(text) && !this.waiting) {
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
    this.flush();
    if (this.waiting) await this.waiting;
    // A failed write is reported by an 'error' event on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failure) throw this.failure;
  }
}
