import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeDbr } from '../../protocols/ca/dbr.js';
import { decodeMessage } from '../../protocols/ca/messages.js';
import { CaEvent } from '../../src/dissect/event.js';
import { eventRecord, eventToJson, writeJsonNumber, writeJsonString, writeJsonValue } from '../../src/output/json.js';
import { TextOut } from '../../src/output/text-out.js';
import * as enc from '../../src/synth/ca-encode.js';
import { HAVE_SHARED, PUBLIC, REAL, SKIP_REASON, collectEvents } from '../helpers/shared.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const ip = (s: string) => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);

function event(bytes: Buffer, fromClient: boolean, pv?: string, transport: 'tcp' | 'udp' = 'tcp'): CaEvent {
  const hs = bytes.readUInt16BE(2) === 0xffff && bytes.length >= 24 ? 24 : 16;
  const m = decodeMessage(bytes, 0, hs, bytes.length - hs, fromClient, transport === 'udp');
  return fromClient
    ? new CaEvent(1700000000, 123456000, 42, ip('10.0.0.2'), 40000, ip('10.0.0.1'), 5064, transport, m, pv, undefined)
    : new CaEvent(1700000000, 123456000, 42, ip('10.0.0.1'), 5064, ip('10.0.0.2'), 40000, transport, m, pv, undefined);
}

const written = (write: (out: TextOut) => void): string => {
  const out = new TextOut(16);
  write(out);
  return out.text();
};

/** eventToJson writes the bytes of JSON.stringify(eventRecord(ev)) for every event of a capture; returns how many. */
async function sameAsRecords(path: string): Promise<number> {
  const { events } = await collectEvents(path);
  for (const ev of events) {
    const json = eventToJson(ev);
    if (json !== JSON.stringify(eventRecord(ev))) expect.soft(json, `${path} frame ${ev.frame}`).toBe(JSON.stringify(eventRecord(ev)));
  }
  return events.length;
}

