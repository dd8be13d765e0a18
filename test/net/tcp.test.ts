import { describe, expect, it } from 'vitest';
import { HeldBudget, TcpStream, type StreamConsumer } from '../../src/net/tcp.js';

/** Records what the stream delivers: the bytes in order, with '|' where a gap was declared. */
class Recorder implements StreamConsumer {
  out = '';
  gaps: number[] = [];
  data(buf: Buffer, off: number, len: number): void {
    this.out += buf.toString('latin1', off, off + len);
  }
  gap(bytes: number): void {
    this.gaps.push(bytes);
    this.out += '|';
  }
}

function stream(maxHeld = 1 << 20, budget = new HeldBudget(1 << 30)) {
  const r = new Recorder();
  return { r, s: new TcpStream(r, { maxHeldPerStream: maxHeld }, budget), budget };
}

/** Feeds a segment; returns how many of its bytes were new. */
const seg = (s: TcpStream, seq: number, text: string) => s.segment(seq >>> 0, Buffer.from(text, 'latin1'), 0, text.length);

describe('TcpStream', () => {
  it('delivers in-order segments as they come and starts at ISN + 1 after a SYN', () => {
    const { r, s } = stream();
    s.syn(999);
    expect([seg(s, 1000, 'abc'), seg(s, 1003, 'def')]).toEqual([3, 3]);
    expect(r.out).toBe('abcdef');
    expect(s.nextSeq).toBe(1006);
    expect(s.stats).toEqual({ bytes: 6, gaps: 0, gapBytes: 0 });
  });

  it('drops a full retransmission and trims an overlapping one to its new bytes', () => {
    const { r, s } = stream();
    expect([seg(s, 1, 'abcd'), seg(s, 1, 'abcd'), seg(s, 3, 'cdEF')]).toEqual([4, 0, 2]);
    expect(r.out).toBe('abcdEF');
  });

  it('holds an early segment until the hole is filled, then delivers in order', () => {
    const { r, s } = stream();
    seg(s, 1, 'ab');
    expect([seg(s, 5, 'ef'), seg(s, 7, 'gh'), seg(s, 7, 'gh')]).toEqual([2, 2, 0]); // the copy of a held segment is not new
    expect(r.out).toBe('ab');
    expect(seg(s, 3, 'cd')).toBe(2); // the hole filled late: new bytes
    expect(r.out).toBe('abcdefgh');
    expect(s.stats.gaps).toBe(0);
  });

  it('declares a gap when the peer acknowledges past the hole (the capture lost it)', () => {
    const { r, s } = stream();
    seg(s, 1, 'ab');
    seg(s, 6, 'fg');
    expect(r.out).toBe('ab');
    s.ack(8);
    expect(r.out).toBe('ab|fg');
    expect(r.gaps).toEqual([3]);
    expect(s.stats).toMatchObject({ gaps: 1, gapBytes: 3 });
  });

  it('declares the gap at once when the early segment arrives after the peer already acknowledged it', () => {
    const { r, s } = stream();
    seg(s, 1, 'ab');
    s.ack(10);
    seg(s, 6, 'fg');
    expect(r.out).toBe('ab|fg');
  });

  it('gives up on a hole when held bytes exceed the per-stream limit', () => {
    const { r, s } = stream(4);
    seg(s, 1, 'ab');
    seg(s, 10, 'jk');
    seg(s, 12, 'lm');
    expect(r.out).toBe('ab');
    seg(s, 14, 'n'); // 5 bytes held > 4
    expect(r.out).toBe('ab|jklmn');
    expect(r.gaps).toEqual([7]);
  });

  it('shares a total budget across streams', () => {
    const budget = new HeldBudget(3);
    const a = stream(100, budget);
    const b = stream(100, budget);
    seg(a.s, 1, 'x');
    seg(a.s, 5, 'yy');
    seg(b.s, 1, 'x');
    seg(b.s, 5, 'zz'); // 4 held in all > 3: b gives up its hole
    expect(b.r.out).toBe('x|zz');
    expect(budget.held).toBe(2);
  });

  it('flush delivers what is held after declaring the holes', () => {
    const { r, s } = stream();
    seg(s, 1, 'a');
    seg(s, 4, 'd');
    seg(s, 8, 'h');
    s.flush();
    expect(r.out).toBe('a|d|h');
    expect(r.gaps).toEqual([2, 3]);
  });

  it('handles sequence numbers that wrap past 2^32', () => {
    const { r, s } = stream();
    s.syn(0xfffffffd);
    seg(s, 0xfffffffe, 'ab');
    seg(s, 0x00000001, 'de'); // early: 'c' at 0 is missing
    seg(s, 0x00000000, 'c');
    expect(r.out).toBe('abcde');
  });
});
