import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  DBR_NAMES,
  dbrBase,
  dbrElementSize,
  dbrPayloadSize,
  dbrTypeName,
  dbrValueOffset,
  decodeDbr,
  encodeDbr,
  isDbrType,
  paddedSize,
  type DbrMetadata,
} from '../../protocols/ca/dbr.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A fixed-width C string field as hex: latin1 bytes, NUL padded to `width`. */
const fixed = (s: string, width: number): string => {
  const b = Buffer.alloc(width);
  b.write(s, 'latin1');
  return b.toString('hex');
};

// ca-protocol-notes §6.2: id, name, value offset, element size, N=1 bytes, N=1 on the wire.
const LAYOUT_TABLE: [number, string, number, number, number, number][] = [
  [0, 'DBR_STRING', 0, 40, 40, 40],
  [1, 'DBR_SHORT', 0, 2, 2, 8],
  [2, 'DBR_FLOAT', 0, 4, 4, 8],
  [3, 'DBR_ENUM', 0, 2, 2, 8],
  [4, 'DBR_CHAR', 0, 1, 1, 8],
  [5, 'DBR_LONG', 0, 4, 4, 8],
  [6, 'DBR_DOUBLE', 0, 8, 8, 8],
  [7, 'DBR_STS_STRING', 4, 40, 44, 48],
  [8, 'DBR_STS_SHORT', 4, 2, 6, 8],
  [9, 'DBR_STS_FLOAT', 4, 4, 8, 8],
  [10, 'DBR_STS_ENUM', 4, 2, 6, 8],
  [11, 'DBR_STS_CHAR', 5, 1, 6, 8],
  [12, 'DBR_STS_LONG', 4, 4, 8, 8],
  [13, 'DBR_STS_DOUBLE', 8, 8, 16, 16],
  [14, 'DBR_TIME_STRING', 12, 40, 52, 56],
  [15, 'DBR_TIME_SHORT', 14, 2, 16, 16],
  [16, 'DBR_TIME_FLOAT', 12, 4, 16, 16],
  [17, 'DBR_TIME_ENUM', 14, 2, 16, 16],
  [18, 'DBR_TIME_CHAR', 15, 1, 16, 16],
  [19, 'DBR_TIME_LONG', 12, 4, 16, 16],
  [20, 'DBR_TIME_DOUBLE', 16, 8, 24, 24],
  [21, 'DBR_GR_STRING', 4, 40, 44, 48],
  [22, 'DBR_GR_SHORT', 24, 2, 26, 32],
  [23, 'DBR_GR_FLOAT', 40, 4, 44, 48],
  [24, 'DBR_GR_ENUM', 422, 2, 424, 424],
  [25, 'DBR_GR_CHAR', 19, 1, 20, 24],
  [26, 'DBR_GR_LONG', 36, 4, 40, 40],
  [27, 'DBR_GR_DOUBLE', 64, 8, 72, 72],
  [28, 'DBR_CTRL_STRING', 4, 40, 44, 48],
  [29, 'DBR_CTRL_SHORT', 28, 2, 30, 32],
  [30, 'DBR_CTRL_FLOAT', 48, 4, 52, 56],
  [31, 'DBR_CTRL_ENUM', 422, 2, 424, 424],
  [32, 'DBR_CTRL_CHAR', 21, 1, 22, 24],
  [33, 'DBR_CTRL_LONG', 44, 4, 48, 48],
  [34, 'DBR_CTRL_DOUBLE', 80, 8, 88, 88],
  [35, 'DBR_PUT_ACKT', 0, 2, 2, 8],
  [36, 'DBR_PUT_ACKS', 0, 2, 2, 8],
  [37, 'DBR_STSACK_STRING', 8, 40, 48, 48],
  [38, 'DBR_CLASS_NAME', 0, 40, 40, 40],
];

