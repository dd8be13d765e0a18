import { describe, expect, it } from 'vitest';
import { TextOut, utf8Bytes } from '../../src/output/text-out.js';

const written = (write: (out: TextOut) => void, size = 8): string => {
  const out = new TextOut(size);
  write(out);
  return out.text();
};

describe('TextOut', () => {
  it('encodes strings as Buffer.from does: ASCII, Latin-1, CJK, surrogate pairs, lone surrogates, long and short', () => {
    const strings = ['', 'EventAddResponse', '25 °C', 'été', '温度', 'a😀b', 'x\ud800y', 'é'.repeat(60), 'IOC:ai'.repeat(20), `${'a'.repeat(47)}😀`];
    for (const s of strings) {
      const out = new TextOut(4);
      out.str(s);
      expect(Buffer.from(out.buf.subarray(0, out.pos))).toEqual(Buffer.from(s, 'utf8'));
    }
  });

  it('writes numbers as String() does, integers below 2^32 in magnitude digit by digit', () => {
    const numbers = [0, -0, 7, 10, 99, 100, 65535, 4294967295, 4294967296, -1, -4294967295, -4294967296, 1.5, -2.25, NaN, Infinity, -Infinity, 1e21, 123456789012];
    for (const n of numbers) expect(written((out) => out.num(n))).toBe(String(n));
    expect(written((out) => out.u32(4000000000))).toBe('4000000000');
  });

  it('zero-pads to a width', () => {
    expect(written((out) => out.padded(5, 9))).toBe('000000005');
    expect(written((out) => out.padded(123456789, 9))).toBe('123456789');
    expect(written((out) => out.padded(42, 3))).toBe('042');
  });

  it('copies byte arrays short and long, growing the buffer and keeping what was written', () => {
    const short = utf8Bytes('->');
    const long = utf8Bytes('DBR_TIME_DOUBLE(status=NO_ALARM, ');
    const text = written((out) => {
      for (let i = 0; i < 100; i++) {
        out.bytes(short);
        out.bytes(long);
        out.char(0x41);
      }
    }, 3);
    expect(text).toBe('->DBR_TIME_DOUBLE(status=NO_ALARM, A'.repeat(100));
  });

  it('asks its owner for room when full, with the bytes it needs', () => {
    const asked: number[] = [];
    const out = new TextOut(4, (o, need) => {
      asked.push(need);
      const grown = Buffer.alloc(o.pos + need);
      o.buf.copy(grown, 0, 0, o.pos);
      o.buf = grown;
    });
    out.str('abc'); // up to 3 bytes per UTF-16 unit: 9 asked for
    out.str('de'); // fits the 9 given
    out.str('fgh'); // 5 written, 9 more asked for
    expect(asked).toEqual([9, 9]);
    expect(out.text()).toBe('abcdefgh');
  });
});
