import { describe, expect, it } from 'vitest';
import { IdSet } from '../../src/analysis/id-set.js';

describe('IdSet', () => {
  it('holds small ids as bits, growing, and large ids (up to 2^32 - 1) apart', () => {
    const s = new IdSet();
    for (const id of [0, 7, 8, 127, 128, 65535, 65536, 2 ** 31, 2 ** 32 - 1]) {
      expect(s.has(id)).toBe(false);
      s.add(id);
      expect(s.has(id)).toBe(true);
    }
    expect([1, 6, 9, 126, 129, 65534, 65537, 2 ** 31 - 1, 2 ** 31 + 1].some((id) => s.has(id))).toBe(false);
    s.delete(128);
    s.delete(2 ** 31);
    s.delete(99999); // never added, beyond the bits
    expect([128, 2 ** 31].map((id) => s.has(id))).toEqual([false, false]);
    expect([127, 65535, 65536, 2 ** 32 - 1].map((id) => s.has(id))).toEqual([true, true, true, true]);
  });

  it('answers as a Set does over a random run of adds and deletes', () => {
    const s = new IdSet();
    const ref = new Set<number>();
    let x = 12345;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 20000; i++) {
      const r = next();
      // mostly small counters, some large ids
      const id = r % 10 === 0 ? next() : r % 5000;
      if (r & 0x100) {
        s.add(id);
        ref.add(id);
      } else {
        s.delete(id);
        ref.delete(id);
      }
      const probe = next() % 7 === 0 ? next() : next() % 5000;
      expect(s.has(probe)).toBe(ref.has(probe));
      expect(s.has(id)).toBe(ref.has(id));
    }
    expect(ref.size).toBeGreaterThan(1000);
  });
});
