// Field values as text: Python-like reprs for caproto-shark-style lines, names
// for the enumerations CA packs into numbers, and safe rendering of wire strings.
// Each is written as UTF-8 into a TextOut (print's lines are built in its
// output buffer); the string forms (formatCommand, pyString, …) write to a
// scratch TextOut and read it back.

import { alarmSeverityName, alarmStatusName } from '../../protocols/ca/alarm.js';
import { dbrBase, dbrTypeName, type DbrMetadata } from '../../protocols/ca/dbr.js';
import { ecaName } from '../../protocols/ca/eca.js';
import { accessRightsName, eventMaskNames } from '../../protocols/ca/flags.js';
import { FIELDS, type FieldShow } from '../../protocols/ca/commands.js';
import { DataMessage, FIELD_READERS, type CaMessage, type EmbeddedHeader } from '../../protocols/ca/messages.js';
import { epicsStampNanoseconds, epicsStampUnixSeconds, isoSecond, unixTimeToIso } from '../../protocols/ca/time.js';
import { TextOut, utf8Bytes } from './text-out.js';

/** Elements of an array shown in text output before the rest is summarised. */
export const ARRAY_PREVIEW = 10;

const scratch = new TextOut(1024);

/** What `write` writes, as a string (re-entrant: nested calls write after the outer one's text). */
export function asString(write: (out: TextOut) => void): string {
  const start = scratch.pos;
  write(scratch);
  const s = scratch.text(start);
  scratch.pos = start;
  return s;
}

const HEX = '0123456789abcdef';

/**
 * Writes `s` with control characters and DEL..0x9f escaped (so a PV name from the
 * wire cannot move the terminal), and with quote and backslash too when `quoted`.
 */
function writeEscaped(out: TextOut, s: string, quoted: boolean): void {
  const n = s.length;
  let from = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f ? !quoted || (c !== 39 && c !== 92) : c > 0x9f) continue;
    if (i > from) out.str(s.slice(from, i));
    from = i + 1;
    out.char(92);
    switch (c) {
      case 92:
      case 39:
        out.char(c);
        break;
      case 10:
        out.char(110); // n
        break;
      case 13:
        out.char(114); // r
        break;
      case 9:
        out.char(116); // t
        break;
      default:
        out.char(120); // x
        out.char(HEX.charCodeAt(c >> 4));
        out.char(HEX.charCodeAt(c & 15));
    }
  }
  if (from === 0) out.str(s);
  else if (from < n) out.str(s.slice(from));
}

/** Python-style quoted string with escapes. */
export function writePyString(out: TextOut, s: string): void {
  out.char(39);
  writeEscaped(out, s, true);
  out.char(39);
}

export function pyString(s: string): string {
  return asString((out) => writePyString(out, s));
}

/** A wire string for plain text output: control characters escaped, nothing else touched. */
export function writeSafeText(out: TextOut, s: string): void {
  writeEscaped(out, s, false);
}

export function safeText(s: string): string {
  return asString((out) => writeSafeText(out, s));
}

/** Python's repr of a float: shortest round-trip digits, '.0' on integers, exponent outside 1e-4..1e16. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const a = Math.abs(x);
  // JavaScript and Python print the same shortest digits in fixed notation here; Python adds '.0' to integers.
  if (a >= 1e-4 && a < 1e16) return Number.isInteger(x) ? `${x}.0` : String(x);
  return pyFromExponential(x.toExponential());
}

/** The shortest decimal that reads back to the same binary32 value (for DBR FLOAT types). */
export function pyFloat32(x: number): string {
  if (!Number.isFinite(x) || x === 0) return pyFloat(x);
  for (let p = 1; p < 9; p++) {
    const s = x.toExponential(p - 1);
    if (Math.fround(Number(s)) === x) return pyFromExponential(s);
  }
  return pyFloat(x);
}

