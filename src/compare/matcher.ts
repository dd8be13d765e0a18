// Matching the packets of two captures of the same traffic, streamed together
// in time order (capture B's times moved onto A's clock by a first estimate of
// the offset). What a sender's capture has waits in a window keyed by the
// packet's hash; a packet the receiver's capture has takes the latest copy of
// the same bytes sent before it (a retransmitted segment was sent more than
// once). A sent copy nothing took within the window (`horizon` seconds) was
// lost between the points, unless the receiver's capture was not running then.
// Memory: the window (a few seconds of packets) and 8 bytes a matched packet.

import { DOWN, UP, type CaPacket, type Dir } from './packets.js';

export type Side = 0 | 1;
export const A: Side = 0;
export const B: Side = 1;

/** A flow as one capture saw it: one direction of a TCP circuit, or UDP datagrams between two sockets. */
export class Flow {
  /** packets this capture has of it */
  packets = 0;
  bytes = 0;
  /** as the sender's capture: copies matched, lost between the points, lost and then sent again and received */
  matched = 0;
  lost = 0;
  lostResent = 0;
  /** as the sender's capture: copies sent while the receiver's capture was not running (before its start, after its end) */
  outsideOther = 0;
  /** as the receiver's capture: packets no sent copy matched */
  unmatched = 0;
  /** raw delays of the matched copies (receiver's time minus sender's, seconds, clocks uncorrected) */
  delays = new Float64Array(16);
  /** matched packets by the flow of the other capture they were matched with (the NAT mapping) */
  readonly peers = new Map<Flow, number>();
  firstFrame = 0;
  firstTime = NaN;
  lastTime = NaN;
  /** as the sender's capture, TCP: the copies sent lately (send order), for matching by stream offset a received segment cut differently */
  recent: Sent[] = [];
  recentHead = 0;

  constructor(
    readonly side: Side,
    readonly dir: Dir,
    readonly tcp: boolean,
    readonly srcIp: number,
    readonly sport: number,
    readonly dstIp: number,
    readonly dport: number,
  ) {}

  addDelay(d: number): void {
    if (this.matched === this.delays.length) {
      const grown = new Float64Array(this.delays.length * 2);
      grown.set(this.delays);
      this.delays = grown;
    }
    this.delays[this.matched++] = d;
  }
}

/** A packet in the window: where and when a capture has it. */
interface Copy {
  t: number;
  frame: number;
  key: number;
  flow: Flow;
  /** TCP: sequence number of its first byte, and its length (stream offsets) */
  seq: number;
  len: number;
}

/** One sent copy waiting in the window. */
interface Sent extends Copy {
  /** times a received packet took it */
  taken: number;
  /** the copy of the same bytes sent before it (still in the window) */
  older: Sent | undefined;
  /** matched and out of the key map already: its queue entry only waits to be dropped */
  gone: boolean;
}

/** A received packet whose sent copy has not come yet (the offset's first estimate is off by a little), or never comes whole (cut differently). */
type Received = Copy;

/** One matched packet, for --raw. */
export interface MatchRow {
  dir: Dir;
  tcp: boolean;
  flowA: Flow;
  flowB: Flow;
  frameA: number;
  frameB: number;
  /** times on each capture's own clock, seconds since the origin (MatcherOptions.originSec) */
  timeA: number;
  timeB: number;
  /** one-way delay, seconds, by the offset the streams were ordered by */
  owd: number;
  /** the copy matched was a copy sent again (an earlier copy is in the window) */
  resent: boolean;
}

export interface MatcherOptions {
  /** first estimate of A's clock minus B's (seconds): orders the two streams and picks the copy sent before */
  offset: number;
  /** seconds a sent copy waits for its receiver (default 10) */
  horizon?: number;
  /** addresses and ports differ between the captures (--nat): a received flow's sender flow is its matched peer */
  nat?: boolean;
  onMatch?: (m: MatchRow) => void;
  /** every match: the send time on A's clock (seconds since the origin) and the raw delay (receiver's clock minus sender's) */
  onDelay?: (dir: Dir, sentAt: number, raw: number) => void;
  /** every copy lost between the points: its send time on A's clock */
  onLost?: (dir: Dir, sentAt: number) => void;
  /** the packets compared: sent or received in [from, to) on A's clock (the edges count as the captures' start and end) */
  window?: { from: number; to: number };
}

