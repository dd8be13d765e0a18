import { describe, expect, it } from 'vitest';
import { AssemblyPool, StreamFramer, frameDatagram, plausibleHeader, type FrameSink, type HeaderView, type MalformedReason } from '../../protocols/ca/framing.js';
import { encodeDbr } from '../../protocols/ca/dbr.js';
import * as enc from '../../src/synth/ca-encode.js';

interface Seen {
  messages: { command: number; headerSize: number; payloadSize: number; bytes: string }[];
  malformed: [MalformedReason, number][];
}

function collector(): { sink: FrameSink<null>; seen: Seen } {
  const seen: Seen = { messages: [], malformed: [] };
  return {
    seen,
    sink: {
      message: (_c, buf, off, hs, ps) =>
        seen.messages.push({ command: buf.readUInt16BE(off), headerSize: hs, payloadSize: ps, bytes: buf.toString('hex', off, off + hs + ps) }),
      malformed: (_c, reason, bytes) => seen.malformed.push([reason, bytes]),
    },
  };
}

const stream = Buffer.concat([
  enc.versionRequest({ version: 13, priority: 0 }),
  enc.clientNameRequest({ name: 'operator' }),
  enc.createChanRequest({ name: 'TEST:wave', cid: 1, version: 13 }),
  enc.readNotifyResponse({ data_type: 20, data_count: 3000, status: 1, ioid: 7, payload: encodeDbr(20, Array.from({ length: 3000 }, (_, i) => i)) }),
  enc.readNotifyResponse({ data_type: 6, data_count: 70000, status: 1, ioid: 8, payload: encodeDbr(6, new Array(70000).fill(1.5)) }),
  enc.echoRequest(),
]);

describe('StreamFramer', () => {
  it('frames the same messages whatever the segment boundaries', () => {
    const whole = collector();
    new StreamFramer(whole.sink, null, { maxMessageBytes: 1 << 24 }).push(stream, 0, stream.length);
    expect(whole.seen.messages.map((m) => m.command)).toEqual([0, 20, 18, 15, 15, 23]);
    expect(whole.seen.messages[4]).toMatchObject({ headerSize: 24, payloadSize: 560000 });
    for (const cut of [1, 7, 16, 17, 23, 1000, 65536]) {
      const parts = collector();
      const f = new StreamFramer(parts.sink, null, { maxMessageBytes: 1 << 24 });
      for (let o = 0; o < stream.length; o += cut) f.push(stream, o, Math.min(cut, stream.length - o));
      expect(parts.seen.messages).toEqual(whole.seen.messages);
      expect(parts.seen.malformed).toEqual([]);
      expect(f.buffered).toBe(0);
    }
  });

  it('reuses the assembly buffer of a message nobody kept, never one a kept message refers to', () => {
    const pool = new AssemblyPool();
    // Waveforms spanning 1448-byte segments, each with different values.
    const messages = Array.from({ length: 40 }, (_, k) =>
      enc.eventAddResponse({ data_type: 6, data_count: 2000, status: 1, subscriptionid: k, payload: encodeDbr(6, Array.from({ length: 2000 }, (_, i) => k * 10000 + i)) }),
    );
    const bytes = Buffer.concat(messages);
    const kept: { buf: Buffer; hex: string }[] = [];
    const backing = new Set<ArrayBufferLike>();
    let reused = 0;
    const sink: FrameSink<null> = {
      message: (_c, buf, off, hs, ps) => {
        if (backing.has(buf.buffer)) reused++;
        backing.add(buf.buffer);
        if (buf.readUInt32BE(off + 12) % 2 === 1) return false; // odd subscription ids: declined, nothing keeps them
        kept.push({ buf: buf.subarray(off, off + hs + ps), hex: buf.toString('hex', off, off + hs + ps) });
        return true;
      },
      malformed: () => {},
    };
    const f = new StreamFramer(sink, null, { maxMessageBytes: 1 << 20, pool });
    for (let o = 0; o < bytes.length; o += 1448) f.push(bytes, o, Math.min(1448, bytes.length - o));
    expect(kept).toHaveLength(20);
    expect(reused).toBeGreaterThanOrEqual(15); // the declined ones' buffers came back
    kept.forEach((k, i) => {
      expect(k.hex).toBe(messages[2 * i]!.toString('hex')); // what it was when delivered …
      expect(k.buf.toString('hex')).toBe(k.hex); // … and still, after every later message
    });
  });

  it('hands messages inside one segment on as views of it (no copy)', () => {
    const views: Buffer[] = [];
    const f = new StreamFramer({ message: (_c, buf) => views.push(buf), malformed: () => {} }, null, { maxMessageBytes: 1 << 20 });
    const two = Buffer.concat([enc.echoRequest(), enc.echoRequest()]);
    f.push(two, 0, two.length);
    expect(views).toEqual([two, two]);
    expect(views[0]).toBe(two);
  });

  it('resynchronises after garbage at the next plausible header and counts the skipped bytes', () => {
    const c = collector();
    const f = new StreamFramer(c.sink, null, { maxMessageBytes: 1 << 20 });
    const garbage = Buffer.from('ffff0007deadbeefcafebabe0102030405', 'hex'); // command 0xffff: not CA
    const tail = Buffer.concat([enc.createChanRequest({ name: 'A:B', cid: 2, version: 13 }), enc.echoRequest()]);
    const data = Buffer.concat([garbage, tail]);
    f.push(data, 0, data.length);
    expect(c.seen.messages.map((m) => m.command)).toEqual([18, 23]);
    // The bad header and the garbage after it, counted once (no byte reported twice).
    expect(c.seen.malformed).toEqual([['bad-header', garbage.length]]);
  });

  it('refuses an extended header that claims 4 GB for a small array, and carries on', () => {
    const c = collector();
    const f = new StreamFramer(c.sink, null, { maxMessageBytes: 1 << 20 });
    const liar = enc.caHeader(15, 0xfffffff8, 6, 1, 1, 9); // extended: 4 GB payload for one DBR_DOUBLE
    const data = Buffer.concat([liar, enc.echoRequest()]);
    f.push(data, 0, data.length);
    expect(c.seen.messages.map((m) => m.command)).toEqual([23]);
    expect(c.seen.malformed[0]![0]).toBe('bad-header');
    expect(f.buffered).toBe(0);
  });

  it('skips a plausible message larger than the limit without buffering it, keeping sync', () => {
    const c = collector();
    const f = new StreamFramer(c.sink, null, { maxMessageBytes: 4096 });
    const big = enc.readNotifyResponse({ data_type: 6, data_count: 1000, status: 1, ioid: 1, payload: encodeDbr(6, new Array(1000).fill(2)) });
    const data = Buffer.concat([big, enc.echoRequest()]);
    for (let o = 0; o < data.length; o += 1000) f.push(data, o, Math.min(1000, data.length - o));
    expect(c.seen.messages.map((m) => m.command)).toEqual([23]);
    expect(c.seen.malformed).toEqual([['oversize', 8016]]);
  });

  it('after a gap, drops the partial message and finds the next header', () => {
    const c = collector();
    const f = new StreamFramer(c.sink, null, { maxMessageBytes: 1 << 20 });
    const m1 = enc.readNotifyResponse({ data_type: 6, data_count: 100, status: 1, ioid: 1, payload: encodeDbr(6, new Array(100).fill(3)) });
    f.push(m1, 0, 100);
    f.gap();
    const rest = Buffer.concat([m1.subarray(300), enc.echoRequest(), enc.eventsOffRequest()]);
    f.push(rest, 0, rest.length);
    expect(c.seen.messages.map((m) => m.command)).toEqual([23, 8]);
    expect(c.seen.malformed[0]).toEqual(['incomplete', 100]);
  });

  it('reports an incomplete message at the end of the stream', () => {
    const c = collector();
    const f = new StreamFramer(c.sink, null, { maxMessageBytes: 1 << 20 });
    const m = enc.createChanRequest({ name: 'X', cid: 1, version: 13 });
    f.push(m, 0, 20);
    f.end();
    expect(c.seen.malformed).toEqual([['incomplete', 20]]);
  });
});

