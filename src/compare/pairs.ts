// The verdict per request/response pair seen at both points: each capture's
// requests are paired with their replies as `latency` pairs them (Pairer,
// through LatencyAnalysis), and a pair of A is the same as a pair of B when its
// request and its reply came in the same packets: the packets' keys (the
// matcher's hash of sequence number and bytes, and addresses unless --nat) are
// the same at both points, for a retransmitted copy too. Then
//   to server  = B's request time − A's (on one clock),
//   server     = B's reply time − B's request time (the IOC's own time),
//   to client  = A's reply time − B's (on one clock),
// and they add up to the time the client waited (A's reply − A's request).

import type { CaptureSource } from '../capture/source.js';
import type { EventFilterSpec } from '../dissect/filter.js';
import { quantileSorted } from '../analysis/latency-stats.js';
import { LatencyAnalysis } from '../analysis/latency.js';
import type { PairKind, PairRecord } from '../analysis/pairing.js';
import { runAnalysis } from '../analysis/runner.js';
import type { DissectOptions } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';

/** The kinds compared: a request the client sends and the IOC answers on a circuit. */
export const VERDICT_KINDS: readonly PairKind[] = ['create', 'read', 'write', 'subscribe', 'echo'];

/** One pair as one capture saw it (times: seconds since the comparison's origin, that capture's clock). */
export interface SeenPair {
  kind: PairKind;
  pv: string | undefined;
  client: string;
  server: string;
  requestFrame: number;
  responseFrame: number;
  request: number;
  response: number;
}

/** One capture's pairs, and the frames whose packet keys the comparison pass notes. */
export interface CapturePairs {
  pairs: SeenPair[];
  /** request and response frames, ascending, without repeats */
  frames: Uint32Array;
  /** the packet key of each frame in `frames` (NaN: not a compared packet), filled by the comparison pass */
  keys: Float64Array;
  result: DissectResult;
}

/** Pairs one capture's requests (kinds: VERDICT_KINDS) as `latency` does. */
export async function capturePairs(source: CaptureSource, originSec: number, filter: EventFilterSpec, dissect: DissectOptions, abort?: AbortSignal): Promise<CapturePairs> {
  const pairs: SeenPair[] = [];
  const onRecord = (r: PairRecord): void => {
    const request = r.requestSec - originSec + r.requestNsec / 1e9;
    pairs.push({
      kind: r.kind,
      pv: r.pv,
      client: r.client,
      server: r.server,
      requestFrame: r.requestFrame,
      responseFrame: r.responseFrame,
      request,
      response: request + r.latency,
    });
  };
  const analysis = new LatencyAnalysis({ kinds: VERDICT_KINDS, keepRecords: 0, onRecord });
  const { result } = await runAnalysis([source], analysis, { filter, dissect, abort });
  const all = new Uint32Array(pairs.length * 2);
  pairs.forEach((p, i) => {
    all[2 * i] = p.requestFrame;
    all[2 * i + 1] = p.responseFrame;
  });
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (n === 0 || all[i] !== all[n - 1]) all[n++] = all[i]!;
  const frames = all.slice(0, n);
  return { pairs, frames, keys: new Float64Array(n).fill(NaN), result };
}

/** Notes the keys of the wanted frames of one capture as its packets stream by (frames ascending). */
export class FrameKeys {
  private at = 0;
  constructor(private readonly wanted: CapturePairs) {}
  packet(frame: number, key: number): void {
    const frames = this.wanted.frames;
    while (this.at < frames.length && frames[this.at]! < frame) this.at++;
    if (this.at < frames.length && frames[this.at] === frame) this.wanted.keys[this.at] = key;
  }
}

function keyOf(c: CapturePairs, frame: number): number {
  const f = c.frames;
  let lo = 0;
  let hi = f.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (f[mid]! < frame) lo = mid + 1;
    else if (f[mid]! > frame) hi = mid - 1;
    else return c.keys[mid]!;
  }
  return NaN;
}

/** A pair seen at both points, with its legs (seconds). */
export interface PairVerdict {
  kind: PairKind;
  pv: string | undefined;
  /** as capture A saw them */
  client: string;
  server: string;
  a: SeenPair;
  b: SeenPair;
  toServer: number;
  /** the IOC's own time, at the server-side capture */
  atServer: number;
  toClient: number;
  total: number;
}

export interface LegStats {
  min: number;
  p50: number;
  p90: number;
  max: number;
}

export interface KindVerdict {
  kind: PairKind;
  /** pairs seen at both points */
  pairs: number;
  to_server_ms: LegStats;
  server_ms: LegStats;
  to_client_ms: LegStats;
  total_ms: LegStats;
}

