// Where a read reports how far it got, for a progress display (src/cli/progress.ts
// sets one when stderr is a terminal). The runners (src/analysis/runner.ts,
// run.ts) call it once per input chunk, never per packet; none is set on the
// worker threads or in the library, so by default this costs one check a chunk.

export interface ReadProgress {
  /** a read of these sources begins ('-' stdin) */
  begin(sources: readonly unknown[]): void;
  /** `bytes` more of the input read; `messages`: CA messages decoded so far */
  read(bytes: number, messages: number): void;
  /** the read ended (done or stopped) */
  end(): void;
}

let current: ReadProgress | undefined;

/** Sets (or, with undefined, clears) the display every read of this thread reports to. */
export function setReadProgress(p: ReadProgress | undefined): void {
  current = p;
}

export function readProgress(): ReadProgress | undefined {
  return current;
}
