// The one runner of every report: an Analysis over one capture (a file, stdin),
// or over rotated files joined as one capture (--join), with the filters every
// command shares applied to what the analysis sees. Several files each read as
// its own capture go to the worker pool (src/parallel/pool.ts analyseFiles),
// whose workers run this same function per file.

import { CaptureParser } from '../capture/reader.js';
import { captureChunks, reusedBufferChunks, type CaptureSource } from '../capture/source.js';
import type { CaptureStats, PacketSink } from '../capture/types.js';
import type { Instant, TcpCircuit } from '../dissect/circuits.js';
import { Dissector } from '../dissect/dissector.js';
import type { CaEvent } from '../dissect/event.js';
import { commandWants, endpointFilter, eventFilter, hasTimeBounds, pvFilter, timeWindow, type CaptureClock, type EventFilterSpec } from '../dissect/filter.js';
import type { DeclinedMessage, DissectOptions } from '../dissect/options.js';
import { stopName, type DissectResult } from '../dissect/run.js';
import { readProgress, type ReadProgress } from '../dissect/read-progress.js';
import type { Analysis } from './analysis.js';

export interface RunOptions<Part = unknown> {
  dissect?: DissectOptions;
  /** --pv, --host, --port, --since, --until, --duration, and print's --command */
  filter?: EventFilterSpec;
  /** awaited after each chunk of capture (print: push lines out, wait for a slow reader) */
  afterChunk?: () => Promise<void> | void;
  /** checked after each chunk: true ends the read there (print: nobody reads stdout any more) */
  stop?: () => boolean;
  /** where the read reports how far it got (default: this thread's display, read-progress.ts; a worker passes its own) */
  progress?: ReadProgress;
  /** aborting it ends the read at once; the part covers what was read (capture.stoppedBy: its reason) */
  abort?: AbortSignal;
  /**
   * --every: each `seconds` of capture time after the first packet, before the
   * first message past that time is given to the analysis, `snapshot` is called
   * with the analysis's snapshot of what was read (once per interval: a quiet
   * stretch that skips intervals gets one call each, `at` the interval's end),
   * synchronously; `flush` is awaited after the chunk of capture that held it.
   * The analysis must have a snapshot.
   */
  every?: { seconds: number; snapshot: (part: Part, result: DissectResult, at: Instant) => void; flush: () => Promise<void> };
}

/** One file of a joined read: where its frames went, and its own capture stats. */
export interface JoinedFile {
  path: string;
  /** frames firstFrame..lastFrame of the joined capture (numbered on as `mergecap -a` would); 0/0 for a file without packets */
  firstFrame: number;
  lastFrame: number;
  /** frames of the files before it */
  frameOffset: number;
  /** first and last packet time (NaN without packets) */
  firstTime: number;
  lastTime: number;
  capture: CaptureStats;
}

export interface RunOutcome<Part> {
  part: Part;
  result: DissectResult;
  /** --join: the files in the order read */
  joined?: JoinedFile[];
}

/** A packet sink that numbers frames on from where the files before it ended. */
class FrameOffset implements PacketSink {
  offset = 0;
  constructor(private readonly next: PacketSink) {}
  packet(frame: number, linkType: number, tsSec: number, tsNsec: number, data: Buffer, offset: number, capLen: number, origLen: number): void {
    this.next.packet(frame + this.offset, linkType, tsSec, tsNsec, data, offset, capLen, origLen);
  }
}

/** Time of a capture's first packet (NaN when it has none): read up to that packet only. */
export async function firstPacketTime(source: string): Promise<number> {
  let first = NaN;
  const parser = new CaptureParser({
    packet: (_f, _l, sec, nsec) => {
      if (Number.isNaN(first)) first = sec + nsec / 1e9;
    },
  });
  for await (const chunk of captureChunks(source)) {
    parser.push(chunk);
    if (!Number.isNaN(first)) break;
  }
  return first;
}