describe('frameDatagram', () => {
  const h: HeaderView = { command: 0, payloadSize: 0, dataType: 0, dataCount: 0, headerSize: 0 };
  it('frames VERSION + several SEARCH messages of one datagram', () => {
    const c = collector();
    const d = Buffer.concat([enc.versionRequest({ version: 13, seq: 4 }), enc.searchRequest({ name: 'A', cid: 1, version: 13 }), enc.searchRequest({ name: 'B:C', cid: 2, version: 13 })]);
    expect(frameDatagram(c.sink, null, d, 0, d.length, h)).toBe(0);
    expect(c.seen.messages.map((m) => m.command)).toEqual([0, 6, 6]);
  });
  it('reports a message that runs past the datagram as an overrun', () => {
    const c = collector();
    const d = Buffer.concat([enc.versionRequest({ version: 13 }), enc.searchRequest({ name: 'ABCDEFGHIJ', cid: 1, version: 13 }).subarray(0, 20)]);
    expect(frameDatagram(c.sink, null, d, 0, d.length, h)).toBe(20);
    expect(c.seen.messages.map((m) => m.command)).toEqual([0]);
    expect(c.seen.malformed).toEqual([['overrun', 20]]);
  });
});

describe('plausibleHeader', () => {
  it('accepts real field use and rejects what no CA peer sends', () => {
    expect(plausibleHeader(1, 16, 31, 0, 1, true)).toBe(true); // EVENT_ADD request for DBR_CTRL_ENUM: 16-byte mask block
    expect(plausibleHeader(15, 24, 20, 1, 1, true)).toBe(true);
    expect(plausibleHeader(15, 20, 20, 1, 1, false)).toBe(false); // payload not a multiple of 8
    expect(plausibleHeader(28, 0, 0, 0, 0, false)).toBe(false); // no command 28
    expect(plausibleHeader(15, 8, 99, 1, 1, false)).toBe(false); // no DBR type 99
    expect(plausibleHeader(23, 0, 5, 0, 0, true)).toBe(false); // ECHO carries nothing
    expect(plausibleHeader(22, 0, 0, 0, 3, true)).toBe(true);
    expect(plausibleHeader(22, 0, 0, 0, 9, true)).toBe(false); // access rights beyond read|write
  });
});