function pyFromExponential(e: string): string {
  const [mant, expStr] = e.split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const es = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${es}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

// An IOC sends each update to every subscriber in turn: the same value is printed several times running.
let lastDouble = NaN;
let lastDoubleText = '';
let lastFloat = NaN;
let lastFloatText = '';

/** pyFloat, remembering the last value (0 is not remembered: -0 prints differently). */
function doubleText(x: number): string {
  if (x === lastDouble && x !== 0) return lastDoubleText;
  lastDouble = x;
  return (lastDoubleText = pyFloat(x));
}

function floatText(x: number): string {
  if (x === lastFloat && x !== 0) return lastFloatText;
  lastFloat = x;
  return (lastFloatText = pyFloat32(x));
}

const POW10: readonly number[] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6];

/**
 * Writes a non-integer x of magnitude in [1e-4, 1e9) as String(x) does, when
 * some decimal of at most 6 fraction digits reads back to exactly x: from that
 * decimal's integer. Below 1e9 a double's spacing is under 1e-6, so that decimal
 * is the only one of its length that reads back, hence the shortest (what
 * String(x) prints). Returns false, having written nothing, otherwise.
 */
export function writeShortDecimal(out: TextOut, x: number): boolean {
  const a = x < 0 ? -x : x;
  if (!(a >= 1e-4 && a < 1e9)) return false;
  for (let k = 1; k < POW10.length; k++) {
    const scale = POW10[k]!;
    const r = Math.round(a * scale);
    if (r / scale !== a) continue;
    if (x < 0) out.char(45); // -
    const whole = Math.floor(r / scale);
    out.u32(whole);
    out.char(46); // .
    out.padded(r - whole * scale, k);
    return true;
  }
  return false;
}

/** Writes pyFloat(x). */
export function writePyFloat(out: TextOut, x: number): void {
  const a = x < 0 ? -x : x;
  if (a >= 1e-4 && a < 1e9) {
    if (a === Math.floor(a)) {
      if (x < 0) out.char(45);
      out.u32(a);
      out.char(46);
      out.char(48); // Python's '.0' on integers
      return;
    }
    if (writeShortDecimal(out, x)) return;
  }
  out.str(doubleText(x));
}

let stampSec = NaN;
let stampPrefix: Uint8Array = new Uint8Array(0);

/** Capture time as caproto-shark prints it: seconds with the fraction's trailing zeros dropped. */
export function writeTimestamp(out: TextOut, sec: number, nsec: number): void {
  // The seconds and the point, kept while they last (consecutive messages mostly share them).
  if (sec !== stampSec) {
    stampSec = sec;
    stampPrefix = utf8Bytes(`${sec}.`);
  }
  out.bytes(stampPrefix);
  if (nsec === 0) {
    out.char(48);
    return;
  }
  if (!(nsec > 0 && nsec < 1e9 && nsec === Math.floor(nsec))) {
    out.str(String(nsec).padStart(9, '0').replace(/0+$/, ''));
    return;
  }
  let width = 9;
  while (nsec % 10 === 0) {
    nsec /= 10;
    width--;
  }
  out.padded(nsec, width);
}

export function formatTimestamp(sec: number, nsec: number): string {
  return asString((out) => writeTimestamp(out, sec, nsec));
}

let isoSec = NaN;
let isoPrefix: Uint8Array = new Uint8Array(0);

/** Unix seconds + nanoseconds as ISO 8601 UTC with all nine fraction digits (as unixTimeToIso). */
export function writeIsoTime(out: TextOut, sec: number, nsec: number): void {
  if (!(nsec >= 0 && nsec < 1e9 && nsec === Math.floor(nsec) && sec === Math.floor(sec))) {
    out.str(unixTimeToIso(sec, nsec));
    return;
  }
  // Consecutive times mostly fall in the same second, whose date text is kept.
  if (sec !== isoSec) {
    isoSec = sec;
    isoPrefix = utf8Bytes(isoSecond(sec));
  }
  out.bytes(isoPrefix);
  out.char(46);
  out.padded(nsec, 9);
  out.char(90); // Z
}

