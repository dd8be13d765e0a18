// One JSON object per CA message (JSON Lines). Numbers stay as on the wire; the
// enumerations also get their names; DBR arrays are written whole.
//
// eventRecord() is the object; writeEventJson() writes JSON.stringify(eventRecord(ev))
// as UTF-8 straight into the output buffer, as print's text lines are, without
// building the object (the test suite holds the two to the same bytes). A NaN or
// infinity (a value, a limit) is the string "NaN", "Infinity" or "-Infinity"
// (non-finite.ts): JSON has none, and null would read as a missing value.

import { alarmSeverityName, alarmStatusName } from '../../protocols/ca/alarm.js';
import { dbrTypeName, type DbrMetadata } from '../../protocols/ca/dbr.js';
import { ecaName } from '../../protocols/ca/eca.js';
import type { FieldShow } from '../../protocols/ca/commands.js';
import { accessRightsName, eventMaskNames } from '../../protocols/ca/flags.js';
import { MESSAGE_FIELDS, type CaMessage } from '../../protocols/ca/messages.js';
import { epicsTimeToIso, epicsToUnixSeconds } from '../../protocols/ca/time.js';
import { unixSeconds } from '../capture/types.js';
import type { CaEvent } from '../dissect/event.js';
import { hasNonFinite, jsonSafe } from './non-finite.js';
import { perCircuit } from './template.js';
import { TextOut, utf8Bytes } from './text-out.js';
import { asString, fieldReader, fieldShow, formatIsoTime, writeEpicsTime, writeIsoTime, writeShortDecimal } from './values.js';

/** The name of a code, by how its field is shown (commands.ts: FIELDS). */
const NAMES: Partial<Record<FieldShow, (v: number) => string>> = {
  'dbr-type': dbrTypeName,
  eca: ecaName,
  'access-rights': accessRightsName,
  'event-mask': eventMaskNames,
};

/** Fields that are codes: the record also gets `<field>_name`. */
const NAMED: Record<string, (v: number) => string> = Object.fromEntries(
  [...MESSAGE_FIELDS].flatMap((field) => {
    const namer = NAMES[fieldShow(field)!];
    return namer ? [[field, namer]] : [];
  }),
);

const SNAKE = new Map<string, string>();

/** A metadata field's JSON key: snake_case as caproto names them (upperDispLimit -> upper_disp_limit), made once. */
function snakeKey(key: string): string {
  let snake = SNAKE.get(key);
  if (snake === undefined) SNAKE.set(key, (snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)));
  return snake;
}

function metadataRecord(md: DbrMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(md)) out[snakeKey(key)] = jsonSafe(v);
  if (md.status !== undefined) out.status_name = alarmStatusName(md.status);
  if (md.severity !== undefined) out.severity_name = alarmSeverityName(md.severity);
  if (md.secPastEpoch !== undefined) {
    const nsec = md.nsec ?? 0;
    out.timestamp = epicsToUnixSeconds(md.secPastEpoch, nsec);
    out.time = epicsTimeToIso(md.secPastEpoch, nsec);
  }
  return out;
}

/** The message's fields as a plain object. */
export function messageFields(m: CaMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rec = m as unknown as Record<string, unknown>;
  for (const f of m.fields) {
    const v = rec[f];
    if (fieldShow(f) === 'metadata') out[f] = metadataRecord(v as DbrMetadata);
    else out[f] = jsonSafe(v);
    const namer = NAMED[f];
    if (namer && typeof v === 'number') out[`${f}_name`] = namer(v);
  }
  return out;
}

/** An event as the plain object `print --json` writes a line of. */
export function eventRecord(ev: CaEvent): Record<string, unknown> {
  return {
    frame: ev.frame,
    timestamp: ev.timestamp,
    time: formatIsoTime(ev.tsSec, ev.tsNsec),
    transport: ev.transport,
    src: ev.src,
    sport: ev.sport,
    dst: ev.dst,
    dport: ev.dport,
    direction: ev.direction,
    circuit: ev.circuit?.id ?? null,
    pv: ev.pv ?? null,
    type: ev.type,
    code: ev.command.command,
    size: ev.command.size,
    fields: messageFields(ev.command),
  };
}

/** An event as one line of JSON (without the newline): JSON.stringify(eventRecord(ev)). */
export function eventToJson(ev: CaEvent): string {
  return asString((out) => writeEventJson(out, ev));
}

// ---- JSON text written as bytes ------------------------------------------

const NULL = utf8Bytes('null');
const NAN = utf8Bytes('"NaN"');
const INFINITY = utf8Bytes('"Infinity"');
const MINUS_INFINITY = utf8Bytes('"-Infinity"');

/** A string as JSON.stringify writes it (escapes only what JSON needs; other characters as UTF-8). */
export function writeJsonString(out: TextOut, s: string): void {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // Control characters, quote, backslash, and surrogates (a lone one is escaped) are left to JSON.stringify.
    if (c < 0x20 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) {
      out.str(JSON.stringify(s));
      return;
    }
  }
  out.char(34);
  out.str(s);
  out.char(34);
}