describe('DBR type table', () => {
  it.each(LAYOUT_TABLE)('type %i %s: offset %i, element %i, N=1 %i bytes, %i on the wire', (t, name, off, elt, n1, wire) => {
    expect(DBR_NAMES[t]).toBe(name);
    expect(dbrTypeName(t)).toBe(name);
    expect(isDbrType(t)).toBe(true);
    expect(dbrValueOffset(t)).toBe(off);
    expect(dbrElementSize(t)).toBe(elt);
    expect(dbrPayloadSize(t, 1)).toBe(n1);
    expect(paddedSize(dbrPayloadSize(t, 1))).toBe(wire);
    expect(encodeDbr(t, [dbrBase(t) === 'STRING' ? 'x' : 1]).length).toBe(wire);
  });

  it('has exactly 39 names and rejects other codes', () => {
    expect(DBR_NAMES.length).toBe(39);
    for (const t of [-1, 39, 1.5, NaN]) expect(isDbrType(t)).toBe(false);
    expect(dbrTypeName(39)).toBe('DBR_39');
    expect(dbrTypeName(1234)).toBe('DBR_1234');
    expect(dbrBase(39)).toBeUndefined();
    expect(dbrValueOffset(39)).toBe(0);
    expect(dbrElementSize(39)).toBe(0);
    expect(dbrPayloadSize(39, 5)).toBe(0);
  });

  it('maps every type to its base value type', () => {
    const bases = ['STRING', 'SHORT', 'FLOAT', 'ENUM', 'CHAR', 'LONG', 'DOUBLE'];
    for (let t = 0; t <= 34; t++) expect(dbrBase(t)).toBe(bases[t % 7]);
    expect(dbrBase(35)).toBe('SHORT');
    expect(dbrBase(36)).toBe('SHORT');
    expect(dbrBase(37)).toBe('STRING');
    expect(dbrBase(38)).toBe('STRING');
  });

  it('sizes arrays and pads to 8', () => {
    expect(dbrPayloadSize(20, 3)).toBe(16 + 24);
    expect(dbrPayloadSize(14, 0)).toBe(12);
    expect(dbrPayloadSize(4, 256)).toBe(256);
    expect([0, 1, 7, 8, 9, 44, 422].map(paddedSize)).toEqual([0, 8, 8, 8, 16, 48, 424]);
  });
});

