// DBR payloads (ca-protocol-notes §6): the type table, sizes, decoder and encoder.
//
// Every type is one row of DBR_TABLE: its value format and the metadata fields
// that precede the first value, in wire order, with the explicit pad fields of
// db_access.h. Field offsets and the value offset are computed from the rows,
// and the test suite checks them against the layout table of §6.2.

import { f32be, f64be, i16be, i32be, u16be, u32be } from '../bytes.js';

export type DbrBase = 'STRING' | 'SHORT' | 'FLOAT' | 'ENUM' | 'CHAR' | 'LONG' | 'DOUBLE';

/** Metadata of a DBR payload; only the fields the type carries are set. */
export interface DbrMetadata {
  status?: number;
  severity?: number;
  secPastEpoch?: number;
  nsec?: number;
  precision?: number;
  units?: string;
  enumStrings?: string[];
  upperDispLimit?: number;
  lowerDispLimit?: number;
  upperAlarmLimit?: number;
  upperWarningLimit?: number;
  lowerWarningLimit?: number;
  lowerAlarmLimit?: number;
  upperCtrlLimit?: number;
  lowerCtrlLimit?: number;
  ackt?: number;
  acks?: number;
}

export interface DbrValue {
  dataType: number;
  /** elements decoded */
  count: number;
  values: number[] | string[];
  metadata: DbrMetadata;
  /** payload shorter than data_count needs (or than the metadata) */
  truncated: boolean;
}

/** How one number is stored on the wire (big-endian). */
type NumberKind = 'i16' | 'u16' | 'i32' | 'u32' | 'u8' | 'f32' | 'f64';

const NUMBER_SIZE: Record<NumberKind, number> = { i16: 2, u16: 2, i32: 4, u32: 4, u8: 1, f32: 4, f64: 8 };

const STRING_SIZE = 40; // dbr_string_t: char[40]
const UNITS_SIZE = 8; // char units[8]
const ENUM_STRING_SIZE = 26; // char strs[16][26]
const MAX_ENUM_STRINGS = 16;

interface ValueFormat {
  base: DbrBase;
  kind: NumberKind | 'string';
}

const STRING: ValueFormat = { base: 'STRING', kind: 'string' };
const SHORT: ValueFormat = { base: 'SHORT', kind: 'i16' };
const FLOAT: ValueFormat = { base: 'FLOAT', kind: 'f32' };
const ENUM: ValueFormat = { base: 'ENUM', kind: 'u16' };
const CHAR: ValueFormat = { base: 'CHAR', kind: 'u8' }; // dbr_char_t is epicsUInt8
const LONG: ValueFormat = { base: 'LONG', kind: 'i32' };
const DOUBLE: ValueFormat = { base: 'DOUBLE', kind: 'f64' };
const ACK: ValueFormat = { base: 'SHORT', kind: 'u16' }; // PUT_ACKT / PUT_ACKS: dbr_put_ackt_t is u16

type NumericMetaKey = Exclude<keyof DbrMetadata, 'units' | 'enumStrings'>;

type MetaField =
  | { kind: NumberKind; key: NumericMetaKey }
  | { kind: 'units' } // char[8]
  | { kind: 'enumStrings' } // i16 no_str, then char[16][26]
  | { kind: 'pad'; size: number };

const num = (key: NumericMetaKey, kind: NumberKind): MetaField => ({ kind, key });
const pad = (size: number): MetaField[] => (size > 0 ? [{ kind: 'pad', size }] : []);
const UNITS: MetaField = { kind: 'units' };
const ALARM = [num('status', 'i16'), num('severity', 'i16')];

/** STS family: status, severity, pad. */
const sts = (padBytes = 0): MetaField[] => [...ALARM, ...pad(padBytes)];

/** TIME family: status, severity, u32 secPastEpoch, u32 nsec, pad. */
const time = (padBytes = 0): MetaField[] => [...ALARM, num('secPastEpoch', 'u32'), num('nsec', 'u32'), ...pad(padBytes)];

