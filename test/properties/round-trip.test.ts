// Round trip: every message the project's encoder (src/synth/ca-encode.ts) can
// produce decodes back to the fields it was built from, and every DBR payload
// encodeDbr writes decodes back to its values and metadata.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDbr, encodeDbr } from '../../protocols/ca/dbr.js';
import { frameDatagram, readHeader, type HeaderView } from '../../protocols/ca/framing.js';
import { decodeMessage } from '../../protocols/ca/messages.js';
import { PROPERTY_TIMEOUT, anyMessage, budget, dbrSample, metadataKeys } from './arbitraries.js';

const newHeader = (): HeaderView => ({ command: 0, payloadSize: 0, dataType: 0, dataCount: 0, headerSize: 0 });

describe('round trip through the project encoder', () => {
  it(
    'every encodable message decodes to the fields it was built from',
    () => {
      fc.assert(
        fc.property(anyMessage, (g) => {
          const h = newHeader();
          expect(readHeader(g.bytes, 0, g.bytes.length, h)).toBe(true);
          expect(h.headerSize + h.payloadSize).toBe(g.bytes.length);
          const m = decodeMessage(g.bytes, 0, h.headerSize, h.payloadSize, g.side === 'client', g.udp);
          expect(m.type).toBe(g.type);
          const rec = m as unknown as Record<string, unknown>;
          expect(Object.fromEntries(Object.keys(g.fields).map((k) => [k, rec[k]]))).toEqual(g.fields);
          // The framer takes it as exactly one well-formed message, too.
          const framed: number[] = [];
          const bad: string[] = [];
          frameDatagram({ message: (_c, _b, _o, hs, ps) => framed.push(hs + ps), malformed: (_c, r) => bad.push(r) }, null, g.bytes, 0, g.bytes.length, h);
          expect({ framed, bad }).toEqual({ framed: [g.bytes.length], bad: [] });
        }),
        budget(1500),
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'every DBR payload decodes to its values and exactly the metadata its type carries',
    () => {
      fc.assert(
        fc.property(dbrSample, (d) => {
          const v = decodeDbr(d.payload, 0, d.payload.length, d.dataType, d.values.length);
          expect(v.truncated).toBe(false);
          expect(v.count).toBe(d.values.length);
          expect(v.values).toEqual(d.values);
          expect(Object.keys(v.metadata).sort()).toEqual(metadataKeys(d.dataType).sort());
          expect(v.metadata).toEqual(d.metadata);
          // Decoding loses nothing: encoding what was decoded gives the same bytes.
          expect(encodeDbr(d.dataType, v.values, v.metadata).equals(d.payload)).toBe(true);
        }),
        budget(1000),
      );
    },
    PROPERTY_TIMEOUT,
  );
});
