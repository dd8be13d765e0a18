// Running the dissector over a capture source: with a callback (fast path for
// the CLI and the reports) or as an async iterable of events (library API).

import { CaptureParser } from '../capture/reader.js';
import { captureChunks, reusedBufferChunks, type CaptureSource } from '../capture/source.js';
import type { CaptureStats } from '../capture/types.js';
import { Dissector, type CircuitListener } from './dissector.js';
import type { CaEvent } from './event.js';
import type { DissectOptions } from './options.js';
import type { DissectStats } from './stats.js';
import { readProgress } from './read-progress.js';

export interface DissectResult {
  capture: CaptureStats;
  stats: DissectStats;
}

export interface RunHooks {
  /** told when each TCP circuit leaves the table (closed, evicted, or at the end) */
  listener?: CircuitListener;
  /** awaited after every input chunk: lets a consumer apply back-pressure */
  afterChunk?: () => void | Promise<void>;
  /** asked after every input chunk: true ends the run early (the reader of the output went away) */
  stop?: () => boolean;
  /**
   * Aborting it ends the read at once, even while it waits for input: the result
   * covers what was read, and `capture.stoppedBy` is the abort's reason when that
   * is a string (e.g. 'SIGINT'), else 'abort'.
   */
  abort?: AbortSignal;
}

/** What stopped a read, for CaptureStats.stoppedBy. */
export function stopName(abort: AbortSignal): string {
  return typeof abort.reason === 'string' ? abort.reason : 'abort';
}

/** Decodes the whole source, calling `onEvent` for every CA message in capture order. */
export async function runDissection(
  source: CaptureSource,
  options: DissectOptions,
  onEvent: (ev: CaEvent) => void,
  hooks: RunHooks = {},
): Promise<DissectResult> {
  const dissector = new Dissector(options, onEvent, hooks.listener);
  const parser = new CaptureParser(dissector);
  const { afterChunk, stop, abort } = hooks;
  const chunks = options.copyMessages ? reusedBufferChunks(source, { signal: abort }) : captureChunks(source, { signal: abort });
  const progress = readProgress();
  progress?.begin([source]);
  for await (const chunk of chunks) {
    parser.push(chunk);
    progress?.read(chunk.length, dissector.stats.caMessages);
    if (afterChunk) await afterChunk();
    if (stop?.()) break;
  }
  progress?.end();
  parser.stats.gzip = chunks.gzip;
  const capture = parser.end(chunks.stopped ? stopName(abort!) : undefined);
  dissector.finish();
  return { capture, stats: dissector.stats };
}

/** The events of a capture as an async iterable; `result` is set once iteration has finished. */
export class Dissection implements AsyncIterable<CaEvent> {
  result?: DissectResult;

  constructor(
    private readonly source: CaptureSource,
    private readonly options: DissectOptions = {},
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<CaEvent> {
    const pending: CaEvent[] = [];
    const dissector = new Dissector(this.options, (ev) => pending.push(ev));
    const parser = new CaptureParser(dissector);
    const chunks = this.options.copyMessages ? reusedBufferChunks(this.source) : captureChunks(this.source);
    for await (const chunk of chunks) {
      parser.push(chunk);
      yield* pending.splice(0);
    }
    parser.stats.gzip = chunks.gzip;
    const capture = parser.end();
    dissector.finish();
    yield* pending.splice(0);
    this.result = { capture, stats: dissector.stats };
  }
}

/**
 * `for await (const ev of dissect('file.pcap')) …` — every CA message of a capture
 * (a path, '-' for stdin, a Buffer, or a readable stream), in capture order.
 */
export function dissect(source: CaptureSource, options?: DissectOptions): Dissection {
  return new Dissection(source, options);
}