/** The display/alarm limits, in the value's own type; CTRL adds two control limits. */
function limits(value: ValueFormat, withCtrl: boolean): MetaField[] {
  const kind = value.kind as NumberKind;
  const keys: NumericMetaKey[] = [
    'upperDispLimit',
    'lowerDispLimit',
    'upperAlarmLimit',
    'upperWarningLimit',
    'lowerWarningLimit',
    'lowerAlarmLimit',
  ];
  if (withCtrl) keys.push('upperCtrlLimit', 'lowerCtrlLimit');
  return keys.map((key) => num(key, kind));
}

/**
 * GR / CTRL families: status, severity, [i16 precision, i16 pad for FLOAT and
 * DOUBLE], units[8], limits, pad.
 */
function graphic(value: ValueFormat, withCtrl: boolean, padBytes = 0): MetaField[] {
  const precision = value.kind === 'f32' || value.kind === 'f64' ? [num('precision', 'i16'), ...pad(2)] : [];
  return [...ALARM, ...precision, UNITS, ...limits(value, withCtrl), ...pad(padBytes)];
}
const gr = (value: ValueFormat, padBytes = 0) => graphic(value, false, padBytes);
const ctrl = (value: ValueFormat, padBytes = 0) => graphic(value, true, padBytes);

/** GR_ENUM / CTRL_ENUM: status, severity, no_str, strs[16][26]. */
const ENUM_STRINGS: MetaField[] = [...ALARM, { kind: 'enumStrings' }];

/** STSACK_STRING: u16 status, severity, ackt, acks. */
const STSACK: MetaField[] = [num('status', 'u16'), num('severity', 'u16'), num('ackt', 'u16'), num('acks', 'u16')];

// Index = DBR type code.
const DBR_TABLE: readonly (readonly [name: string, value: ValueFormat, metadata: readonly MetaField[]])[] = [
  ['DBR_STRING', STRING, []],
  ['DBR_SHORT', SHORT, []],
  ['DBR_FLOAT', FLOAT, []],
  ['DBR_ENUM', ENUM, []],
  ['DBR_CHAR', CHAR, []],
  ['DBR_LONG', LONG, []],
  ['DBR_DOUBLE', DOUBLE, []],
  ['DBR_STS_STRING', STRING, sts()],
  ['DBR_STS_SHORT', SHORT, sts()],
  ['DBR_STS_FLOAT', FLOAT, sts()],
  ['DBR_STS_ENUM', ENUM, sts()],
  ['DBR_STS_CHAR', CHAR, sts(1)],
  ['DBR_STS_LONG', LONG, sts()],
  ['DBR_STS_DOUBLE', DOUBLE, sts(4)],
  ['DBR_TIME_STRING', STRING, time()],
  ['DBR_TIME_SHORT', SHORT, time(2)],
  ['DBR_TIME_FLOAT', FLOAT, time()],
  ['DBR_TIME_ENUM', ENUM, time(2)],
  ['DBR_TIME_CHAR', CHAR, time(3)],
  ['DBR_TIME_LONG', LONG, time()],
  ['DBR_TIME_DOUBLE', DOUBLE, time(4)],
  ['DBR_GR_STRING', STRING, sts()], // no graphic info for strings: STS_STRING layout
  ['DBR_GR_SHORT', SHORT, gr(SHORT)],
  ['DBR_GR_FLOAT', FLOAT, gr(FLOAT)],
  ['DBR_GR_ENUM', ENUM, ENUM_STRINGS],
  ['DBR_GR_CHAR', CHAR, gr(CHAR, 1)],
  ['DBR_GR_LONG', LONG, gr(LONG)],
  ['DBR_GR_DOUBLE', DOUBLE, gr(DOUBLE)],
  ['DBR_CTRL_STRING', STRING, sts()], // STS_STRING layout (caproto wrongly uses TIME_STRING's)
  ['DBR_CTRL_SHORT', SHORT, ctrl(SHORT)],
  ['DBR_CTRL_FLOAT', FLOAT, ctrl(FLOAT)],
  ['DBR_CTRL_ENUM', ENUM, ENUM_STRINGS],
  ['DBR_CTRL_CHAR', CHAR, ctrl(CHAR, 1)],
  ['DBR_CTRL_LONG', LONG, ctrl(LONG)],
  ['DBR_CTRL_DOUBLE', DOUBLE, ctrl(DOUBLE)],
  ['DBR_PUT_ACKT', ACK, []],
  ['DBR_PUT_ACKS', ACK, []],
  ['DBR_STSACK_STRING', STRING, STSACK],
  ['DBR_CLASS_NAME', STRING, []],
];

