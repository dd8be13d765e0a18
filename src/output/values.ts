// Field values as text: Python-like reprs for caproto-shark-style lines, names
// for the enumerations CA packs into numbers, and safe rendering of wire strings.

import { alarmSeverityName, alarmStatusName } from '../../protocols/ca/alarm.js';
import { dbrBase, dbrTypeName, type DbrMetadata } from '../../protocols/ca/dbr.js';
import { ecaName } from '../../protocols/ca/eca.js';
import { accessRightsName, eventMaskNames } from '../../protocols/ca/flags.js';
import { DataMessage, type CaMessage, type EmbeddedHeader } from '../../protocols/ca/messages.js';
import { epicsTimeToIso, unixTimeToIso } from '../../protocols/ca/time.js';

/** Elements of an array shown in text output before the rest is summarised. */
export const ARRAY_PREVIEW = 10;

// Control characters, DEL, and quote/backslash: escaped so a PV name from the wire cannot move the terminal.
const UNSAFE = /[\x00-\x1f\x7f-\x9f'\\]/g;

function escapeChar(c: string): string {
  switch (c) {
    case '\\':
      return '\\\\';
    case "'":
      return "\\'";
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  }
}

/** Python-style quoted string with escapes. */
export function pyString(s: string): string {
  return `'${s.replace(UNSAFE, escapeChar)}'`;
}

const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;
const HAS_CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** A wire string for plain text output: control characters escaped, nothing else touched. */
export function safeText(s: string): string {
  return HAS_CONTROL.test(s) ? s.replace(CONTROL, escapeChar) : s;
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

/** Capture time as caproto-shark prints it: seconds with the fraction's trailing zeros dropped. */
let lastSec = NaN;
let lastNsec = NaN;
let lastTimestamp = '';

export function formatTimestamp(sec: number, nsec: number): string {
  // The messages of one packet share its time.
  if (sec === lastSec && nsec === lastNsec) return lastTimestamp;
  lastSec = sec;
  lastNsec = nsec;
  return (lastTimestamp = timestampText(sec, nsec));
}

function timestampText(sec: number, nsec: number): string {
  if (nsec === 0) return `${sec}.0`;
  let frac = String(nsec).padStart(9, '0');
  let end = 9;
  while (frac.charCodeAt(end - 1) === 48) end--;
  frac = frac.slice(0, end);
  return `${sec}.${frac}`;
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

/** The first `preview` of `total` values, and how many more there are. */
function formatValues(values: readonly (number | string)[], dataType: number, preview: number, total = values.length): string {
  const style = NUMBER_STYLE[dataType] ?? 0;
  const n = Math.min(values.length, preview);
  let s = '[';
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (i > 0) s += ', ';
    s += typeof v === 'string' ? pyString(v) : style === 0 ? String(v) : style === 1 ? pyFloat32(v) : pyFloat(v);
  }
  const rest = Math.max(total, values.length) - n;
  if (rest > 0) s += `${n > 0 ? ', ' : ''}...+${rest}`;
  return `${s}]`;
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

/** 'DBR_TIME_DOUBLE(status=NO_ALARM, severity=NO_ALARM, timestamp=' by type, status and severity (few combinations occur). */
const TIME_PREFIXES = new Map<number, string>();

function formatMetadata(md: DbrMetadata, dataType: number): string {
  // TIME metadata (status, severity, stamp and nothing else): its text up to the stamp is cached.
  if (md.secPastEpoch !== undefined && md.units === undefined && md.ackt === undefined && md.status !== undefined && md.severity !== undefined) {
    const key = (dataType * 65536 + (md.status & 0xffff)) * 65536 + (md.severity & 0xffff);
    let prefix = TIME_PREFIXES.get(key);
    if (prefix === undefined) {
      prefix = `${dbrTypeName(dataType)}(status=${alarmStatusName(md.status)}, severity=${alarmSeverityName(md.severity)}, timestamp=`;
      if (TIME_PREFIXES.size < 4096) TIME_PREFIXES.set(key, prefix);
    }
    return `${prefix}${epicsTimeToIso(md.secPastEpoch, md.nsec ?? 0)})`;
  }
  let s = '';
  // The common TIME/STS metadata first, without a separator test per field.
  if (md.status !== undefined) s = `status=${alarmStatusName(md.status)}`;
  if (md.severity !== undefined) s = s ? `${s}, severity=${alarmSeverityName(md.severity)}` : `severity=${alarmSeverityName(md.severity)}`;
  if (md.secPastEpoch !== undefined) s = `${s}${s ? ', ' : ''}timestamp=${epicsTimeToIso(md.secPastEpoch, md.nsec ?? 0)}`;
  if (md.ackt !== undefined) s = `${s}${s ? ', ' : ''}ackt=${md.ackt}`;
  if (md.acks !== undefined) s = `${s}${s ? ', ' : ''}acks=${alarmSeverityName(md.acks)}`;
  if (md.units !== undefined) s = `${s}${s ? ', ' : ''}units=${pyString(md.units)}`;
  if (md.precision !== undefined) s = `${s}${s ? ', ' : ''}precision=${md.precision}`;
  if (md.enumStrings !== undefined) s = `${s}${s ? ', ' : ''}enum_strings=[${md.enumStrings.map(pyString).join(', ')}]`;
  if (md.upperDispLimit !== undefined) {
    const base = dbrBase(dataType);
    const num = base === 'FLOAT' ? pyFloat32 : base === 'DOUBLE' ? pyFloat : String;
    for (const [key, name] of LIMITS) {
      const v = md[key] as number | undefined;
      if (v !== undefined) s = `${s}${s ? ', ' : ''}${name}=${num(v)}`;
    }
  }
  return `${dbrTypeName(dataType)}(${s})`;
}

function formatEmbedded(h: EmbeddedHeader): string {
  return `${h.commandName}(data_type=${dbrTypeName(h.data_type)}, data_count=${h.data_count}, parameter1=${h.parameter1}, parameter2=${h.parameter2})`;
}

/**
 * One field of a message as text. `quoted` gives the repr used inside
 * `Command(field=value)`; otherwise strings are bare (for --format).
 */
export function formatField(m: CaMessage, field: string, quoted: boolean, preview = ARRAY_PREVIEW): string {
  // Text shows a few elements: decode only those, not a whole waveform.
  if (field === 'data' && m instanceof DataMessage) return formatValues(m.preview(preview).values, m.dataTypeField, preview, m.dataCountField);
  const v = (m as unknown as Record<string, unknown>)[field];
  if (v === undefined) return quoted ? 'None' : '';
  switch (field) {
    case 'data_type':
      return dbrTypeName(v as number);
    case 'status':
      return ecaName(v as number);
    case 'access_rights':
      return accessRightsName(v as number);
    case 'mask':
      return eventMaskNames(v as number);
    case 'data':
      return formatValues(v as (number | string)[], m.dataTypeField, preview);
    case 'metadata':
      return formatMetadata(v as DbrMetadata, m.dataTypeField);
    case 'request':
      return formatEmbedded(v as EmbeddedHeader);
  }
  if (typeof v === 'string') return quoted ? pyString(v) : safeText(v);
  return String(v);
}

type FieldText = (m: CaMessage) => string;

/**
 * The quoted text of one field, as formatField(m, field, true) gives it, with the
 * property read by name (not a keyed lookup) and the value's formatting chosen once.
 */
function quotedFieldText(field: string): FieldText {
  const named = (read: (m: any) => unknown, text: (v: any) => string): FieldText => (m) => {
    const v = read(m);
    return v === undefined ? 'None' : text(v);
  };
  switch (field) {
    case 'data':
      return (m) => formatField(m, 'data', true);
    case 'metadata':
      return (m) => (m instanceof DataMessage ? formatMetadata(m.metadata, m.dataTypeField) : formatField(m, field, true));
    case 'data_type':
      return named((m) => m.data_type, dbrTypeName);
    case 'data_count':
      return named((m) => m.data_count, String);
    case 'status':
      return named((m) => m.status, ecaName);
    case 'cid':
      return named((m) => m.cid, String);
    case 'sid':
      return named((m) => m.sid, String);
    case 'ioid':
      return named((m) => m.ioid, String);
    case 'subscriptionid':
      return named((m) => m.subscriptionid, String);
    case 'version':
      return named((m) => m.version, String);
    case 'name':
      return named((m) => m.name, (v) => (typeof v === 'string' ? pyString(v) : String(v)));
    default:
      return (m) => formatField(m, field, true);
  }
}

/** One compiled formatter per field list (the lists are shared constants of the message classes). */
const COMMAND_FORMATTERS = new Map<readonly string[], FieldText>();

function commandFormatter(fields: readonly string[]): FieldText {
  const texts = fields.map(quotedFieldText);
  const labels = fields.map((f, i) => `${i > 0 ? ', ' : ''}${f}=`);
  const n = fields.length;
  return (m) => {
    let s = `${m.type}(`;
    for (let i = 0; i < n; i++) s += labels[i]! + texts[i]!(m);
    return `${s})`;
  };
}

/** caproto-shark's rendering of a command: `CreateChanRequest(name='rpi:color', cid=0, version=13)`. */
export function formatCommand(m: CaMessage): string {
  const fields = m.fields;
  let f = COMMAND_FORMATTERS.get(fields);
  if (!f) COMMAND_FORMATTERS.set(fields, (f = commandFormatter(fields)));
  return f(m);
}
