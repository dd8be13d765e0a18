// Random bytes on the CA ports (UDP and TCP 5064/5065) never throw: what cannot
// be decoded is reported as malformed, and the decoded messages plus the
// reported bytes account for every byte of the traffic (no silent loss).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dissector } from '../../src/dissect/dissector.js';
import { skippedSummary } from '../../src/dissect/stats.js';
import {
  CA_PORT,
  CLIENT_HOST,
  Clock,
  PROPERTY_TIMEOUT,
  REPEATER_PORT,
  SERVER_HOST,
  budget,
  caLikeBytes,
  decodeCapture,
  malformedBytes,
  plainPlan,
  tcpFlowPackets,
  tcpFlowPlan,
  udpPacket,
  writeCapture,
} from './arbitraries.js';

const ephemeral = fc.integer({ min: 1024, max: 65535 }).filter((p) => p !== CA_PORT && p !== REPEATER_PORT);

const datagramSpec = fc.record({
  payload: fc.oneof(caLikeBytes(6).filter((b) => b.length <= 8000), fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a))),
  caPort: fc.constantFrom(CA_PORT, REPEATER_PORT),
  other: ephemeral,
  toCaPort: fc.boolean(),
});

describe('random bytes on the CA ports', () => {
  it(
    'UDP: every datagram is decoded or reported as malformed, byte for byte',
    () => {
      fc.assert(
        fc.property(fc.array(datagramSpec, { minLength: 1, maxLength: 20 }), (datagrams) => {
          const sizes = new Map<number, number>();
          const d = new Dissector({ env: {} }, (ev) => sizes.set(ev.frame, (sizes.get(ev.frame) ?? 0) + ev.command.size));
          const clock = new Clock(1_700_000_000);
          datagrams.forEach((g, i) => {
            const ca = { ip: SERVER_HOST, port: g.caPort };
            const peer = { ip: CLIENT_HOST, port: g.other };
            const p = udpPacket(g.toCaPort ? peer : ca, g.toCaPort ? ca : peer, g.payload, clock.next());
            const before = { bytes: malformedBytes(d.stats), count: d.stats.malformed['bad-header'].count + d.stats.malformed.overrun.count };
            d.packet(i + 1, 228, p.sec, p.nsec, p.ip, 0, p.ip.length);
            const reported = malformedBytes(d.stats) - before.bytes;
            expect((sizes.get(i + 1) ?? 0) + reported).toBe(g.payload.length);
            if (reported > 0) expect(d.stats.malformed['bad-header'].count + d.stats.malformed.overrun.count).toBe(before.count + 1);
          });
          d.finish();
          expect(d.stats.udpDatagrams).toBe(datagrams.length);
          if (malformedBytes(d.stats) > 0) expect(skippedSummary(d.stats)).toMatch(/malformed CA message/);
        }),
        budget(400),
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'TCP: every byte of both directions is decoded or reported, whatever the segmentation, with or without the handshake',
    () => {
      // Joining mid-stream: the first segment seen starts the stream, so those plans send in order.
      const midStream = fc.integer({ min: 1024, max: 65535 }).filter((p) => p !== CA_PORT && p !== REPEATER_PORT).map((p) => ({ ...plainPlan(p), handshake: false }));
      fc.assert(
        fc.property(caLikeBytes(24), caLikeBytes(24), fc.oneof(tcpFlowPlan, midStream), (client, server, plan) => {
          const file = writeCapture(tcpFlowPackets(client, server, plan, new Clock(1_700_000_000)));
          const { lines, stats } = decodeCapture(file, {}, (ev) => ev.command.size);
          const decoded = lines.reduce((a, b) => a + b, 0);
          expect(stats.gaps).toBe(0);
          // 'oversize' counts the size the header claimed, which may run past the end of the capture.
          if (stats.malformed.oversize.count === 0) expect(decoded + malformedBytes(stats)).toBe(client.length + server.length);
          else expect(decoded + malformedBytes(stats)).toBeGreaterThanOrEqual(client.length + server.length);
          if (malformedBytes(stats) > 0) expect(skippedSummary(stats)).not.toBe('');
        }),
        budget(400),
      );
    },
    PROPERTY_TIMEOUT,
  );
});