type PlacedField = Exclude<MetaField, { kind: 'pad' }> & { offset: number; size: number };

interface DbrLayout {
  name: string;
  value: ValueFormat;
  fields: readonly PlacedField[];
  valueOffset: number;
  elementSize: number;
  /** reads all metadata at once when it is the STS or TIME family's (the common monitor payloads) */
  readAll?: (buf: Uint8Array, at: number) => DbrMetadata;
}

const readSts = (b: Uint8Array, at: number): DbrMetadata => ({ status: i16be(b, at), severity: i16be(b, at + 2) });
const readTime = (b: Uint8Array, at: number): DbrMetadata => ({
  status: i16be(b, at),
  severity: i16be(b, at + 2),
  secPastEpoch: u32be(b, at + 4),
  nsec: u32be(b, at + 8),
});

/** The whole-metadata reader for a field list, if it is one of the common shapes. */
function wholeReader(fields: readonly PlacedField[]): DbrLayout['readAll'] {
  const shape = fields.map((f) => `${f.kind === 'units' || f.kind === 'enumStrings' ? f.kind : `${f.key}:${f.kind}`}@${f.offset}`).join(',');
  if (shape === 'status:i16@0,severity:i16@2') return readSts;
  if (shape === 'status:i16@0,severity:i16@2,secPastEpoch:u32@4,nsec:u32@8') return readTime;
  return undefined;
}

function fieldSize(field: MetaField): number {
  switch (field.kind) {
    case 'units':
      return UNITS_SIZE;
    case 'enumStrings':
      return 2 + MAX_ENUM_STRINGS * ENUM_STRING_SIZE;
    case 'pad':
      return field.size;
    default:
      return NUMBER_SIZE[field.kind];
  }
}

const LAYOUTS: readonly DbrLayout[] = DBR_TABLE.map(([name, value, metadata]) => {
  const fields: PlacedField[] = [];
  let offset = 0;
  for (const field of metadata) {
    if (field.kind !== 'pad') fields.push({ ...field, offset, size: fieldSize(field) });
    offset += fieldSize(field);
  }
  const elementSize = value.kind === 'string' ? STRING_SIZE : NUMBER_SIZE[value.kind];
  return { name, value, fields, valueOffset: offset, elementSize, readAll: wholeReader(fields) };
});

export const DBR_NAMES: readonly string[] = LAYOUTS.map((layout) => layout.name);

export function isDbrType(t: number): boolean {
  return Number.isInteger(t) && t >= 0 && t < LAYOUTS.length;
}

function layoutOf(t: number): DbrLayout | undefined {
  return isDbrType(t) ? LAYOUTS[t] : undefined;
}

/** 'DBR_TIME_DOUBLE' etc.; unknown types as `DBR_${t}`. */
export function dbrTypeName(t: number): string {
  return layoutOf(t)?.name ?? `DBR_${t}`;
}

export function dbrBase(t: number): DbrBase | undefined {
  return layoutOf(t)?.value.base;
}

/** Byte offset of the first value element (metadata size with pads); 0 for unknown types. */
export function dbrValueOffset(t: number): number {
  return layoutOf(t)?.valueOffset ?? 0;
}

/** Bytes per value element; 0 for unknown types. */
export function dbrElementSize(t: number): number {
  return layoutOf(t)?.elementSize ?? 0;
}

/** Unpadded payload size for `count` elements: offset + count × element size. */
export function dbrPayloadSize(t: number, count: number): number {
  const layout = layoutOf(t);
  return layout ? layout.valueOffset + count * layout.elementSize : 0;
}