describe('decodeDbr: known byte layouts', () => {
  it('DBR_TIME_DOUBLE: status, severity, secPastEpoch, nsec, 4-byte pad, value', () => {
    const payload = hex('0003 0002 2e652537 3139c816 deadbeef 400921f9f01b866e');
    expect(decodeDbr(payload, 0, payload.length, 20, 1)).toEqual({
      dataType: 20,
      count: 1,
      values: [3.14159],
      metadata: { status: 3, severity: 2, secPastEpoch: 778380599, nsec: 825870358 },
      truncated: false,
    });
  });

  it('DBR_CTRL_DOUBLE of TEST:ao (precision 4, units V, limits ±100/±90/±50/±100)', () => {
    const bytes =
      '0000 0000 0004 0000' + // status, severity, precision, pad
      fixed('V', 8) +
      '4059000000000000 c059000000000000' + // upper/lower display 100, -100
      '4056800000000000 4049000000000000' + // upper alarm 90, upper warning 50
      'c049000000000000 c056800000000000' + // lower warning -50, lower alarm -90
      '4059000000000000 c059000000000000' + // upper/lower control 100, -100
      '400921f9f01b866e'; // value 3.14159
    const payload = hex(bytes);
    expect(payload.length).toBe(88);
    const metadata: DbrMetadata = {
      status: 0,
      severity: 0,
      precision: 4,
      units: 'V',
      upperDispLimit: 100,
      lowerDispLimit: -100,
      upperAlarmLimit: 90,
      upperWarningLimit: 50,
      lowerWarningLimit: -50,
      lowerAlarmLimit: -90,
      upperCtrlLimit: 100,
      lowerCtrlLimit: -100,
    };
    const decoded = decodeDbr(payload, 0, payload.length, 34, 1);
    expect(decoded.metadata).toEqual(metadata);
    expect(decoded.values).toEqual([3.14159]);
    expect(decoded.truncated).toBe(false);
    expect(encodeDbr(34, [3.14159], metadata)).toEqual(payload);
  });

  it('DBR_GR_ENUM: no_str strings of 26 bytes, strings past no_str ignored, u16 value', () => {
    const strings = ['Idle', 'Running', 'Paused', 'Fault\0xyz', 'Stale'].map((s) => fixed(s, 26)).join('');
    const payload = hex('0007 0001 0004' + strings + fixed('', 26 * 11) + '0001');
    expect(payload.length).toBe(424);
    const decoded = decodeDbr(payload, 0, payload.length, 24, 1);
    expect(decoded.metadata).toEqual({ status: 7, severity: 1, enumStrings: ['Idle', 'Running', 'Paused', 'Fault'] });
    expect(decoded.values).toEqual([1]);
    // DBR_CTRL_ENUM has the identical layout
    expect(decodeDbr(payload, 0, payload.length, 31, 1).metadata.enumStrings).toEqual(['Idle', 'Running', 'Paused', 'Fault']);
  });

  it('DBR_GR_ENUM: a 26-byte string with no NUL is cut at its width; no_str is clamped to 16', () => {
    const payload = hex('0000 0000 0011' + fixed('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 26) + fixed('', 26 * 15) + '0000');
    const decoded = decodeDbr(payload, 0, payload.length, 24, 1);
    expect(decoded.metadata.enumStrings).toHaveLength(16);
    expect(decoded.metadata.enumStrings![0]).toBe('ABCDEFGHIJKLMNOPQRSTUVWXYZ');
  });

  it("DBR_STS_CHAR: the pad byte before the value is skipped", () => {
    const payload = hex('0007 0001 ff 2a 5555');
    expect(decodeDbr(payload, 0, payload.length, 11, 1)).toEqual({
      dataType: 11,
      count: 1,
      values: [42],
      metadata: { status: 7, severity: 1 },
      truncated: false,
    });
    expect(encodeDbr(11, [42], { status: 7, severity: 1 })).toEqual(hex('0007 0001 00 2a 0000'));
  });

  it('DBR_CTRL_STRING and DBR_GR_STRING use the STS_STRING layout', () => {
    const payload = hex('0011 0003' + fixed('test', 40) + '00000000');
    for (const t of [7, 21, 28]) {
      expect(decodeDbr(payload, 0, payload.length, t, 1)).toEqual({
        dataType: t,
        count: 1,
        values: ['test'],
        metadata: { status: 17, severity: 3 },
        truncated: false,
      });
    }
  });

  it('DBR_STSACK_STRING: u16 status, severity, ackt, acks, then the string', () => {
    const payload = hex('0003 0002 0001 0002' + fixed('HIHI!', 40));
    expect(decodeDbr(payload, 0, payload.length, 37, 1)).toEqual({
      dataType: 37,
      count: 1,
      values: ['HIHI!'],
      metadata: { status: 3, severity: 2, ackt: 1, acks: 2 },
      truncated: false,
    });
  });

  it('DBR_GR_CHAR limits are unsigned bytes; DBR_CTRL_LONG limits are i32', () => {
    const grChar = hex('0000 0000' + fixed('%', 8) + 'ff 00 f0 c8 0a 05' + '00' + '41');
    expect(grChar.length).toBe(20);
    expect(decodeDbr(grChar, 0, 20, 25, 1)).toMatchObject({
      values: [0x41],
      metadata: { units: '%', upperDispLimit: 255, lowerDispLimit: 0, upperAlarmLimit: 240, lowerAlarmLimit: 5 },
    });
    const ctrlLong = hex(
      '0000 0000' + fixed('counts', 8) + '000003e8 fffffc18 00000384 000001f4 fffffe0c fffffc7c 000003e8 fffffc18' + '0000002a',
    );
    expect(decodeDbr(ctrlLong, 0, 48, 33, 1).metadata).toEqual({
      status: 0,
      severity: 0,
      units: 'counts',
      upperDispLimit: 1000,
      lowerDispLimit: -1000,
      upperAlarmLimit: 900,
      upperWarningLimit: 500,
      lowerWarningLimit: -500,
      lowerAlarmLimit: -900,
      upperCtrlLimit: 1000,
      lowerCtrlLimit: -1000,
    });
  });

  it('reads signedness per type: SHORT i16, ENUM and PUT_ACKT u16, CHAR u8, LONG i32', () => {
    const two = hex('ffff 8000 0000 0000');
    expect(decodeDbr(two, 0, 8, 1, 2).values).toEqual([-1, -32768]);
    expect(decodeDbr(two, 0, 8, 3, 2).values).toEqual([65535, 32768]);
    expect(decodeDbr(two, 0, 8, 35, 1).values).toEqual([65535]);
    expect(decodeDbr(two, 0, 8, 4, 3).values).toEqual([255, 255, 128]);
    expect(decodeDbr(two, 0, 8, 5, 2).values).toEqual([-32768, 0]);
    expect(decodeDbr(hex('40200000 c0200000'), 0, 8, 2, 2).values).toEqual([2.5, -2.5]);
  });
});

describe('decodeDbr: strings', () => {
  it('cuts at the first NUL and ignores garbage after it (old clients leave junk)', () => {
    const payload = hex(fixed('abc\0junk', 40));
    expect(decodeDbr(payload, 0, 40, 0, 1).values).toEqual(['abc']);
  });

  it('decodes a 40-byte string without NUL whole and bytes as latin1', () => {
    const payload = Buffer.alloc(80);
    payload.fill(0x41, 0, 40);
    payload.write('caf\u00e9 \u00ff', 40, 'latin1');
    expect(decodeDbr(payload, 0, 80, 0, 2).values).toEqual(['A'.repeat(40), 'caf\u00e9 \u00ff']);
  });

  it('decodes a trimmed single DBR_STRING (strlen+1 padded to 8) without truncation', () => {
    const payload = hex(fixed('abc', 8));
    expect(decodeDbr(payload, 0, 8, 0, 1)).toEqual({ dataType: 0, count: 1, values: ['abc'], metadata: {}, truncated: false });
  });

  it('decodes a trimmed last element after metadata and after whole elements', () => {
    const sts = hex('0000 0001' + fixed('Hello EPICS', 16));
    expect(decodeDbr(sts, 0, sts.length, 7, 1)).toMatchObject({ values: ['Hello EPICS'], truncated: false });
    const two = hex(fixed('first', 40) + fixed('second', 8));
    expect(decodeDbr(two, 0, two.length, 0, 2)).toMatchObject({ count: 2, values: ['first', 'second'], truncated: false });
  });

  it('flags a last string cut off without its NUL, and missing elements', () => {
    const cut = Buffer.from('abcd', 'latin1');
    expect(decodeDbr(cut, 0, 4, 0, 1)).toMatchObject({ count: 1, values: ['abcd'], truncated: true });
    const short = hex(fixed('one', 40));
    expect(decodeDbr(short, 0, 40, 0, 3)).toMatchObject({ count: 1, values: ['one'], truncated: true });
  });
});

describe('decodeDbr: arrays, padding, count 0, truncation', () => {
  it('ignores padding and bytes beyond data_count', () => {
    const payload = hex('0005 ffff ffff ffff');
    expect(decodeDbr(payload, 0, 8, 1, 1)).toEqual({ dataType: 1, count: 1, values: [5], metadata: {}, truncated: false });
  });

  it('decodes an array inside a larger buffer at an odd offset', () => {
    const payload = hex('0000 0001 00000001 00000002 0000 0064 fff6 7fff'); // 2-byte pad before the values
    const buf = Buffer.concat([Buffer.alloc(17, 0xee), payload, Buffer.alloc(5, 0xee)]);
    expect(decodeDbr(buf, 17, payload.length, 15, 3)).toEqual({
      dataType: 15,
      count: 3,
      values: [100, -10, 32767],
      metadata: { status: 0, severity: 1, secPastEpoch: 1, nsec: 2 },
      truncated: false,
    });
  });

  it('decodes a 100,000-element DBR_TIME_DOUBLE at an unaligned offset, bit-exact', () => {
    const n = 100_000;
    const values = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? -i : Math.sin(i) * 1e6));
    const payload = encodeDbr(20, values, { status: 0, severity: 0, secPastEpoch: 7, nsec: 9 });
    expect(payload.length).toBe(16 + 8 * n);
    const buf = Buffer.concat([Buffer.alloc(3), payload]);
    const decoded = decodeDbr(buf, 3, payload.length, 20, n);
    expect(decoded.count).toBe(n);
    expect(decoded.truncated).toBe(false);
    expect(decoded.values).toEqual(values);
    expect(buf.readDoubleBE(3 + 16 + 8 * 12345)).toBe(values[12345]);
  });

  it('decodes long arrays of every multi-byte numeric type (bulk path) like short ones', () => {
    const ints = Array.from({ length: 200 }, (_, i) => (i * 331) % 65536);
    expect(decodeDbr(encodeDbr(3, ints), 0, 400, 3, 200).values).toEqual(ints);
    const shorts = ints.map((v) => (v << 16) >> 16);
    expect(decodeDbr(encodeDbr(1, shorts), 0, 400, 1, 200).values).toEqual(shorts);
    const longs = ints.map((v) => v * 65537 - 2 ** 31);
    expect(decodeDbr(encodeDbr(5, longs), 0, 800, 5, 200).values).toEqual(longs);
    const floats = ints.map((v) => Math.fround(v / 3));
    expect(decodeDbr(encodeDbr(16, floats), 0, 812, 16, 200).values).toEqual(floats);
  });

  it('data_count 0 is an empty array even when the payload was sized for one element (catest frame 128)', () => {
    // DBR_TIME_DOUBLE, count 0: status UDF(17), severity INVALID(3), zero stamp, then 8 bytes older RSRV adds.
    const payload = hex('0011 0003 00000000 00000000 00000000 0000000000000000');
    expect(decodeDbr(payload, 0, 24, 20, 0)).toMatchObject({ count: 0, values: [], truncated: false, metadata: { status: 17, severity: 3 } });
    const strings = hex(fixed('a', 40) + fixed('b', 40));
    expect(decodeDbr(strings, 0, 80, 0, 0).values).toEqual([]);
  });

  it('truncated numeric payload: whole elements only, truncated set', () => {
    const payload = encodeDbr(6, [1, 2, 3]);
    expect(decodeDbr(payload, 0, 20, 6, 5)).toEqual({ dataType: 6, count: 2, values: [1, 2], metadata: {}, truncated: true });
  });

  it('truncated metadata: the fields that fit, no values', () => {
    const payload = hex('0003 0002 2e652537 3139c816 00000000 400921f9f01b866e');
    expect(decodeDbr(payload, 0, 10, 20, 1)).toEqual({
      dataType: 20,
      count: 0,
      values: [],
      metadata: { status: 3, severity: 2, secPastEpoch: 778380599 },
      truncated: true,
    });
    expect(decodeDbr(payload, 0, 0, 34, 1)).toEqual({ dataType: 34, count: 0, values: [], metadata: {}, truncated: true });
  });

  it('stays inside the buffer when len or off run past its end', () => {
    const payload = encodeDbr(6, [1.5, 2.5]);
    expect(decodeDbr(payload, 0, 1000, 6, 2)).toMatchObject({ values: [1.5, 2.5], truncated: false });
    expect(decodeDbr(payload, 8, 1000, 6, 2)).toMatchObject({ values: [2.5], truncated: true });
    expect(decodeDbr(payload, 99, 8, 6, 1)).toMatchObject({ count: 0, values: [], truncated: true });
    expect(decodeDbr(payload, 0, -4, 6, 1)).toMatchObject({ count: 0, values: [], truncated: true });
  });

  it('unknown data type: no values, count 0', () => {
    const payload = Buffer.alloc(16, 1);
    expect(decodeDbr(payload, 0, 16, 39, 2)).toEqual({ dataType: 39, count: 0, values: [], metadata: {}, truncated: false });
  });
});

