// Reading two captures of the same traffic together: a first look at the start
// of each for a first estimate of the clock offset (unless it is given), then
// one pass over both, streamed in time order on A's clock, through the Matcher.
// Only each capture's current chunk and the matcher's window are held.

import { CaptureParser } from '../capture/reader.js';
import { captureChunks } from '../capture/source.js';
import { readProgress, type ReadProgress } from '../dissect/read-progress.js';
import { CaptureError, type CaptureStats } from '../capture/types.js';
import { firstPacketTime } from '../analysis/runner.js';
import { stopName } from '../dissect/run.js';
import { CaPacketReader, DOWN, UP, type CaPacket, type PacketFilter } from './packets.js';
import { A, B, Matcher, type MatchRow, type Side } from './matcher.js';
import { capturePairs, FrameKeys, matchPairs, type CapturePairs, type PairVerdict } from './pairs.js';
import { timeWindow, type EventFilterSpec } from '../dissect/filter.js';
import type { Dir } from './packets.js';
import { ipToString } from '../../protocols/ca/ip.js';

export interface CompareRunOptions {
  filter: PacketFilter;
  /** A's clock minus B's, seconds, when known (--clock-offset); else estimated */
  clockOffset?: number;
  /** seconds a sent copy waits for its receiver before it counts as lost (default 10) */
  horizon?: number;
  onMatch?: (m: MatchRow) => void;
  /** every match and every loss, for --interval and --plot (matcher.ts MatcherOptions) */
  onDelay?: (dir: Dir, sentAt: number, raw: number) => void;
  onLost?: (dir: Dir, sentAt: number) => void;
  /** before the matching pass: the time origin, and the captures as far as read (their time precision) */
  onStart?: (originSec: number, captures: readonly CaptureStats[]) => void;
  /** the request/response pairs' verdict: pair each capture's requests first (not with --raw) */
  pairs?: boolean;
  /** --pv (the pairs only: a packet carries many PVs), --since/--until/--duration (on A's clock; both captures' packets in that window are compared) */
  spec?: EventFilterSpec;
  abort?: AbortSignal;
}

export interface OffsetEstimate {
  /** A's clock minus B's, seconds */
  offset: number;
  source: 'estimated' | 'given';
  /** how it was found, in words */
  how: string;
}

export interface CompareRun {
  matcher: Matcher;
  /** the offset the streams were ordered by (the first estimate, or the one given) */
  firstOffset: number;
  offset: OffsetEstimate;
  /** Unix seconds every time is counted from */
  originSec: number;
  captures: [CaptureStats, CaptureStats];
  /** CA packets each capture has */
  caPackets: [number, number];
  /** IP fragments, not compared */
  fragments: [number, number];
  /** the pairs seen at both points (with `pairs`) and each capture's pairs */
  verdicts?: PairVerdict[];
  pairsSeen?: [CapturePairs, CapturePairs];
  /** the compared window on A's clock, seconds since the origin (±Infinity: unbounded) */
  window: { from: number; to: number };
}

/** One capture's CA packets, a chunk at a time (copies of the reader's record). */
class SideStream {
  readonly reader: CaPacketReader;
  private readonly parser: CaptureParser;
  private readonly chunks;
  private readonly iterator: AsyncIterator<Buffer>;
  private queue: CaPacket[] = [];
  private pos = 0;
  done = false;
  caPackets = 0;
  /** CA packets already counted into the progress line */
  private reported = 0;

  constructor(
    readonly path: string,
    filter: PacketFilter,
    originSec: number,
    abort: AbortSignal | undefined,
    frameKeys?: FrameKeys,
    /** where the read reports how far it got (the matching pass: the progress line, when there is one), with the CA packets both sides read */
    private readonly progress?: { line: ReadProgress; packets: number },
  ) {
    this.reader = new CaPacketReader(filter, originSec, (p) => {
      this.queue.push({ ...p });
      this.caPackets++;
      frameKeys?.packet(p.frame, p.key);
    });
    this.parser = new CaptureParser(this.reader);
    this.chunks = captureChunks(path, { signal: abort });
    this.iterator = this.chunks[Symbol.asyncIterator]();
  }

