import { describe, expect, it } from 'vitest';
import { StreamTruth, type StreamMessage } from '../../src/synth/stream-truth.js';
import { TimeQueue } from '../../src/synth/timeline.js';
import type { TruthEffect } from '../../src/synth/truth.js';

const FIRST_SEQ = 0xfffffff0; // the stream's sequence numbers wrap inside the test

function message(type: string): StreamMessage {
  return { type, effect: () => ({ kind: 'message', type }) };
}

/** Feeds packets [at, stream offset, length] and returns the effects of each. */
function feed(stream: StreamTruth, packets: Array<[number, number, number]>): TruthEffect[][] {
  return packets.map(([at, offset, len]) => {
    const effects: TruthEffect[] = [];
    stream.data(at, (FIRST_SEQ + offset) >>> 0, len, effects);
    return effects;
  });
}

describe('StreamTruth', () => {
  it('completes each message at the packet carrying its last byte', () => {
    const stream = new StreamTruth(FIRST_SEQ);
    const msgs = [message('A'), message('B'), message('C')];
    stream.queue(msgs, [16, 40, 2000]);
    const effects = feed(stream, [[10, 0, 1448], [20, 1448, 608]]);
    expect(effects.map((e) => e.map((x) => (x.kind === 'message' ? x.type : x.kind)))).toEqual([['A', 'B'], ['C']]);
    expect(msgs.map((m) => m.completedAt)).toEqual([10, 10, 20]);
  });

  it('counts a repeated packet as a retransmission and an early one as out of order', () => {
    const stream = new StreamTruth(FIRST_SEQ);
    const msg = message('W');
    stream.queue([msg], [3000]);
    const effects = feed(stream, [[1, 1000, 1000], [2, 0, 1000], [3, 0, 1000], [4, 2000, 1000]]);
    expect(effects).toEqual([[{ kind: 'out-of-order' }], [], [{ kind: 'retransmission' }], [{ kind: 'message', type: 'W' }]]);
    expect(msg.completedAt).toBe(4);
  });

  it('reports missed bytes as a gap, with the messages in them, when the next packet shows the stream went on', () => {
    const stream = new StreamTruth(FIRST_SEQ);
    const lost = [message('X'), message('Y')];
    const start = stream.queue(lost, [1000, 500]);
    stream.miss(start + 1000, start + 1500);
    expect(stream.gapPending).toBe(true);
    const next = message('Z');
    stream.queue([next], [16]);
    const effects = feed(stream, [[1, 0, 1000], [2, 1500, 16]]);
    expect(effects).toEqual([
      [{ kind: 'message', type: 'X' }],
      [{ kind: 'gap', bytes: 500, lostTypes: ['Y'] }, { kind: 'message', type: 'Z' }],
    ]);
    expect([lost[1]!.completedAt, stream.gapPending]).toEqual([undefined, false]);
  });
});

describe('TimeQueue', () => {
  it('pops in time order, equal times in insertion order', () => {
    const q = new TimeQueue<string>();
    for (const [at, item] of [[5, 'e'], [1, 'a'], [3, 'c1'], [3, 'c2'], [2, 'b'], [3, 'c3']] as const) q.push(at, item);
    expect(q.peekTime()).toBe(1);
    const out: string[] = [];
    while (q.size > 0) out.push(q.pop()!.item);
    expect(out).toEqual(['a', 'b', 'c1', 'c2', 'c3', 'e']);
    expect([q.pop(), q.peekTime()]).toEqual([undefined, Infinity]);
  });
});