/** An EPICS time stamp, as epicsTimeToIso gives it. */
export function writeEpicsTime(out: TextOut, sec: number, nsec: number): void {
  writeIsoTime(out, epicsStampUnixSeconds(sec, nsec), epicsStampNanoseconds(nsec));
}

/** Capture time as ISO 8601 UTC with nanoseconds. */
export const formatIsoTime = unixTimeToIso;

/** A float Unix time as ISO 8601, rounded to the microsecond (all a float near 2e9 s holds). */
export function formatSecondsIso(t: number): string {
  const us = Math.round(t * 1e6);
  return unixTimeToIso(Math.floor(us / 1e6), (us % 1e6) * 1000);
}

/** How a DBR type's numbers print: 0 integer, 1 binary32 (FLOAT), 2 binary64 (DOUBLE); by type code. */
const NUMBER_STYLE: readonly number[] = Array.from({ length: 64 }, (_, t) => (dbrBase(t) === 'FLOAT' ? 1 : dbrBase(t) === 'DOUBLE' ? 2 : 0));

const LIST_SEPARATOR = utf8Bytes(', ');

/** The first `preview` of `total` values, and how many more there are. */
function writeValues(out: TextOut, values: readonly (number | string)[], dataType: number, preview: number, total = values.length): void {
  const style = NUMBER_STYLE[dataType] ?? 0;
  const n = Math.min(values.length, preview);
  out.char(91); // [
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (i > 0) out.bytes(LIST_SEPARATOR);
    if (typeof v === 'string') writePyString(out, v);
    else if (style === 0) out.num(v);
    else if (style === 2) writePyFloat(out, v);
    else out.str(floatText(v));
  }
  const rest = Math.max(total, values.length) - n;
  if (rest > 0) {
    if (n > 0) out.bytes(LIST_SEPARATOR);
    out.str('...+');
    out.num(rest);
  }
  out.char(93); // ]
}

/** Limit fields of GR/CTRL metadata in print order, with caproto's names. */
const LIMITS: readonly [keyof DbrMetadata, string][] = [
  ['upperDispLimit', 'upper_disp_limit'],
  ['lowerDispLimit', 'lower_disp_limit'],
  ['upperAlarmLimit', 'upper_alarm_limit'],
  ['upperWarningLimit', 'upper_warning_limit'],
  ['lowerWarningLimit', 'lower_warning_limit'],
  ['lowerAlarmLimit', 'lower_alarm_limit'],
  ['upperCtrlLimit', 'upper_ctrl_limit'],
  ['lowerCtrlLimit', 'lower_ctrl_limit'],
];

/** The metadata fields before the limits, in print order: the one that says it is there, caproto's name, how it is written. */
const META_FIELDS: readonly [key: keyof DbrMetadata, label: string, write: (out: TextOut, md: DbrMetadata) => void][] = [
  ['status', 'status', (out, md) => out.str(alarmStatusName(md.status!))],
  ['severity', 'severity', (out, md) => out.str(alarmSeverityName(md.severity!))],
  ['secPastEpoch', 'timestamp', (out, md) => writeEpicsTime(out, md.secPastEpoch!, md.nsec ?? 0)],
  ['ackt', 'ackt', (out, md) => out.num(md.ackt!)],
  ['acks', 'acks', (out, md) => out.str(alarmSeverityName(md.acks!))],
  ['units', 'units', (out, md) => writePyString(out, md.units!)],
  ['precision', 'precision', (out, md) => out.num(md.precision!)],
  [
    'enumStrings',
    'enum_strings',
    (out, md) => {
      out.char(91); // [
      md.enumStrings!.forEach((e, i) => {
        if (i > 0) out.bytes(LIST_SEPARATOR);
        writePyString(out, e);
      });
      out.char(93); // ]
    },
  ],
];

