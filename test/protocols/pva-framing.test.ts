import { describe, expect, it } from 'vitest';
import { PvaStreamFramer, framePvaDatagram, pvaKindKey, type PvaHeader } from '../../protocols/pva/framing.js';

/** A header: magic, version 2, flags, command, then the size (or control data) in the flags' byte order. */
function header(flags: number, command: number, word: number): Buffer {
  const b = Buffer.from([0xca, 2, flags, command, 0, 0, 0, 0]);
  if (flags & 0x80) b.writeUInt32BE(word, 4);
  else b.writeUInt32LE(word, 4);
  return b;
}
const app = (flags: number, command: number, payload: number) => Buffer.concat([header(flags, command, payload), Buffer.alloc(payload, 0xca)]);

function collector() {
  const seen: string[] = [];
  let malformed = 0;
  return {
    seen,
    get malformed() {
      return malformed;
    },
    sink: { message: (h: PvaHeader) => void seen.push(`${pvaKindKey(h)}/${h.payloadSize}`), malformed: (n: number) => void (malformed += n) },
  };
}

describe('pvAccess framing', () => {
  // SET_BYTE_ORDER (control 2, big endian, from the server), a CONNECTION_VALIDATION of 11 bytes
  // (little endian), a MONITOR of 300 bytes (big endian): payloads full of 0xCA, which must not be taken for headers.
  const stream = Buffer.concat([header(0xc1, 2, 0), app(0x40, 1, 11), app(0xc0, 13, 300)]);
  const expected = ['ctrl 2/0', 'app 1/11', 'app 13/300'];

  it('frames a stream fed in any cut, headers split across segments included', () => {
    for (const cut of [1, 3, 7, 8, 9, 100, stream.length]) {
      const c = collector();
      const f = new PvaStreamFramer(c.sink);
      for (let o = 0; o < stream.length; o += cut) f.push(stream, o, Math.min(cut, stream.length - o));
      f.end();
      expect(c.seen, `cut ${cut}`).toEqual(expected);
      expect(c.malformed).toBe(0);
    }
  });

  it('after a gap, skips to the next plausible header and counts what it skipped', () => {
    const c = collector();
    const f = new PvaStreamFramer(c.sink);
    f.push(stream, 0, 12); // the control message and half of the next header
    f.gap();
    const junk = Buffer.from([1, 2, 3, 0xca, 0, 9]); // 0xca then version 0: not a header
    f.push(junk, 0, junk.length);
    const next = app(0x80, 10, 4);
    f.push(next, 0, next.length);
    f.end();
    expect(c.seen).toEqual(['ctrl 2/0', 'app 10/4']);
    expect(c.malformed).toBe(4 + 6); // the cut header's 4 bytes, then the junk
  });

  it('frames the messages of a datagram and counts a tail that does not frame', () => {
    const c = collector();
    const d = Buffer.concat([app(0x00, 3, 20), app(0x00, 3, 5), Buffer.from([0xca, 1, 0, 3, 99, 0, 0, 0])]);
    framePvaDatagram(c.sink, d, 0, d.length);
    expect(c.seen).toEqual(['app 3/20', 'app 3/5']);
    expect(c.malformed).toBe(8);
  });
});