/** A number as JSON.stringify writes it; NaN and infinities as JSON.stringify(jsonNumber(x)). */
export function writeJsonNumber(out: TextOut, x: number): void {
  if (x === Math.floor(x) && x > -4294967296 && x < 4294967296) out.num(x);
  else if (!Number.isFinite(x)) out.bytes(x > 0 ? INFINITY : x < 0 ? MINUS_INFINITY : NAN);
  else if (!writeShortDecimal(out, x)) out.str(String(x));
}

/** Arrays longer than this are written by JSON.stringify (whole waveforms: ~130 ns a double, against ~200 for String). */
const STRINGIFY_MIN = 16;

/** Characters of a long JSON text written at a time. */
const JSON_PIECE = 16384;

/** Writes non-finite numbers as jsonNumber does (JSON.stringify's replacer). */
const keepNonFinite = (_key: string, x: unknown): unknown => (typeof x === 'number' && x - x !== 0 ? String(x) : x);

/** A value as JSON.stringify(jsonSafe(v)) writes it inside an array (undefined as null). */
export function writeJsonValue(out: TextOut, v: unknown): void {
  switch (typeof v) {
    case 'number':
      return writeJsonNumber(out, v);
    case 'string':
      return writeJsonString(out, v);
    case 'boolean':
      return out.str(v ? 'true' : 'false');
    case 'undefined':
      return out.bytes(NULL);
  }
  if (v === null) out.bytes(NULL);
  else if (Array.isArray(v) && v.length <= STRINGIFY_MIN) {
    out.char(91); // [
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.char(44);
      writeJsonValue(out, v[i]);
    }
    out.char(93);
  } else {
    let s = JSON.stringify(v) ?? 'null';
    // JSON.stringify writes a NaN or infinity as null: only then (a fast search of the text) is the array scanned.
    if (s.includes('null') && Array.isArray(v) && hasNonFinite(v)) s = JSON.stringify(v, keepNonFinite);
    // In pieces: each needs room for three bytes a character, and a whole waveform's text may be megabytes.
    for (let i = 0; i < s.length; ) {
      let j = Math.min(i + JSON_PIECE, s.length);
      const last = s.charCodeAt(j - 1);
      if (j < s.length && last >= 0xd800 && last <= 0xdbff) j--; // not between the halves of a surrogate pair
      out.str(i === 0 && j === s.length ? s : s.slice(i, j));
      i = j;
    }
  }
}

/** `"key":` by key, made once. */
const KEYS = new Map<string, Uint8Array>();

function writeKey(out: TextOut, key: string): void {
  let bytes = KEYS.get(key);
  if (bytes === undefined) KEYS.set(key, (bytes = utf8Bytes(`${JSON.stringify(key)}:`)));
  out.bytes(bytes);
}

/** A code's name as a JSON string, made once per code (codes below 4096). */
function nameWriter(name: (code: number) => string): (out: TextOut, code: number) => void {
  const made: (Uint8Array | undefined)[] = [];
  return (out, code) => {
    if (code >= 0 && code < 4096 && code === Math.floor(code)) out.bytes((made[code] ??= utf8Bytes(JSON.stringify(name(code)))));
    else writeJsonString(out, name(code));
  };
}

const writeStatusName = nameWriter(alarmStatusName);
const writeSeverityName = nameWriter(alarmSeverityName);

/**
 * A time stamp as a JSON number (seconds from sec, nsec by `value`), the bytes of
 * the last one kept: consecutive messages mostly share it.
 */
function stampWriter(value: (sec: number, nsec: number) => number): (out: TextOut, sec: number, nsec: number) => void {
  let lastSec = NaN;
  let lastNsec = NaN;
  let bytes: Uint8Array = NULL;
  return (out, sec, nsec) => {
    if (sec !== lastSec || nsec !== lastNsec) {
      lastSec = sec;
      lastNsec = nsec;
      bytes = utf8Bytes(JSON.stringify(value(sec, nsec)));
    }
    out.bytes(bytes);
  };
}

const writeMetadataStamp = stampWriter(epicsToUnixSeconds);
/** CaEvent.timestamp */
const writeEventStamp = stampWriter(unixSeconds);