export interface PairsReport {
  /** pairs seen at both points */
  matched: number;
  /** pairs one capture has and the other has not (one capture started later or ended sooner, a datagram lost, a filter) */
  only_a: number;
  only_b: number;
  by_kind: KindVerdict[];
}

/** seconds the causal bounds of the second pass allow for an offset estimated a little off */
const SLACK = 0.001;

/**
 * Matches A's pairs with B's by the keys of their request and response packets
 * (several pairs with the same keys, such as reads sent in one segment: in
 * order). A message completed at the receiver by a retransmission of an earlier
 * segment (a hole filled) has another frame there: the pairs left are matched on
 * the same circuit and kind by order and cause (B saw the request after A sent
 * it and answered before A got the reply). Legs timed with `offset` (A's clock
 * minus B's); `clientAtB` names a client of A as B saw it (--nat).
 */
export function matchPairs(a: CapturePairs, b: CapturePairs, offset: number, clientAtB: (client: string) => string = (c) => c): PairVerdict[] {
  const id = (c: CapturePairs, p: SeenPair): string | undefined => {
    const req = keyOf(c, p.requestFrame);
    const res = keyOf(c, p.responseFrame);
    return Number.isNaN(req) || Number.isNaN(res) ? undefined : `${p.kind} ${req} ${res}`;
  };
  const atB = new Map<string, SeenPair[]>();
  for (const p of b.pairs) {
    const k = id(b, p);
    if (k === undefined) continue;
    const list = atB.get(k);
    if (list) list.push(p);
    else atB.set(k, [p]);
  }
  const out: PairVerdict[] = [];
  const taken = new Set<SeenPair>();
  const left: SeenPair[] = [];
  const verdict = (p: SeenPair, q: SeenPair): void => {
    taken.add(q);
    // B's times on A's clock: + offset.
    const toServer = q.request + offset - p.request;
    const server = q.response - q.request;
    const toClient = p.response - (q.response + offset);
    out.push({ kind: p.kind, pv: p.pv, client: p.client, server: p.server, a: p, b: q, toServer, atServer: server, toClient, total: p.response - p.request });
  };
  for (const p of a.pairs) {
    const k = id(a, p);
    const list = k === undefined ? undefined : atB.get(k);
    const q = list?.shift();
    if (q) verdict(p, q);
    else left.push(p);
  }
  if (left.length === 0) return out;
  const byCircuit = new Map<string, SeenPair[]>();
  for (const q of b.pairs) {
    if (taken.has(q)) continue;
    const k = `${q.kind} ${q.client} ${q.server}`;
    const list = byCircuit.get(k);
    if (list) list.push(q);
    else byCircuit.set(k, [q]);
  }
  for (const list of byCircuit.values()) list.sort((x, y) => x.request - y.request);
  left.sort((x, y) => x.request - y.request);
  for (const p of left) {
    const list = byCircuit.get(`${p.kind} ${clientAtB(p.client)} ${p.server}`);
    if (!list) continue;
    const i = list.findIndex((q) => q.request + offset >= p.request - SLACK && q.response + offset <= p.response + SLACK);
    if (i >= 0) verdict(p, list.splice(i, 1)[0]!);
  }
  return out;
}

const ms = (s: number): number => Math.round(s * 1e9) / 1e6;

function legStats(values: number[]): LegStats {
  const sorted = Float64Array.from(values).sort();
  const q = (p: number): number => (sorted.length ? ms(quantileSorted(sorted, p)) : NaN);
  return { min: q(0), p50: q(0.5), p90: q(0.9), max: q(1) };
}

/** Per kind: how many pairs, and each leg's spread. */
export function pairsReport(verdicts: readonly PairVerdict[], a: CapturePairs, b: CapturePairs): PairsReport {
  const by_kind: KindVerdict[] = [];
  for (const kind of VERDICT_KINDS) {
    const mine = verdicts.filter((v) => v.kind === kind);
    if (mine.length === 0) continue;
    by_kind.push({
      kind,
      pairs: mine.length,
      to_server_ms: legStats(mine.map((v) => v.toServer)),
      server_ms: legStats(mine.map((v) => v.atServer)),
      to_client_ms: legStats(mine.map((v) => v.toClient)),
      total_ms: legStats(mine.map((v) => v.total)),
    });
  }
  return { matched: verdicts.length, only_a: a.pairs.length - verdicts.length, only_b: b.pairs.length - verdicts.length, by_kind };
}

/** Where a slow pair's time went: the network (both legs) or the IOC. */
export function blame(v: PairVerdict): 'network' | 'server' {
  return v.toServer + v.toClient > v.atServer ? 'network' : 'server';
}

export { ms as pairMs };