describe('JSON lines', () => {
  it('has the addresses, the message fields, names for enumerations and whole arrays', () => {
    const values = Array.from({ length: 40 }, (_, i) => i / 2);
    const ev = event(enc.readNotifyResponse({ data_type: 6, data_count: 40, status: 1, ioid: 3, payload: encodeDbr(6, values) }), false, 'W');
    const o = JSON.parse(eventToJson(ev));
    expect(o).toMatchObject({ frame: 42, src: '10.0.0.1', sport: 5064, dst: '10.0.0.2', dport: 40000, direction: 'response', pv: 'W', type: 'ReadNotifyResponse' });
    expect(o.fields).toMatchObject({ data_type: 6, data_type_name: 'DBR_DOUBLE', status: 1, status_name: 'ECA_NORMAL', ioid: 3 });
    expect(o.fields.data).toEqual(values);
  });

  it('writes exactly JSON.stringify of the record, for every message of the fixtures', async () => {
    let n = 0;
    for (const f of readdirSync(FIXTURES).filter((f) => /\.pcap(ng)?$/.test(f))) n += await sameAsRecords(join(FIXTURES, f));
    expect(n).toBeGreaterThan(2000);
  });

  it.skipIf(!HAVE_SHARED)('writes exactly JSON.stringify of the record, for every message of the shared corpus', async () => {
    if (!HAVE_SHARED) return console.warn(SKIP_REASON);
    let n = 0;
    for (const dir of [REAL, PUBLIC]) {
      for (const f of readdirSync(dir).filter((f) => /\.(pcap|pcapng|cap)$/.test(f))) n += await sameAsRecords(join(dir, f));
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('writes wire values that need care as JSON.stringify does (NaN and infinities as strings): -0, exponents, quotes, control characters', () => {
    const doubles = [NaN, Infinity, -Infinity, -0, 1e21, 5e-7, 0.1 + 0.2, -12.5, 4294967296.5, 2 ** 53, -(2 ** 40), 1767225601.2427];
    const cases = [
      event(enc.eventAddResponse({ data_type: 20, data_count: doubles.length, status: 1, subscriptionid: 2, payload: encodeDbr(20, doubles, { status: 3, severity: 2, secPastEpoch: 4294967295, nsec: 4294967295 }) }), false, 'P"\\\x1b\x7f\xe9'),
      event(enc.readNotifyResponse({ data_type: 14, data_count: 3, status: 1, ioid: 1, payload: encodeDbr(14, ['a"b', 'c\\d\n', '\x00\x01\xff']) }), false),
      event(enc.readNotifyResponse({ data_type: 34, data_count: 1, status: 1, ioid: 1, payload: encodeDbr(34, [1.5], { status: 0, severity: 0, precision: 3, units: 'm"A', upperDispLimit: 10 }) }), false),
      event(enc.readNotifyResponse({ data_type: 31, data_count: 1, status: 1, ioid: 1, payload: encodeDbr(31, [1], { status: 0, severity: 0, enumStrings: ['Off', 'O"n'] }) }), false),
      event(enc.errorResponse({ cid: 2, status: 160, request: enc.writeRequest({ data_type: 0, data_count: 1, sid: 4, cid: 2, payload: encodeDbr(0, ['9']) }), message: 'TEST:\tdisabled' }), false),
      event(enc.searchRequest({ name: 'X\x1b[2J', cid: 1, version: 13 }), true, 'X\x1b[2J', 'udp'),
      event(enc.versionRequest({ version: 13, seq: 7 }), true, undefined, 'udp'),
      event(enc.eventAddRequest({ data_type: 20, data_count: 0, sid: 3, subscriptionid: 1, mask: 5 }), true),
      event(enc.eventAddResponse({ data_type: 20, data_count: 0, status: 1, subscriptionid: 2, payload: encodeDbr(20, []) }), false),
    ];
    for (const ev of cases) expect(eventToJson(ev)).toBe(JSON.stringify(eventRecord(ev)));
    expect(JSON.parse(eventToJson(cases[0]!)).fields.data).toEqual(['NaN', 'Infinity', '-Infinity', 0, 1e21, 5e-7, 0.1 + 0.2, -12.5, 4294967296.5, 2 ** 53, -(2 ** 40), 1767225601.2427]);
  });

  it('NaN and infinities are the strings "NaN", "Infinity", "-Infinity" in long arrays and limits too, never null', () => {
    // 40 doubles: past the length where arrays are written by JSON.stringify; a float32 NaN and infinity in the limits.
    const values = Array.from({ length: 40 }, (_, i) => (i % 10 === 3 ? NaN : i % 10 === 7 ? -Infinity : i === 39 ? Infinity : i / 4));
    const limits = { status: 0, severity: 0, precision: 2, units: 'V', upperDispLimit: Infinity, lowerDispLimit: -Infinity, upperAlarmLimit: NaN, upperWarningLimit: 1, lowerWarningLimit: 0, lowerAlarmLimit: NaN };
    const cases = [
      event(enc.readNotifyResponse({ data_type: 6, data_count: 40, status: 1, ioid: 3, payload: encodeDbr(6, values) }), false, 'W'),
      event(enc.readNotifyResponse({ data_type: 30, data_count: 1, status: 1, ioid: 3, payload: encodeDbr(30, [NaN], limits) }), false, 'F'),
    ];
    for (const ev of cases) expect(eventToJson(ev)).toBe(JSON.stringify(eventRecord(ev)));
    const asJson = (x: number) => (Number.isFinite(x) ? x : String(x));
    expect(JSON.parse(eventToJson(cases[0]!)).fields.data).toEqual(values.map(asJson));
    const f = JSON.parse(eventToJson(cases[1]!)).fields;
    expect(f.data).toEqual(['NaN']);
    expect(f.metadata).toMatchObject({ upper_disp_limit: 'Infinity', lower_disp_limit: '-Infinity', upper_alarm_limit: 'NaN', upper_warning_limit: 1, lower_alarm_limit: 'NaN' });
    // Read back: the strings give the numbers again.
    expect(JSON.parse(eventToJson(cases[0]!)).fields.data.map(Number)).toEqual(values);
  });

  it.skipIf(!HAVE_SHARED)('ca_all_dbr frame 212: the NaN alarm and warning limits of a real DBR_CTRL_FLOAT are "NaN"', async () => {
    if (!HAVE_SHARED) return console.warn(SKIP_REASON);
    // `tshark -r ca_all_dbr.pcapng -Y frame.number==212 -x`: the frame's third ReadNotifyResponse (ioid 3, DBR_CTRL_FLOAT)
    // holds 7f c0 00 00 (a float32 quiet NaN) four times after its display limits 0, 0: its alarm and warning limits.
    const { events } = await collectEvents(join(PUBLIC, 'ca_all_dbr.pcapng'));
    const reply = events.find((ev) => ev.frame === 212 && ev.type === 'ReadNotifyResponse' && (ev.command as unknown as { ioid: number }).ioid === 3)!;
    const md = JSON.parse(eventToJson(reply)).fields.metadata;
    expect([md.upper_disp_limit, md.lower_disp_limit, md.upper_alarm_limit, md.upper_warning_limit, md.lower_warning_limit, md.lower_alarm_limit]).toEqual([0, 0, 'NaN', 'NaN', 'NaN', 'NaN']);
    expect(eventToJson(reply)).toBe(JSON.stringify(eventRecord(reply)));
  });

  it('numbers: as JSON.stringify writes them, over every magnitude', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const xs: number[] = [0, -0, 1, -1, 0.5, 1e-4, 9.9999e-5, 1e9, 999999999.5, 1e-7, 123.456789, 4294967295, 4294967296, -4294967295, -4294967296];
    for (let i = 0; i < 20000; i++) {
      const e = Math.floor(random() * 40) - 20;
      const x = (random() - 0.5) * 10 ** e;
      xs.push(x, Math.round(x * 1e4) / 1e4, Math.fround(x));
    }
    for (const x of xs) expect(written((out) => writeJsonNumber(out, x))).toBe(JSON.stringify(x));
  });

  it('strings: only what JSON needs escaped, the rest as UTF-8', () => {
    const strings = ['', 'plain', 'q"q', 'b\\s', 'nl\n', 'ctl\x00\x1f', 'del\x7f', 'latin1 \xe9\xff', 'euro €', 'pair 😀', 'lone \ud800 x', 'lone \udc00'];
    for (const s of strings) expect(written((out) => writeJsonString(out, s))).toBe(JSON.stringify(s));
  });

  it('a long array is written in pieces, never between the halves of a surrogate pair', () => {
    // Prefixes of 0-4 characters move the pieces' ends over every position of the pairs.
    for (let shift = 0; shift < 5; shift++) {
      const v = ['x'.repeat(shift), ...Array.from({ length: 12000 }, (_, i) => (i % 3 === 0 ? '😀' : `é${i}`))];
      expect(written((out) => writeJsonValue(out, v))).toBe(JSON.stringify(v));
    }
    const doubles = Array.from({ length: 20000 }, (_, i) => Math.sin(i / 7));
    expect(written((out) => writeJsonValue(out, doubles))).toBe(JSON.stringify(doubles));
  });
});