const DEFAULT_HORIZON = 10;
/** seconds a received packet waits for its sent copy to come in the merged order */
const RECEIVED_WAIT = 0.5;
/** sent copies a received segment cut differently is looked for among (latest first) */
const OFFSET_SCAN = 512;

/** Flows of one capture by their 4-tuple (nested maps of ip * 65536 + port: no string per packet). */
class FlowTable {
  private readonly bySrc = new Map<number, Map<number, Flow>>();
  private last: Flow | undefined;
  readonly all: Flow[] = [];

  constructor(private readonly side: Side) {}

  get(p: CaPacket): Flow {
    const l = this.last;
    if (l && l.srcIp === p.srcIp && l.sport === p.sport && l.dstIp === p.dstIp && l.dport === p.dport && l.tcp === p.tcp) return l;
    const src = p.srcIp * 65536 + p.sport;
    const dst = (p.dstIp * 65536 + p.dport) * 2 + (p.tcp ? 1 : 0);
    let m = this.bySrc.get(src);
    if (!m) this.bySrc.set(src, (m = new Map()));
    let f = m.get(dst);
    if (!f) {
      f = new Flow(this.side, p.dir, p.tcp, p.srcIp, p.sport, p.dstIp, p.dport);
      f.firstFrame = p.frame;
      f.firstTime = p.t;
      m.set(dst, f);
      this.all.push(f);
    }
    this.last = f;
    return f;
  }

  /** The flow of this 4-tuple, if the capture has one. */
  find(srcIp: number, sport: number, dstIp: number, dport: number, tcp: boolean): Flow | undefined {
    return this.bySrc.get(srcIp * 65536 + sport)?.get((dstIp * 65536 + dport) * 2 + (tcp ? 1 : 0));
  }
}

/** A FIFO of window entries (array and head; compacted as it empties). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  push(x: T): void {
    this.items.push(x);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    const x = this.items[this.head];
    if (x === undefined) return undefined;
    this.items[this.head++] = undefined as T;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  get length(): number {
    return this.items.length - this.head;
  }
  /** Drops the entries `keep` refuses (order kept). */
  compact(keep: (x: T) => boolean): void {
    this.items = this.items.slice(this.head).filter(keep);
    this.head = 0;
  }
}

export class Matcher {
  readonly flows: [FlowTable, FlowTable] = [new FlowTable(A), new FlowTable(B)];
  /** each capture's first and last packet (any packet), on A's clock */
  readonly span: [{ first: number; last: number }, { first: number; last: number }] = [
    { first: NaN, last: NaN },
    { first: NaN, last: NaN },
  ];
  /** whether each capture has ended (read to its end) */
  readonly ended: [boolean, boolean] = [false, false];
  /** per direction: the least raw delay matched (for the estimate) */
  readonly minRaw: [number, number] = [Infinity, Infinity];
  /** per direction: the largest delay matched so far on A's clock (the first estimate): how long the receiver must run past a send for it to count as lost */
  readonly maxDelay: [number, number] = [0, 0];
  /** matched received packets that a copy resent took (the sender sent the bytes again) */
  private readonly sent = new Map<number, Sent>();
  private readonly sentQueue = new Fifo<Sent>();
  private readonly waiting = new Map<number, Received[]>();
  private readonly waitQueue = new Fifo<Received>();
  /** sent copies matched and released early (their queue entries still wait) */
  private goneQueued = 0;
  private readonly offset: number;
  readonly horizon: number;
  private readonly from: number;
  private readonly to: number;
  /** the latest time (A's clock) processed */
  private now = -Infinity;

  constructor(private readonly o: MatcherOptions) {
    this.offset = o.offset;
    this.horizon = o.horizon ?? DEFAULT_HORIZON;
    this.from = o.window?.from ?? -Infinity;
    this.to = o.window?.to ?? Infinity;
  }

  /** Whether a packet at `t` on `side`'s clock is in the compared window. */
  inWindow(side: Side, t: number): boolean {
    const at = this.onA(side, t);
    return at >= this.from && at < this.to;
  }

  /** A's clock of a time on `side`'s clock */
  onA(side: Side, t: number): number {
    return side === A ? t : t + this.offset;
  }

  /** Which capture sent a packet of this direction: A (near the clients) sends up, B down. */
  static senderOf(dir: Dir): Side {
    return dir === UP ? A : B;
  }