/** 'DBR_TIME_DOUBLE(status=NO_ALARM, severity=NO_ALARM, timestamp=' by type, status (< 64) and severity (< 8). */
const TIME_PREFIXES: (Uint8Array | undefined)[] = [];

function writeMetadata(out: TextOut, md: DbrMetadata, dataType: number): void {
  // TIME metadata (status, severity, stamp and nothing else): its text up to the stamp is cached.
  if (md.secPastEpoch !== undefined && md.units === undefined && md.ackt === undefined && md.status !== undefined && md.severity !== undefined) {
    const status = md.status;
    const severity = md.severity;
    const cacheable = status >= 0 && status < 64 && severity >= 0 && severity < 8 && dataType < 64;
    const key = (dataType * 64 + status) * 8 + severity;
    let prefix = cacheable ? TIME_PREFIXES[key] : undefined;
    if (prefix === undefined) {
      prefix = utf8Bytes(`${dbrTypeName(dataType)}(status=${alarmStatusName(status)}, severity=${alarmSeverityName(severity)}, timestamp=`);
      if (cacheable) TIME_PREFIXES[key] = prefix;
    }
    out.bytes(prefix);
    writeEpicsTime(out, md.secPastEpoch, md.nsec ?? 0);
    out.char(41); // )
    return;
  }
  out.str(dbrTypeName(dataType));
  out.char(40); // (
  let first = true;
  for (const [key, label, write] of META_FIELDS) {
    if (md[key] === undefined) continue;
    if (!first) out.bytes(LIST_SEPARATOR);
    first = false;
    out.str(label);
    out.char(61); // =
    write(out, md);
  }
  if (md.upperDispLimit !== undefined) {
    const base = dbrBase(dataType);
    const num = base === 'FLOAT' ? pyFloat32 : base === 'DOUBLE' ? pyFloat : String;
    for (const [key, name] of LIMITS) {
      const v = md[key] as number | undefined;
      if (v === undefined) continue;
      if (!first) out.bytes(LIST_SEPARATOR);
      first = false;
      out.str(name);
      out.char(61);
      out.str(num(v));
    }
  }
  out.char(41);
}

function writeEmbedded(out: TextOut, h: EmbeddedHeader): void {
  out.str(`${h.command_name}(data_type=${dbrTypeName(h.data_type)}, data_count=${h.data_count}, parameter1=${h.parameter1}, parameter2=${h.parameter2})`);
}

/** How a field is shown (commands.ts: FIELDS), by field name; undefined for a name no message has. */
export function fieldShow(field: string): FieldShow | undefined {
  return Object.hasOwn(FIELDS, field) ? FIELDS[field as keyof typeof FIELDS].show : undefined;
}

/**
 * One field of a message as text. `quoted` gives the repr used inside
 * `Command(field=value)`; otherwise strings are bare (for --format).
 */
export function writeField(out: TextOut, m: CaMessage, field: string, quoted: boolean, preview = ARRAY_PREVIEW): void {
  writeFieldAs(out, m, field, fieldShow(field), quoted, preview);
}

/** writeField(out, m, field, quoted) for any message, with the field's FieldShow looked up once. */
export function fieldWriter(field: string, quoted: boolean): (out: TextOut, m: CaMessage) => void {
  const show = fieldShow(field);
  return (out, m) => writeFieldAs(out, m, field, show, quoted);
}