describe('encodeDbr', () => {
  it('writes big-endian fields and zero pads to 8', () => {
    expect(encodeDbr(8, [-2], { status: 1, severity: 2 })).toEqual(hex('0001 0002 fffe 0000'));
    expect(encodeDbr(20, [3.14159], { status: 3, severity: 2, secPastEpoch: 778380599, nsec: 825870358 })).toEqual(
      hex('0003 0002 2e652537 3139c816 00000000 400921f9f01b866e'),
    );
    expect(encodeDbr(14, ['ab'], {})).toEqual(hex('0000 0000 00000000 00000000' + fixed('ab', 40) + '00000000'));
  });

  it('ignores metadata fields the type lacks and writes missing ones as zero', () => {
    expect(encodeDbr(6, [1], { status: 5, units: 'V' })).toEqual(hex('3ff0000000000000'));
    expect(encodeDbr(9, [2.5])).toEqual(hex('0000 0000 40200000'));
  });

  it('writes only the first 16 GR_ENUM strings, each cut at 26 bytes', () => {
    const many = Array.from({ length: 20 }, (_, i) => `state-${i}-${'x'.repeat(30)}`);
    const payload = encodeDbr(24, [3], { status: 0, severity: 0, enumStrings: many });
    const decoded = decodeDbr(payload, 0, payload.length, 24, 1);
    expect(decoded.metadata.enumStrings).toEqual(many.slice(0, 16).map((s) => s.slice(0, 26)));
    expect(decoded.values).toEqual([3]);
  });

  it('refuses unknown types', () => {
    expect(() => encodeDbr(39, [1])).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------- round trip, every type

type Base = 'STRING' | 'SHORT' | 'FLOAT' | 'ENUM' | 'CHAR' | 'LONG' | 'DOUBLE';

const latin1 = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength });
const i16 = fc.integer({ min: -32768, max: 32767 });
const u16 = fc.integer({ min: 0, max: 65535 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const VALUE_ARB: Record<Base, fc.Arbitrary<number | string>> = {
  STRING: latin1(40),
  SHORT: i16,
  FLOAT: fc.float(),
  ENUM: u16,
  CHAR: fc.integer({ min: 0, max: 255 }),
  LONG: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  DOUBLE: fc.double(),
};

const LIMIT_KEYS = [
  'upperDispLimit',
  'lowerDispLimit',
  'upperAlarmLimit',
  'upperWarningLimit',
  'lowerWarningLimit',
  'lowerAlarmLimit',
] as const;

/** The metadata each type carries (ca-protocol-notes §6.3), written independently of dbr.ts. */
function metadataArb(t: number, base: Base): fc.Arbitrary<DbrMetadata> {
  const name = DBR_NAMES[t]!;
  const alarm = { status: i16, severity: i16 };
  if (t <= 6 || t === 35 || t === 36 || t === 38) return fc.constant({});
  if (t === 37) return fc.record({ status: u16, severity: u16, ackt: u16, acks: u16 });
  if (name.includes('_TIME_')) return fc.record({ ...alarm, secPastEpoch: u32, nsec: u32 });
  if (name.includes('_STS_') || base === 'STRING') return fc.record(alarm); // GR/CTRL_STRING: STS layout
  if (base === 'ENUM') return fc.record({ ...alarm, enumStrings: fc.array(latin1(26), { maxLength: 16 }) });
  const limit = VALUE_ARB[base] as fc.Arbitrary<number>;
  const limits = Object.fromEntries(
    [...LIMIT_KEYS, ...(name.includes('_CTRL_') ? (['upperCtrlLimit', 'lowerCtrlLimit'] as const) : [])].map((k) => [k, limit]),
  );
  const precision: Record<string, fc.Arbitrary<number>> = base === 'FLOAT' || base === 'DOUBLE' ? { precision: i16 } : {};
  return fc.record({ ...alarm, ...precision, units: latin1(8), ...limits });
}

describe('encodeDbr / decodeDbr round trip', () => {
  it.each(DBR_NAMES.map((name, t) => [t, name] as const))('type %i %s', (t) => {
    const base = dbrBase(t)!;
    // PUT_ACKT / PUT_ACKS are SHORT-like but unsigned
    fc.assert(
      fc.property(fc.array(t === 35 || t === 36 ? u16 : VALUE_ARB[base], { minLength: 1, maxLength: 6 }), metadataArb(t, base), (values, metadata) => {
        const payload = encodeDbr(t, values, metadata);
        expect(payload.length % 8).toBe(0);
        expect(payload.length).toBe(paddedSize(dbrPayloadSize(t, values.length)));
        const decoded = decodeDbr(payload, 0, payload.length, t, values.length);
        expect(decoded).toEqual({ dataType: t, count: values.length, values, metadata, truncated: false });
      }),
      { numRuns: 25 },
    );
  });
});