  /** A capture's first and last packet so far (any packet), on its own clock. */
  spanOf(side: Side, firstOwn: number, lastOwn: number): void {
    this.span[side].first = Math.max(this.from, this.onA(side, firstOwn));
    this.span[side].last = Math.min(this.to, this.onA(side, lastOwn));
  }

  /** One CA packet of `side`, in merged time order. */
  packet(side: Side, p: CaPacket): void {
    const t = this.onA(side, p.t);
    this.advance(t);
    const flow = this.flows[side].get(p);
    flow.packets++;
    flow.bytes += p.len;
    flow.lastTime = p.t;
    if (Matcher.senderOf(p.dir) === side) this.send(t, p, flow);
    else this.receive(t, p, flow);
  }

  private send(t: number, p: CaPacket, flow: Flow): void {
    const older = this.sent.get(p.key);
    const s: Sent = { t, frame: p.frame, key: p.key, flow, seq: p.seq, len: p.len, taken: 0, older, gone: false };
    this.sent.set(p.key, s);
    this.sentQueue.push(s);
    if (p.tcp) this.remember(t, flow, s);
    // A receiver's packet that came before it in the merged order.
    const early = this.waiting.get(p.key);
    if (early?.length) {
      const r = early.shift()!;
      if (early.length === 0) this.waiting.delete(p.key);
      r.key = -1; // taken: its queue entry is skipped
      this.take(s, r.t, r.frame, r.flow);
    }
  }

  private receive(t: number, p: CaPacket, flow: Flow): void {
    let s = this.sent.get(p.key);
    // The latest copy sent before it.
    while (s && s.t > t && s.older) s = s.older;
    if (s) {
      this.take(s, t, p.frame, flow);
      return;
    }
    const r: Received = { t, frame: p.frame, key: p.key, flow, seq: p.seq, len: p.len };
    const list = this.waiting.get(p.key);
    if (list) list.push(r);
    else this.waiting.set(p.key, [r]);
    this.waitQueue.push(r);
  }

  /**
   * Sent copy `s` was received at `t` (A's clock) in `frame` of the receiver's
   * capture. A copy matched whole, with no older copy of its bytes waiting,
   * leaves the key map at once (a later copy of the same bytes starts a chain
   * of its own): the window holds mostly what is still in flight.
   */
  private take(s: Sent, t: number, frame: number, recvFlow: Flow, whole = true): void {
    s.taken++;
    if (whole && !s.gone && s.older === undefined && this.sent.get(s.key) === s) {
      this.sent.delete(s.key);
      s.gone = true;
      if (++this.goneQueued > 8192 && this.goneQueued * 2 > this.sentQueue.length) {
        this.sentQueue.compact((x) => !x.gone);
        this.goneQueued = 0;
      }
    }
    const dir = s.flow.dir;
    const sender = s.flow;
    // Raw delay: the receiver's own clock minus the sender's.
    const raw = dir === UP ? t - this.offset - s.t : t - (s.t - this.offset);
    sender.addDelay(raw);
    this.o.onDelay?.(dir, s.t, raw);
    if (raw < this.minRaw[dir]) this.minRaw[dir] = raw;
    const d = t - s.t;
    if (d > this.maxDelay[dir]) this.maxDelay[dir] = d;
    sender.peers.set(recvFlow, (sender.peers.get(recvFlow) ?? 0) + 1);
    const onMatch = this.o.onMatch;
    if (onMatch) {
      const fromA = dir === UP;
      onMatch({
        dir,
        tcp: sender.tcp,
        flowA: fromA ? sender : recvFlow,
        flowB: fromA ? recvFlow : sender,
        frameA: fromA ? s.frame : frame,
        frameB: fromA ? frame : s.frame,
        timeA: fromA ? s.t : t,
        timeB: (fromA ? t : s.t) - this.offset,
        owd: d,
        resent: s.older !== undefined,
      });
    }
  }

  /** Settles what the window holds from before `t - horizon`. */
  private advance(t: number): void {
    if (t > this.now) this.now = t;
    const limit = this.now - this.horizon;
    for (let s = this.sentQueue.peek(); s && s.t < limit; s = this.sentQueue.peek()) this.settle(this.sentQueue.shift()!, false);
    const waitLimit = this.now - RECEIVED_WAIT;
    for (let r = this.waitQueue.peek(); r && r.t < waitLimit; r = this.waitQueue.peek()) this.unwait(this.waitQueue.shift()!);
  }