/** writeField, with the field's FieldShow looked up once by the caller. */
function writeFieldAs(out: TextOut, m: CaMessage, field: string, show: FieldShow | undefined, quoted: boolean, preview = ARRAY_PREVIEW): void {
  // Text shows a few elements: decode only those, not a whole waveform.
  if (show === 'values' && m instanceof DataMessage) {
    writeValues(out, m.preview(preview).values, m.dataTypeField, preview, m.dataCountField);
    return;
  }
  const v = (m as unknown as Record<string, unknown>)[field];
  if (v === undefined) {
    if (quoted) out.str('None');
    return;
  }
  switch (show) {
    case 'dbr-type':
      return out.str(dbrTypeName(v as number));
    case 'eca':
      return out.str(ecaName(v as number));
    case 'access-rights':
      return out.str(accessRightsName(v as number));
    case 'event-mask':
      return out.str(eventMaskNames(v as number));
    case 'values':
      return writeValues(out, v as (number | string)[], m.dataTypeField, preview);
    case 'metadata':
      return writeMetadata(out, v as DbrMetadata, m.dataTypeField);
    case 'header':
      return writeEmbedded(out, v as EmbeddedHeader);
  }
  if (typeof v === 'string') {
    if (quoted) writePyString(out, v);
    else writeSafeText(out, v);
  } else if (typeof v === 'number') out.num(v);
  else out.str(String(v));
}

export function formatField(m: CaMessage, field: string, quoted: boolean, preview = ARRAY_PREVIEW): string {
  return asString((out) => writeField(out, m, field, quoted, preview));
}

type FieldWriter = (out: TextOut, m: CaMessage) => void;

/** Writes the name of a small code (a DBR type, an ECA status) from bytes made once per code. */
function nameWriter(name: (code: number) => string): (out: TextOut, code: number) => void {
  const made: (Uint8Array | undefined)[] = [];
  return (out, code) => {
    if (code >= 0 && code < 4096 && code === Math.floor(code)) out.bytes((made[code] ??= utf8Bytes(name(code))));
    else out.str(name(code));
  };
}

const writeDbrTypeName = nameWriter(dbrTypeName);
const writeEcaName = nameWriter(ecaName);

/**
 * A message field by name, read through its own property access (FIELD_READERS):
 * one keyed read `m[field]` for every class and field is megamorphic.
 */
export function fieldReader(field: string): (m: CaMessage) => unknown {
  return FIELD_READERS[field] ?? ((m) => (m as unknown as Record<string, unknown>)[field]);
}

/**
 * The quoted text of one field, as writeField(out, m, field, true) writes it, with
 * the property read by name (not a keyed lookup) and the value's formatting chosen once.
 */
function quotedFieldWriter(field: string): FieldWriter {
  const named = (write: (out: TextOut, v: any) => void): FieldWriter => {
    const read = fieldReader(field);
    return (out, m) => {
      const v = read(m);
      if (v === undefined) out.str('None');
      else write(out, v);
    };
  };
  const number = (out: TextOut, v: number) => out.num(v);
  const show = fieldShow(field);
  switch (show) {
    case 'metadata':
      return (out, m) => (m instanceof DataMessage ? writeMetadata(out, m.metadata, m.dataTypeField) : writeFieldAs(out, m, field, show, true));
    case 'dbr-type':
      return named(writeDbrTypeName);
    case 'eca':
      return named(writeEcaName);
    case 'number':
      return named(number);
    case 'text':
      return named((out, v) => (typeof v === 'string' ? writePyString(out, v) : out.str(String(v))));
    default:
      return (out, m) => writeFieldAs(out, m, field, show, true);
  }
}

/** A message class's writer: made for one field list (VersionRequest's and VersionResponse's vary by form). */
interface CommandWriter {
  fields: readonly string[];
  write: FieldWriter;
  next: CommandWriter | undefined;
}

/** Writers by class name, each starting with the bytes of `Type(first_field=`. */
const COMMAND_WRITERS = new Map<string, CommandWriter>();

/** Fields whose values are few in a capture (type codes, counts, statuses): a run of them in a command's text is kept per value combination. */
const CODE_FIELDS: ReadonlySet<string> = new Set(['data_type', 'data_count', 'status']);

const RUN_SLOTS = 256;