  /** The next packet (undefined at the end), reading on as needed. */
  async peek(): Promise<CaPacket | undefined> {
    while (this.pos >= this.queue.length) {
      if (this.done) return undefined;
      this.queue = [];
      this.pos = 0;
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        return undefined;
      }
      this.parser.push(next.value);
      const progress = this.progress;
      if (progress) {
        progress.packets += this.caPackets - this.reported;
        this.reported = this.caPackets;
        progress.line.read(next.value.length, progress.packets);
      }
    }
    return this.queue[this.pos];
  }

  take(): CaPacket {
    return this.queue[this.pos++]!;
  }

  get stats(): CaptureStats {
    return this.parser.stats;
  }

  /** Stops reading (the rest of the file is not wanted). */
  async close(): Promise<void> {
    if (!this.done) await this.iterator.return?.();
    this.done = true;
  }

  /** The capture's stats; `windowEnd`: the read stopped on purpose past the compared window (not a cut capture). */
  end(abort: AbortSignal | undefined, windowEnd?: string): CaptureStats {
    this.parser.stats.gzip = this.chunks.gzip;
    if (windowEnd && !abort?.aborted) return this.parser.end(windowEnd, true);
    return this.parser.end(this.chunks.stopped ? stopName(abort!) : undefined);
  }
}

/** Packets read from the start of one capture to find the first estimate. */
const SAMPLE = 20_000;
/** matches per direction that settle the first estimate */
const ENOUGH = 200;

/**
 * A first estimate of the offset: the first SAMPLE packets of one capture, looked
 * for in the other read on until ENOUGH matches in each direction. Each
 * direction's least delay is the one-way delay plus or minus the offset; with the
 * fastest trip as fast both ways, the offset is half their difference.
 */
async function firstEstimate(paths: [string, string], o: CompareRunOptions, originSec: number): Promise<{ offset: number; how: string } | undefined> {
  o = { ...o, filter: { ...o.filter, learned: new Set() } };
  for (const sampled of [A, B] as Side[]) {
    const sample = new Map<number, { t: number; dir: number } | null>();
    const head = new SideStream(paths[sampled], o.filter, originSec, o.abort);
    for (let p = await head.peek(); p && sample.size < SAMPLE; p = await head.peek()) {
      head.take();
      sample.set(p.key, sample.has(p.key) ? null : { t: p.t, dir: p.dir });
    }
    await head.close();
    // Bytes sent more than once (a retransmission) on either side tell nothing sure: only keys seen once at each point count.
    const raws = new Map<number, { raw: number; dir: number } | null>();
    const found = [0, 0];
    const other = new SideStream(paths[1 - sampled], o.filter, originSec, o.abort);
    for (let p = await other.peek(); p; p = await other.peek()) {
      other.take();
      const s = sample.get(p.key);
      if (!s || s.dir !== p.dir) continue;
      if (raws.has(p.key)) {
        raws.set(p.key, null);
        continue;
      }
      const tA = sampled === A ? s.t : p.t;
      const tB = sampled === A ? p.t : s.t;
      raws.set(p.key, { raw: p.dir === UP ? tB - tA : tA - tB, dir: p.dir });
      if (++found[p.dir]! >= ENOUGH && found[1 - p.dir]! >= ENOUGH) break;
    }
    await other.close();
    const min = [Infinity, Infinity];
    found.fill(0);
    for (const r of raws.values()) {
      if (!r) continue;
      found[r.dir]!++;
      if (r.raw < min[r.dir]!) min[r.dir] = r.raw;
    }
    if (found[UP]! > 0 && found[DOWN]! > 0) return { offset: (min[DOWN]! - min[UP]!) / 2, how: 'both directions' };
    if (found[UP]! + found[DOWN]! > 0) {
      // One direction only: its least delay taken as zero.
      return { offset: found[UP] ? -min[UP]! : min[DOWN]!, how: 'one direction' };
    }
  }
  return undefined;
}

/** --nat: each client socket of A as B saw it (the flow its packets matched most). */
function natClients(m: Matcher): (client: string) => string {
  const map = new Map<string, string>();
  for (const f of m.flows[A].all) {
    if (f.dir !== UP || !f.tcp) continue;
    let best: (typeof f.peers extends Map<infer K, number> ? K : never) | undefined;
    let n = 0;
    for (const [g, k] of f.peers) if (k > n) [best, n] = [g, k];
    if (best) map.set(`${ipToString(f.srcIp)}:${f.sport}`, `${ipToString(best.srcIp)}:${best.sport}`);
  }
  return (c) => map.get(c) ?? c;
}

