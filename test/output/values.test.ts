import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../protocols/ca/messages.js';
import { encodeDbr } from '../../protocols/ca/dbr.js';
import * as enc from '../../src/synth/ca-encode.js';
import { formatCommand, formatField, formatIsoTime, formatTimestamp, pyFloat, pyFloat32, pyString, safeText, writePyFloat } from '../../src/output/values.js';
import { TextOut } from '../../src/output/text-out.js';

const msg = (bytes: Buffer, fromClient: boolean) => decodeMessage(bytes, 0, bytes.length >= 24 && bytes.readUInt16BE(2) === 0xffff ? 24 : 16, bytes.length - 16, fromClient, false);

describe('Python-style values', () => {
  it('floats print as Python repr', () => {
    expect([139, 3.14159, 0.1, -2.5, 1e16, 1.5e-5, 0.0001, 123456789.125, 0, -0].map(pyFloat)).toEqual([
      '139.0', '3.14159', '0.1', '-2.5', '1e+16', '1.5e-05', '0.0001', '123456789.125', '0.0', '-0.0',
    ]);
    expect([NaN, Infinity, -Infinity].map(pyFloat)).toEqual(['nan', 'inf', '-inf']);
  });
  it('doubles written from their shortest decimal print as pyFloat does', () => {
    // Deterministic values: decimals of 0..8 fraction digits at every scale, raw doubles, and the edges of the fast path.
    let seed = 12345;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const values = [0, -0, 1e-4, 9.99e-5, 0.0001234, 1e9, 999999999.999999, 999999999.9999999, 1e9 - 1, 0.1 + 0.2, 1 / 3, 2 ** 31, 2 ** 32 + 0.5, NaN, Infinity, -Infinity];
    for (let i = 0; i < 20000; i++) {
      const scale = 10 ** Math.floor(random() * 22 - 6);
      const decimals = Math.floor(random() * 9);
      const x = Number((random() * scale).toFixed(Math.min(decimals, 20)));
      values.push(x, -x, random() * scale, Math.round(random() * scale));
    }
    const out = new TextOut(64);
    const mismatches = values.filter((x) => {
      out.pos = 0;
      writePyFloat(out, x);
      return out.text() !== pyFloat(x);
    });
    expect(mismatches).toEqual([]);
  });
  it('binary32 values print with the digits a float carries, not the double expansion', () => {
    expect(pyFloat32(Math.fround(3.14))).toBe('3.14');
    expect(pyFloat32(Math.fround(0.1))).toBe('0.1');
    expect(pyFloat32(Math.fround(16777216))).toBe('16777216.0');
  });
  it('strings are quoted and escape control characters (no terminal escapes from the wire)', () => {
    expect(pyString("it's")).toBe("'it\\'s'");
    expect(pyString('a\x1b[31mred\n')).toBe("'a\\x1b[31mred\\n'");
    expect(safeText('TEST:\x07bell')).toBe('TEST:\\x07bell');
    expect(safeText('plain:pv')).toBe('plain:pv');
  });
  it('capture times: caproto-shark seconds and ISO 8601 with nanoseconds', () => {
    expect(formatTimestamp(1409532608, 660204000)).toBe('1409532608.660204');
    expect(formatTimestamp(1409532608, 0)).toBe('1409532608.0');
    expect(formatTimestamp(1409532608, 5)).toBe('1409532608.000000005');
    expect([formatTimestamp(1409532609, 500000000), formatTimestamp(7, 10), formatTimestamp(1409532609, 0)]).toEqual([
      '1409532609.5',
      '7.00000001',
      '1409532609.0',
    ]);
    expect(formatIsoTime(1409532608, 660204000)).toBe('2014-09-01T00:50:08.660204000Z');
  });
});