/** metadataRecord(md) as JSON. */
function writeMetadataJson(out: TextOut, md: DbrMetadata): void {
  out.char(123); // {
  let first = true;
  const rec = md as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    const v = rec[key];
    if (v === undefined) continue;
    if (!first) out.char(44);
    first = false;
    writeKey(out, snakeKey(key));
    writeJsonValue(out, v);
  }
  const comma = (): void => {
    if (!first) out.char(44);
    first = false;
  };
  if (md.status !== undefined) {
    comma();
    writeKey(out, 'status_name');
    writeStatusName(out, md.status);
  }
  if (md.severity !== undefined) {
    comma();
    writeKey(out, 'severity_name');
    writeSeverityName(out, md.severity);
  }
  if (md.secPastEpoch !== undefined) {
    const nsec = md.nsec ?? 0;
    comma();
    writeKey(out, 'timestamp');
    writeMetadataStamp(out, md.secPastEpoch, nsec);
    out.char(44);
    writeKey(out, 'time');
    out.char(34);
    writeEpicsTime(out, md.secPastEpoch, nsec);
    out.char(34);
  }
  out.char(125); // }
}

/** Writes one field of the fields object, after a comma unless `first`; returns whether the object is still empty. */
type FieldJson = (out: TextOut, m: CaMessage, first: boolean) => boolean;

/** The fields object of one class (for one field list), and the literal text around it. */
interface ClassJson {
  fields: readonly string[];
  /** `,"direction":"…","circuit":` */
  direction: Uint8Array;
  /** `,"type":"Type","code":` */
  command: Uint8Array;
  writers: readonly FieldJson[];
  next: ClassJson | undefined;
}

const CLASSES = new Map<string, ClassJson>();

function fieldWriter(field: string): FieldJson {
  const read = fieldReader(field);
  const key = utf8Bytes(`${JSON.stringify(field)}:`);
  const namer = NAMED[field];
  const names = namer ? nameWriter(namer) : undefined;
  const nameKey = utf8Bytes(`,${JSON.stringify(`${field}_name`)}:`);
  const metadata = fieldShow(field) === 'metadata';
  return (out, m, first) => {
    const v = read(m);
    if (v === undefined) return first; // JSON.stringify leaves the key out
    if (!first) out.char(44);
    out.bytes(key);
    if (metadata) writeMetadataJson(out, v as DbrMetadata);
    else writeJsonValue(out, v);
    if (names !== undefined && typeof v === 'number') {
      out.bytes(nameKey);
      names(out, v);
    }
    return false;
  };
}

function classJson(m: CaMessage): ClassJson {
  return {
    fields: m.fields,
    direction: utf8Bytes(`,"direction":${JSON.stringify(m.direction)},"circuit":`),
    command: utf8Bytes(`,"type":${JSON.stringify(m.type)},"code":`),
    writers: m.fields.map(fieldWriter),
    next: undefined,
  };
}

function classOf(m: CaMessage): ClassJson {
  const type = m.type;
  const fields = m.fields;
  let c = CLASSES.get(type);
  while (c !== undefined && c.fields !== fields) c = c.next;
  if (c === undefined) {
    c = classJson(m);
    c.next = CLASSES.get(type);
    CLASSES.set(type, c);
  }
  return c;
}

const FRAME = utf8Bytes('{"frame":');
const TIMESTAMP = utf8Bytes(',"timestamp":');
const TIME = utf8Bytes(',"time":"');
const PV = utf8Bytes(',"pv":');
const SIZE = utf8Bytes(',"size":');
const FIELDS = utf8Bytes(',"fields":');

/** `,"<host>":"a.b.c.d","<port>":n` */
function writeEndpoint(out: TextOut, hostKey: string, host: string, portKey: string, port: number): void {
  out.char(44);
  writeKey(out, hostKey);
  writeJsonString(out, host);
  out.char(44);
  writeKey(out, portKey);
  out.num(port);
}

/** `"transport":…,"src":…,"sport":…,"dst":…,"dport":…`, kept per circuit and direction. */
const writeEndpoints = perCircuit((out, ev) => {
  writeKey(out, 'transport');
  writeJsonString(out, ev.transport);
  writeEndpoint(out, 'src', ev.src, 'sport', ev.sport);
  writeEndpoint(out, 'dst', ev.dst, 'dport', ev.dport);
});

/** eventToJson(ev), written into `out`. */
export function writeEventJson(out: TextOut, ev: CaEvent): void {
  const m = ev.command;
  const c = classOf(m);
  out.bytes(FRAME);
  out.num(ev.frame);
  out.bytes(TIMESTAMP);
  writeEventStamp(out, ev.tsSec, ev.tsNsec);
  out.bytes(TIME);
  writeIsoTime(out, ev.tsSec, ev.tsNsec);
  out.char(34);
  out.char(44);
  writeEndpoints(out, ev);
  out.bytes(c.direction);
  if (ev.circuit === undefined) out.bytes(NULL);
  else out.num(ev.circuit.id);
  out.bytes(PV);
  if (ev.pv === undefined) out.bytes(NULL);
  else writeJsonString(out, ev.pv);
  out.bytes(c.command);
  out.num(m.command);
  out.bytes(SIZE);
  out.num(m.size);
  out.bytes(FIELDS);
  out.char(123); // {
  const writers = c.writers;
  let first = true;
  for (let i = 0; i < writers.length; i++) first = writers[i]!(out, m, first);
  out.char(125);
  out.char(125);
}
