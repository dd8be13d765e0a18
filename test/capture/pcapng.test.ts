import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { TimestampConverter } from '../../src/capture/pcapng.js';

/** Reference conversion with BigInt: [sec, nsec] of `ticks` at if_tsresol `tsresol`. */
function reference(tsresol: number, ticks: bigint): [number, number] {
  const k = BigInt(tsresol & 0x7f);
  const perSecond = tsresol & 0x80 ? 1n << k : 10n ** k;
  return [Number(ticks / perSecond), Number(((ticks % perSecond) * 1_000_000_000n) / perSecond)];
}

function convert(tsresol: number, ticks: bigint, offset = 0): [number, number] {
  const clock = new TimestampConverter(tsresol, offset);
  clock.convert(Number(ticks >> 32n), Number(ticks & 0xffffffffn));
  return [clock.sec, clock.nsec];
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
/** tick counts near "now" at every scale, and plain 64-bit values */
const ticks = fc.oneof(u64, fc.bigInt({ min: 0n, max: 1n << 53n }), fc.bigInt({ min: 1n << 60n, max: (1n << 64n) - 1n }));

describe('TimestampConverter', () => {
  it('converts microseconds and nanoseconds since the epoch exactly', () => {
    expect(convert(6, 1763888060_564423n)).toEqual([1763888060, 564423000]);
    expect(convert(9, 1763888060_999999999n)).toEqual([1763888060, 999999999]);
    // 2^64 - 1 ns: beyond 2^53, where a double division would round
    expect(convert(9, (1n << 64n) - 1n)).toEqual([18446744073, 709551615]);
  });

  it('matches BigInt arithmetic for every decimal resolution 10^0 .. 10^-19', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 19 }), ticks, (k, t) => {
        expect(convert(k, t)).toEqual(reference(k, t));
      }),
      { numRuns: 5000 },
    );
  });

  it('matches BigInt arithmetic for every binary resolution 2^0 .. 2^-70', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70 }), ticks, (k, t) => {
        expect(convert(0x80 | k, t)).toEqual(reference(0x80 | k, t));
      }),
      { numRuns: 5000 },
    );
  });

  it('adds if_tsoffset seconds', () => {
    expect(convert(6, 1_500000n, 1700000000)).toEqual([1700000001, 500000000]);
    expect(convert(6, 1_500000n, -1)).toEqual([0, 500000000]);
  });

  it('names the precision of common resolutions', () => {
    expect([6, 9, 3, 0x80 | 20].map((r) => new TimestampConverter(r, 0).precision)).toEqual(['us', 'ns', 'other', 'other']);
  });
});