/** Capture stats of joined files as one: counts summed, the format of the first, the last cut. */
function joinedCapture(files: readonly JoinedFile[]): CaptureStats {
  const all = files.map((f) => f.capture);
  const unsupportedLink = new Map<number, number>();
  for (const c of all) for (const [link, n] of c.unsupportedLink) unsupportedLink.set(link, (unsupportedLink.get(link) ?? 0) + n);
  const cut = files.findLast((f) => f.capture.truncated);
  const stopped = all.find((c) => c.stoppedBy !== undefined);
  return {
    format: all[0]?.format ?? 'unknown',
    gzip: all.some((c) => c.gzip),
    precision: all[0]?.precision ?? 'other',
    packets: all.reduce((n, c) => n + c.packets, 0),
    bytes: all.reduce((n, c) => n + c.bytes, 0),
    // Frame numbers of the joined capture.
    truncated: cut ? { ...cut.capture.truncated!, frame: cut.capture.truncated!.frame + cut.frameOffset } : undefined,
    stoppedBy: stopped?.stoppedBy,
    stoppedAtWindow: stopped?.stoppedAtWindow,
    // The finest precision any of the files has (times print with the capture's own digits).
    timeDigits: all.some((c) => c.timeDigits !== undefined) ? Math.max(...all.map((c) => c.timeDigits ?? 0)) : undefined,
    skippedBlocks: all.reduce((n, c) => n + c.skippedBlocks, 0),
    unsupportedLink,
  };
}

/**
 * Runs `analysis` over `sources`: one capture, or (several) rotated files read
 * as one continuous capture through one dissector, in the order of their first
 * packet, so circuits, channels and requests are followed across the files.
 */