describe('formatCommand', () => {
  it('prints request fields as caproto does', () => {
    expect(formatCommand(msg(enc.createChanRequest({ name: 'rpi:color', cid: 0, version: 13 }), true))).toBe(
      "CreateChanRequest(name='rpi:color', cid=0, version=13)",
    );
    expect(formatCommand(msg(enc.eventAddRequest({ data_type: 20, data_count: 0, sid: 3, subscriptionid: 1, mask: 5 }), true))).toBe(
      'EventAddRequest(data_type=DBR_TIME_DOUBLE, data_count=0, sid=3, subscriptionid=1, mask=VALUE|ALARM)',
    );
  });
  it('prints data with metadata, enum names and status', () => {
    const payload = encodeDbr(20, [139], { status: 4, severity: 1, secPastEpoch: 778380599, nsec: 825870358 });
    const m = msg(enc.readNotifyResponse({ data_type: 20, data_count: 1, status: 1, ioid: 1, payload }), false);
    expect(formatCommand(m)).toBe(
      'ReadNotifyResponse(data=[139.0], data_type=DBR_TIME_DOUBLE, data_count=1, status=ECA_NORMAL, ioid=1, metadata=DBR_TIME_DOUBLE(status=HIGH, severity=MINOR, timestamp=2014-09-01T00:49:59.825870358Z))',
    );
  });
  it('abbreviates long arrays in text', () => {
    const values = Array.from({ length: 25 }, (_, i) => i);
    const m = msg(enc.eventAddResponse({ data_type: 5, data_count: 25, status: 1, subscriptionid: 2, payload: encodeDbr(5, values) }), false);
    expect(formatField(m, 'data', true)).toBe('[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...+15]');
  });
  it('names the request an ERROR reports and its text', () => {
    const write = enc.writeRequest({ data_type: 0, data_count: 1, sid: 4, cid: 2, payload: encodeDbr(0, ['9']) });
    const m = msg(enc.errorResponse({ cid: 2, status: 160, request: write, message: 'TEST:disabled' }), false);
    expect(formatCommand(m)).toBe(
      "ErrorResponse(cid=2, status=ECA_PUTFAIL, request=WRITE(data_type=DBR_STRING, data_count=1, parameter1=4, parameter2=2), message='TEST:disabled')",
    );
  });
  it('writes each combination of type, count and status as its own fields say, however they collide in the kept text', () => {
    // The run data_type, data_count, status is kept per value combination (a cache of
    // 256 slots): 8 × 9 × 10 combinations, twice over in a shuffled order, each
    // checked against its fields written one by one.
    const cases: [number, number, number][] = [];
    for (let t = 0; t < 8; t++) for (let c = 1; c < 10; c++) for (const status of [1, 8, 24, 40, 72, 96, 160, 176, 192, 0xffffffff]) cases.push([t * 7 % 35, c, status]);
    let seed = 7;
    const order = [...cases, ...cases].sort(() => ((seed = (seed * 16807) % 2147483647) & 1 ? 1 : -1));
    let checked = 0;
    for (const [dataType, count, status] of order) {
      const values = dataType % 7 === 0 ? Array.from({ length: count }, (_, i) => `s${i}`) : Array.from({ length: count }, (_, i) => i);
      const payload = encodeDbr(dataType, values, { status: 0, severity: 0, secPastEpoch: 1, nsec: 2 });
      const m = msg(enc.eventAddResponse({ data_type: dataType, data_count: count, status, subscriptionid: 9, payload }), false);
      const field = (f: string) => `${f}=${formatField(m, f, true)}`;
      const fields = ['data', 'data_type', 'data_count', 'status', 'subscriptionid', 'metadata'].map(field).join(', ');
      expect(formatCommand(m)).toBe(`EventAddResponse(${fields})`);
      const w = msg(enc.writeNotifyResponse({ data_type: dataType, data_count: count, status, ioid: 3 }), false);
      expect(formatCommand(w)).toBe(`WriteNotifyResponse(data_type=${formatField(w, 'data_type', true)}, data_count=${count}, status=${formatField(w, 'status', true)}, ioid=3)`);
      checked++;
    }
    expect(checked).toBe(1440);
    expect(formatCommand(msg(enc.createChanResponse({ data_type: 6, data_count: 1, cid: 4, sid: 5 }), false))).toBe(
      'CreateChanResponse(data_type=DBR_DOUBLE, data_count=1, cid=4, sid=5)',
    );
  });
  it('decides the class from the sender role, not the header', () => {
    const echo = enc.echoRequest();
    expect(msg(echo, true).type).toBe('EchoRequest');
    expect(msg(echo, false).type).toBe('EchoResponse');
    const cancelAck = enc.eventCancelResponse({ data_type: 20, data_count: 1, sid: 3, subscriptionid: 1 });
    expect(formatCommand(msg(cancelAck, false))).toBe('EventCancelResponse(data_type=DBR_TIME_DOUBLE, data_count=1, sid=3, subscriptionid=1)');
  });
});