  /** The end of both captures: everything left in the window is settled. */
  finish(): void {
    for (let s = this.sentQueue.shift(); s; s = this.sentQueue.shift()) this.settle(s, true);
    for (let r = this.waitQueue.shift(); r; r = this.waitQueue.shift()) this.unwait(r);
  }

  private unwait(r: Received): void {
    if (r.key === -1) return;
    if (!r.flow.tcp || !this.byOffset(r)) r.flow.unmatched++;
    const list = this.waiting.get(r.key);
    if (!list) return;
    const i = list.indexOf(r);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.waiting.delete(r.key);
  }

  /** A TCP copy sent: kept a little while for byte-offset matching (the flow's recent sends, older ones dropped). */
  private remember(t: number, flow: Flow, s: Sent): void {
    const recent = flow.recent;
    recent.push(s);
    const keep = t - RECEIVED_WAIT - this.maxDelay[flow.dir] - 0.1;
    while (flow.recentHead < recent.length && recent[flow.recentHead]!.t < keep) recent[flow.recentHead++] = undefined as unknown as Sent;
    if (flow.recentHead > 1024 && flow.recentHead * 2 > recent.length) {
      flow.recent = recent.slice(flow.recentHead);
      flow.recentHead = 0;
    }
  }

  /** The sender's flow of a received one: the same addresses and ports, or (--nat) the flow its packets matched most. */
  private senderFlow(recv: Flow): Flow | undefined {
    const side: Side = recv.side === A ? B : A;
    if (!this.o.nat) return this.flows[side].find(recv.srcIp, recv.sport, recv.dstIp, recv.dport, true);
    let best: Flow | undefined;
    let n = 0;
    for (const [g, k] of recv.peers) if (k > n) [best, n] = [g, k];
    return best;
  }

  /**
   * A received TCP segment no sent copy matched whole: the two captures cut the
   * byte stream differently (segmentation offload, a middlebox coalescing or
   * splitting segments). Matched by stream offset instead: its delay is that of
   * the latest copy sent before it that holds its last byte, and every sent copy
   * inside its bytes counts as received. False when no sent copy holds its bytes.
   */
  private byOffset(r: Received): boolean {
    const sender = this.senderFlow(r.flow);
    if (!sender || r.len <= 0) return false;
    const recent = sender.recent;
    let last: Sent | undefined;
    const stop = Math.max(sender.recentHead, recent.length - OFFSET_SCAN);
    for (let i = recent.length - 1; i >= stop; i--) {
      const c = recent[i]!;
      if (c.t > r.t) continue;
      // c's bytes as offsets from the received segment's first byte (sequence numbers wrap at 2^32)
      const from = (c.seq - r.seq) | 0;
      const to = from + c.len;
      if (from >= r.len || to <= 0) continue;
      if (!last && from <= r.len - 1 && to >= r.len) last = c;
      else if (c.taken === 0 && from >= 0 && to <= r.len) c.taken++;
    }
    if (!last) return false;
    this.take(last, r.t, r.frame, r.flow, false);
    return true;
  }

  /** A copy leaves the window (the oldest of its key's chain). */
  private settle(s: Sent, atEnd: boolean): void {
    if (s.gone) {
      this.goneQueued--;
      return;
    }
    const head = this.sent.get(s.key);
    if (head === s) this.sent.delete(s.key);
    else {
      let c = head;
      while (c && c.older !== s) c = c.older;
      if (c) c.older = undefined;
    }
    if (s.taken > 0) return;
    const receiver = this.span[Matcher.senderOf(s.flow.dir) === A ? B : A];
    const wait = atEnd ? this.maxDelay[s.flow.dir] : this.horizon;
    // Not running then: it started later, or it ended (or will end) before the copy could arrive.
    if (!(receiver.first <= s.t) || (atEnd && !(s.t + wait <= receiver.last))) {
      s.flow.outsideOther++;
      return;
    }
    s.flow.lost++;
    this.o.onLost?.(s.flow.dir, s.t);
    // A copy of the same bytes sent later was received: the loss was repaired by a retransmission.
    for (let c = head; c && c !== s; c = c.older) {
      if (c.taken > 0) {
        s.flow.lostResent++;
        break;
      }
    }
  }
}

/** A flow's sender-side host pair and direction: a pair with no match at all went another way, and its copies are not losses. */
export function pathKey(f: Flow): string {
  return `${f.srcIp}>${f.dstIp}/${f.dir}`;
}

export { UP, DOWN };