/** Compares capture A (near the clients) with capture B (near the servers). */
export async function runCompare(paths: [string, string], o: CompareRunOptions): Promise<CompareRun> {
  const firsts = await Promise.all(paths.map(firstPacketTime));
  for (const [i, t] of firsts.entries()) if (Number.isNaN(t)) throw new CaptureError(`${paths[i]}: no packets: nothing to compare`);
  const originSec = Math.floor(firsts[0]!);
  let first: { offset: number; how: string } | undefined;
  if (o.clockOffset === undefined) {
    first = await firstEstimate(paths, o, originSec);
    if (!first) throw new CaptureError(`${paths[0]} and ${paths[1]} have no CA packet in common: nothing to compare (are they of the same traffic, at the same time?${o.filter.nat ? '' : ' An address translator between them: --nat'})`);
  }
  const firstOffset = o.clockOffset ?? first!.offset;
  const spec = o.spec ?? {};
  // The window on A's clock, from A's first packet: each side's packets in it are compared (the edges as a capture's start and end).
  const bounds = timeWindow(spec, { firstTime: firsts[0]! });
  const window = { from: bounds.from - originSec, to: bounds.to - originSec };
  let pairsSeen: [CapturePairs, CapturePairs] | undefined;
  if (o.pairs) {
    // A's pairs by --pv and the window; B's by --pv (its clock differs): a pair of B counts when A's is kept.
    const pairSpec: EventFilterSpec = { pv: spec.pv, host: spec.host, port: spec.port };
    const dissect = { ports: [...o.filter.serverPorts] };
    pairsSeen = [
      await capturePairs(paths[0], originSec, { ...pairSpec, since: spec.since, until: spec.until, duration: spec.duration }, dissect, o.abort),
      await capturePairs(paths[1], originSec, pairSpec, dissect, o.abort),
    ];
  }
  o = { ...o, filter: { ...o.filter, learned: new Set() } };
  const matcher = new Matcher({ offset: firstOffset, horizon: o.horizon, nat: o.filter.nat, onMatch: o.onMatch, onDelay: o.onDelay, onLost: o.onLost, window });
  const keys = pairsSeen?.map((p) => new FrameKeys(p));
  // The matching pass reads both captures: one progress line over both (its count: CA packets).
  const line = readProgress();
  line?.begin(paths);
  const progress = line && { line, packets: 0 };
  const sides = [new SideStream(paths[0], o.filter, originSec, o.abort, keys?.[0], progress), new SideStream(paths[1], o.filter, originSec, o.abort, keys?.[1], progress)] as const;
  let started = false;
  let windowEnd: string | undefined;
  for (;;) {
    const [pa, pb] = [await sides[0].peek(), await sides[1].peek()];
    if (!started) {
      started = true;
      o.onStart?.(originSec, [sides[0].stats, sides[1].stats]);
    }
    if (!pa && !pb) break;
    const side: Side = !pb || (pa && pa.t <= matcher.onA(B, pb.t)) ? A : B;
    const s = sides[side];
    const p = s.take();
    // Past the window on both sides: the rest is not read.
    if (matcher.onA(side, p.t) >= window.to + matcher.horizon) {
      windowEnd = spec.duration !== undefined ? `--duration ${spec.duration}s` : '--until';
      break;
    }
    matcher.spanOf(side, s.reader.first, s.reader.last);
    if (matcher.inWindow(side, p.t)) matcher.packet(side, p);
  }
  for (const side of [A, B]) {
    matcher.spanOf(side, sides[side].reader.first, sides[side].reader.last);
    await sides[side].close();
  }
  line?.end();
  matcher.finish();
  const captures: [CaptureStats, CaptureStats] = [sides[0].end(o.abort, windowEnd), sides[1].end(o.abort, windowEnd)];
  const min = matcher.minRaw;
  let offset: OffsetEstimate;
  if (o.clockOffset !== undefined) offset = { offset: o.clockOffset, source: 'given', how: 'given with --clock-offset' };
  else if (min[UP] < Infinity && min[DOWN] < Infinity) {
    offset = { offset: (min[DOWN] - min[UP]) / 2, source: 'estimated', how: "half the difference of the two directions' least delays (the fastest trip taken as fast both ways)" };
  } else {
    const up = min[UP] < Infinity;
    offset = { offset: up ? -min[UP] : min[DOWN], source: 'estimated', how: `from ${up ? 'client-to-server' : 'server-to-client'} packets only (no match the other way): its least delay taken as zero` };
  }
  return {
    matcher,
    firstOffset,
    offset,
    originSec,
    captures,
    caPackets: [sides[0].caPackets, sides[1].caPackets],
    fragments: [sides[0].reader.fragments, sides[1].reader.fragments],
    verdicts: pairsSeen && matchPairs(pairsSeen[0], pairsSeen[1], offset.offset, o.filter.nat ? natClients(matcher) : undefined),
    pairsSeen,
    window,
  };
}