/** Round up to a multiple of 8 (CA payload alignment). */
export function paddedSize(n: number): number {
  return (n + 7) & ~7;
}

// ---------------------------------------------------------------- decoding

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const READ_NUMBER: Record<NumberKind, (b: Uint8Array, at: number) => number> = {
  i16: i16be,
  u16: u16be,
  i32: i32be,
  u32: u32be,
  u8: (b, at) => b[at]!,
  f32: f32be,
  f64: f64be,
};

type MultiByteKind = Exclude<NumberKind, 'u8'>;
type HostArray = Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** Host-order typed array of each kind, and the Buffer swap that turns big-endian bytes into it. */
const HOST_ARRAY: Record<MultiByteKind, { create: (n: number) => HostArray; swap: (b: Buffer) => Buffer }> = {
  i16: { create: (n) => new Int16Array(n), swap: (b) => b.swap16() },
  u16: { create: (n) => new Uint16Array(n), swap: (b) => b.swap16() },
  i32: { create: (n) => new Int32Array(n), swap: (b) => b.swap32() },
  u32: { create: (n) => new Uint32Array(n), swap: (b) => b.swap32() },
  f32: { create: (n) => new Float32Array(n), swap: (b) => b.swap32() },
  f64: { create: (n) => new Float64Array(n), swap: (b) => b.swap64() },
};

/** Below this many elements a DataView loop is faster than copy + byte swap. */
const BULK_MIN_ELEMENTS = 64;

function readNumbers(buf: Buffer, start: number, n: number, kind: NumberKind): number[] {
  const out = new Array<number>(n);
  if (kind === 'u8') {
    for (let i = 0; i < n; i++) out[i] = buf[start + i]!;
  } else if (n >= BULK_MIN_ELEMENTS) {
    // One memcpy into an aligned host-order array and one native byte swap beat
    // n bounds-checked big-endian reads (about 2x for 100k doubles).
    const { create, swap } = HOST_ARRAY[kind];
    const host = create(n);
    const bytes = Buffer.from(host.buffer, 0, host.byteLength);
    buf.copy(bytes, 0, start, start + host.byteLength);
    if (HOST_IS_LITTLE_ENDIAN) swap(bytes);
    for (let i = 0; i < n; i++) out[i] = host[i]!;
  } else {
    const read = READ_NUMBER[kind];
    const size = NUMBER_SIZE[kind];
    for (let i = 0, at = start; i < n; i++, at += size) out[i] = read(buf, at);
  }
  return out;
}

/** Fixed-width string field: cut at the first NUL or at `end`, latin1. */
function readFixedString(buf: Buffer, start: number, end: number): string {
  let stop = start;
  while (stop < end && buf[stop] !== 0) stop++;
  return buf.toString('latin1', start, stop);
}

function hasNul(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === 0) return true;
  return false;
}

/** Decodes the metadata fields that fit before `end`; false if some did not. */
function readMetadata(buf: Buffer, base: number, end: number, layout: DbrLayout, out: DbrMetadata): boolean {
  for (const field of layout.fields) {
    const at = base + field.offset;
    if (at + field.size > end) return false;
    switch (field.kind) {
      case 'units':
        out.units = readFixedString(buf, at, at + UNITS_SIZE);
        break;
      case 'enumStrings': {
        const stored = Math.min(Math.max(i16be(buf, at), 0), MAX_ENUM_STRINGS);
        const strings: string[] = [];
        for (let i = 0, s = at + 2; i < stored; i++, s += ENUM_STRING_SIZE) {
          strings.push(readFixedString(buf, s, s + ENUM_STRING_SIZE));
        }
        out.enumStrings = strings;
        break;
      }
      default:
        out[field.key] = READ_NUMBER[field.kind](buf, at);
    }
  }
  return true;
}

/**
 * Decodes a DBR payload of `len` bytes at `off`. The payload may be longer than
 * the type needs (padding, ignored) or shorter: a trimmed single DBR_STRING is
 * read from whatever bytes remain; otherwise only whole elements are decoded and
 * `truncated` is set. data_count is authoritative: a reply with data_count 0 (an
 * empty array) has no elements even when older RSRV sized its payload for one
 * (cashark catest frame 128). Never throws.
 */