/**
 * `write`'s bytes kept per combination of the run's values (`reads`), direct-mapped
 * by a hash of them: `, data_type=DBR_TIME_DOUBLE, data_count=1, status=ECA_NORMAL`
 * is one copy instead of six writes. A value that is not a number is written each time.
 */
function codeRun(reads: readonly ((m: CaMessage) => unknown)[], write: FieldWriter): FieldWriter {
  const k = reads.length;
  const keys = new Float64Array(RUN_SLOTS * k).fill(NaN); // NaN matches nothing: an empty slot
  const texts = new Array<Uint8Array | undefined>(RUN_SLOTS).fill(undefined);
  const values = new Float64Array(k);
  const scratch = new TextOut(256);
  return (out, m) => {
    let h = 0;
    for (let i = 0; i < k; i++) {
      const v = reads[i]!(m);
      if (typeof v !== 'number') {
        write(out, m);
        return;
      }
      values[i] = v;
      h = (Math.imul(h, 0x9e3779b1) + (v | 0)) | 0;
    }
    const slot = (h ^ (h >>> 16)) & (RUN_SLOTS - 1);
    const at = slot * k;
    let hit = true;
    for (let i = 0; i < k; i++) if (keys[at + i] !== values[i]) hit = false;
    let text = texts[slot];
    if (!hit || text === undefined) {
      scratch.pos = 0;
      write(scratch, m);
      text = texts[slot] = new Uint8Array(scratch.buf.subarray(0, scratch.pos)); // a copy: scratch is reused
      for (let i = 0; i < k; i++) keys[at + i] = values[i]!;
    }
    out.bytes(text);
  };
}

function commandWriter(type: string, fields: readonly string[]): FieldWriter {
  // Parts of the text: each a label (`Type(first=`, `, next=`) or none, and a writer.
  const labels: (Uint8Array | undefined)[] = fields.map((f, i) => utf8Bytes(`${i === 0 ? `${type}(` : ', '}${f}=`));
  const writers = fields.map(quotedFieldWriter);
  const names: (string | undefined)[] = [...fields];
  for (let i = 0; i < writers.length; i++) {
    let j = i;
    while (j < names.length && CODE_FIELDS.has(names[j]!)) j++;
    if (j - i < 2) continue;
    // Fields i..j-1 with their labels, and the next field's label, become one part.
    const runLabels = labels.slice(i, j);
    const runWriters = writers.slice(i, j);
    const after = labels[j];
    const write: FieldWriter = (out, m) => {
      for (let r = 0; r < runLabels.length; r++) {
        out.bytes(runLabels[r]!);
        runWriters[r]!(out, m);
      }
      if (after !== undefined) out.bytes(after);
    };
    labels.splice(i, j - i, undefined);
    writers.splice(i, j - i, codeRun(names.slice(i, j).map((f) => fieldReader(f!)), write));
    names.splice(i, j - i, undefined);
    if (i + 1 < labels.length) labels[i + 1] = undefined;
  }
  const open = utf8Bytes(`${type}(`);
  const n = writers.length;
  return (out, m) => {
    if (n === 0) out.bytes(open);
    for (let i = 0; i < n; i++) {
      const label = labels[i];
      if (label !== undefined) out.bytes(label);
      writers[i]!(out, m);
    }
    out.char(41); // )
  };
}

/** caproto-shark's rendering of a command: `CreateChanRequest(name='rpi:color', cid=0, version=13)`. */
export function writeCommand(out: TextOut, m: CaMessage): void {
  const type = m.type;
  const fields = m.fields;
  let w = COMMAND_WRITERS.get(type);
  while (w !== undefined && w.fields !== fields) w = w.next;
  if (w === undefined) {
    w = { fields, write: commandWriter(type, fields), next: COMMAND_WRITERS.get(type) };
    COMMAND_WRITERS.set(type, w);
  }
  w.write(out, m);
}

export function formatCommand(m: CaMessage): string {
  return asString((out) => writeCommand(out, m));
}