export async function runAnalysis<Part>(sources: readonly CaptureSource[], analysis: Analysis<Part>, o: RunOptions<Part> = {}): Promise<RunOutcome<Part>> {
  const spec = o.filter ?? {};
  const selection = analysis.selection?.() ?? {};
  let dissector!: Dissector;
  const clock: CaptureClock = {
    get firstTime() {
      return dissector.stats.firstTime;
    },
  };
  const keep = eventFilter(spec, clock);
  const ends = endpointFilter(spec);
  const pv = pvFilter(spec);
  const timed = hasTimeBounds(spec);
  // With --pv or a time window, a circuit is reported when it carried a message kept.
  const carried = pv || timed ? new WeakSet<TcpCircuit>() : undefined;

  const every = o.every;
  if (every && !analysis.snapshot) throw new TypeError('--every needs an analysis with a snapshot');
  /** the number of the next tick: the first packet's time plus that many intervals */
  let tick = 1;
  const due = (k: number): number => clock.firstTime + k * every!.seconds;
  /** the same time, exact */
  const tickAt = (k: number): Instant => {
    const s = dissector.stats;
    const ns = s.firstNsec + k * Math.round(every!.seconds * 1e9);
    return { sec: s.firstSec + Math.floor(ns / 1e9), nsec: ns % 1e9 };
  };
  let parser: CaptureParser | undefined;
  /** --every: the snapshots due before a message at time t, each rendered now (before that message) */
  const snapshotsBefore = (t: number): void => {
    if (t < due(tick)) return;
    const result: DissectResult = { capture: { ...parser!.stats, packets: dissector.stats.packets }, stats: dissector.stats };
    const part = analysis.snapshot!(result, dissector.openCircuits().filter(reported));
    for (; t >= due(tick); tick++) every!.snapshot(part, result, tickAt(tick));
    snapshotsDue = true;
  };
  let snapshotsDue = false;

  let onEvent: (ev: CaEvent) => void = (ev) => analysis.event(ev);
  if (keep || carried || every) {
    onEvent = (ev) => {
      if (keep && !keep(ev)) return;
      if (carried && ev.circuit) carried.add(ev.circuit);
      if (every) snapshotsBefore(ev.timestamp);
      analysis.event(ev);
    };
  }
  let declined = selection.declined;
  if (declined && (ends || pv || timed || every)) {
    const inner = declined;
    declined = (m: DeclinedMessage) => {
      const c = m.circuit;
      if (ends && !ends(c.clientIp, c.clientPort, c.serverIp, c.serverPort)) return false;
      // A monitor update's PV is its subscription's channel's; other declined messages name none.
      if (pv && !pv(c.ca.subscriptions.get(m.parameter2)?.channel?.name)) return false;
      if (timed) {
        const { from, to } = timeWindow(spec, clock);
        if (m.time < from || m.time >= to) return false;
      }
      if (carried) carried.add(c);
      if (every) snapshotsBefore(m.time);
      return inner(m);
    };
  }
  const overlaps = (c: TcpCircuit): boolean => {
    const { from, to } = timeWindow(spec, clock);
    return c.lastSeen >= from && c.firstSeen < to;
  };
  /** A circuit the report covers: its endpoints pass, and with --pv or a time window it carried a message kept. */
  const reported = (c: TcpCircuit): boolean => {
    if (ends && !ends(c.clientIp, c.clientPort, c.serverIp, c.serverPort)) return false;
    return !(carried && !carried.has(c) && (pv || !overlaps(c)));
  };
  const listener = analysis.circuitEnded
    ? {
        circuitEnded: (c: TcpCircuit): void => {
          if (reported(c)) analysis.circuitEnded!(c);
        },
      }
    : undefined;

  analysis.started?.(clock);
  const options: DissectOptions = { ...o.dissect, ...selection, declined };
  dissector = new Dissector(options, onEvent, listener);
  const sink = new FrameOffset(dissector);
  const order = sources.length > 1 ? await timeOrder(sources as string[]) : [{ path: sources[0]!, t: NaN }];
  const joined: JoinedFile[] = [];
  const duration = spec.duration;
  /** why the read ended before the end of the input: the reader of the output went away, or --duration (`atWindow`) */
  let stopped: string | undefined;
  let atWindow = false;
  const progress = o.progress ?? readProgress();
  progress?.begin(sources);
  for (const { path: source, t: firstTime } of order) {
    parser = new CaptureParser(sources.length > 1 ? sink : dissector);
    const chunks = options.copyMessages ? reusedBufferChunks(source, { signal: o.abort }) : captureChunks(source, { signal: o.abort });
    const before = dissector.stats.packets;
    analysis.fileStarted?.(String(source), sink.offset);
    for await (const chunk of chunks) {
      parser.push(chunk);
      progress?.read(chunk.length, dissector.stats.caMessages);
      if (snapshotsDue) {
        snapshotsDue = false;
        await every!.flush();
      }
      if (o.afterChunk) await o.afterChunk();
      if (o.stop?.()) {
        stopped = 'the reader of the output';
        break;
      }
      // --duration: the rest of the capture is outside the window.
      if (duration !== undefined && dissector.stats.lastTime >= dissector.stats.firstTime + duration) {
        stopped = `--duration ${duration}s`;
        atWindow = true;
        break;
      }
    }
    parser.stats.gzip = chunks.gzip;
    // Stopped on purpose: the packet the chunk cut is not a truncated capture.
    const capture = chunks.stopped ? parser.end(stopName(o.abort!)) : parser.end(stopped, atWindow);
    const packets = dissector.stats.packets - before;
    joined.push({
      path: String(source),
      firstFrame: packets ? sink.offset + 1 : 0,
      lastFrame: packets ? sink.offset + capture.packets : 0,
      frameOffset: sink.offset,
      firstTime: packets ? firstTime : NaN,
      lastTime: packets ? dissector.stats.lastTime : NaN,
      capture,
    });
    sink.offset += capture.packets;
    if (chunks.stopped || stopped !== undefined) break;
  }
  progress?.end();
  dissector.finish();
  const capture = sources.length > 1 ? joinedCapture(joined) : joined[0]!.capture;
  const result: DissectResult = { capture, stats: dissector.stats };
  return { part: analysis.finish(result), result, joined: sources.length > 1 ? joined : undefined };
}

/** Files by the time of their first packet (files without packets last), ties in the given order. */
async function timeOrder(paths: readonly string[]): Promise<{ path: string; t: number }[]> {
  const firsts = await Promise.all(paths.map(firstPacketTime));
  return paths
    .map((path, i) => ({ path, i, t: firsts[i]! }))
    .sort((a, b) => (Number.isNaN(a.t) ? Infinity : a.t) - (Number.isNaN(b.t) ? Infinity : b.t) || a.i - b.i);
}

/** `print` as an analysis: each message the filters keep (of the --command types: `spec.command`) goes to `line`. */
export function linePrinter(spec: EventFilterSpec, line: (ev: CaEvent) => void): Analysis<void> {
  return { selection: () => ({ wants: commandWants(spec) }), event: line, finish: () => undefined };
}