export function decodeDbr(buf: Buffer, off: number, len: number, dataType: number, dataCount: number): DbrValue {
  const layout = layoutOf(dataType);
  if (!layout) return { dataType, count: 0, values: [], metadata: {}, truncated: false };

  const begin = Math.min(Math.max(off, 0), buf.length);
  const end = Math.min(begin + Math.max(len, 0), buf.length);
  let metadata: DbrMetadata;
  if (layout.readAll && begin + layout.valueOffset <= end) metadata = layout.readAll(buf, begin);
  else {
    metadata = {};
    if (!readMetadata(buf, begin, end, layout, metadata)) return { dataType, count: 0, values: [], metadata, truncated: true };
  }

  const start = begin + layout.valueOffset;
  const available = Math.max(end - start, 0);
  const size = layout.elementSize;
  const wanted = Math.max(dataCount, 0);

  if (layout.value.kind === 'string') {
    // The last element may be shorter than 40 bytes (trimmed by libca / PCAS).
    const n = Math.min(wanted, Math.ceil(available / size));
    const values = new Array<string>(n);
    for (let i = 0, at = start; i < n; i++, at += size) {
      values[i] = readFixedString(buf, at, Math.min(at + size, end));
    }
    const lastStart = start + (n - 1) * size;
    const lastCut = n > 0 && lastStart + size > end && !hasNul(buf, lastStart, end);
    return { dataType, count: n, values, metadata, truncated: n < wanted || lastCut };
  }

  const n = Math.min(wanted, Math.floor(available / size));
  const values = readNumbers(buf, start, n, layout.value.kind);
  return { dataType, count: n, values, metadata, truncated: n < wanted };
}

// ---------------------------------------------------------------- encoding

const WRITE_NUMBER: Record<NumberKind, (view: DataView, at: number, v: number) => void> = {
  i16: (view, at, v) => view.setInt16(at, v),
  u16: (view, at, v) => view.setUint16(at, v),
  i32: (view, at, v) => view.setInt32(at, v),
  u32: (view, at, v) => view.setUint32(at, v),
  u8: (view, at, v) => view.setUint8(at, v),
  f32: (view, at, v) => view.setFloat32(at, v),
  f64: (view, at, v) => view.setFloat64(at, v),
};

/**
 * Encodes a DBR payload, zero-padded to a multiple of 8: the inverse of
 * decodeDbr. Metadata fields the type lacks are ignored; missing ones are
 * written as 0 / empty. Integers wrap to their field width (DataView setters),
 * strings are written latin1 and cut at their fixed width (40, units 8, enum
 * strings 26; at most 16 enum strings). Throws RangeError for unknown types.
 */
export function encodeDbr(dataType: number, values: readonly (number | string)[], metadata: DbrMetadata = {}): Buffer {
  const layout = layoutOf(dataType);
  if (!layout) throw new RangeError(`unknown DBR type ${dataType}`);
  const buf = Buffer.alloc(paddedSize(layout.valueOffset + values.length * layout.elementSize));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);

  for (const field of layout.fields) {
    const at = field.offset;
    switch (field.kind) {
      case 'units':
        buf.write(metadata.units ?? '', at, UNITS_SIZE, 'latin1');
        break;
      case 'enumStrings': {
        const strings = (metadata.enumStrings ?? []).slice(0, MAX_ENUM_STRINGS);
        view.setInt16(at, strings.length);
        strings.forEach((s, i) => buf.write(s, at + 2 + i * ENUM_STRING_SIZE, ENUM_STRING_SIZE, 'latin1'));
        break;
      }
      default:
        WRITE_NUMBER[field.kind](view, at, metadata[field.key] ?? 0);
    }
  }

  const kind = layout.value.kind;
  const size = layout.elementSize;
  values.forEach((v, i) => {
    const at = layout.valueOffset + i * size;
    if (kind === 'string') buf.write(String(v), at, STRING_SIZE, 'latin1');
    else WRITE_NUMBER[kind](view, at, Number(v));
  });
  return buf;
}
