// Segmentation does not matter: a CA conversation cut into TCP segments at any
// points, with retransmissions (duplicates and overlaps) and reordering within
// the window, decodes to exactly the messages of each direction's byte stream
// framed in one piece.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamFramer, type HeaderView } from '../../protocols/ca/framing.js';
import { decodeMessage } from '../../protocols/ca/messages.js';
import { formatCommand } from '../../src/output/values.js';
import { CA_PORT, Clock, PROPERTY_TIMEOUT, anyMessage, budget, decodeCapture, malformedBytes, tcpFlowPackets, tcpFlowPlan, writeCapture, type GenMessage } from './arbitraries.js';

/** The messages of one direction's whole byte stream, framed in a single push. */
function framedWhole(stream: Buffer, fromClient: boolean): string[] {
  const out: string[] = [];
  const framer = new StreamFramer<null>(
    {
      message: (_c, buf, off, hs, ps) => out.push(formatCommand(decodeMessage(buf, off, hs, ps, fromClient, false))),
      malformed: (_c, reason) => out.push(`malformed ${reason}`),
    },
    null,
    { maxMessageBytes: 64 * 1024 * 1024 },
  );
  framer.push(stream, 0, stream.length);
  framer.end();
  return out;
}

const conversation = fc.array(anyMessage, { minLength: 1, maxLength: 40 });

const streamOf = (msgs: GenMessage[], side: GenMessage['side']) => Buffer.concat(msgs.filter((m) => m.side === side).map((m) => m.bytes));

describe('TCP segmentation does not change what is decoded', () => {
  it(
    'any cut, retransmission, overlap and reordering gives the messages of the stream in one piece',
    () => {
      const seen = { outOfOrder: 0, retransmissions: 0, extended: 0 };
      fc.assert(
        fc.property(conversation, tcpFlowPlan, fc.integer({ min: 0, max: 2 ** 31 }), (msgs, plan, sec) => {
          const client = streamOf(msgs, 'client');
          const server = streamOf(msgs, 'server');
          const file = writeCapture(tcpFlowPackets(client, server, plan, new Clock(sec)));
          const { lines, stats } = decodeCapture(file, {}, (ev) => ({ sender: ev.sport === CA_PORT ? 'server' : 'client', line: formatCommand(ev.command) }));
          const decoded = {
            client: lines.filter((l) => l.sender === 'client').map((l) => l.line),
            server: lines.filter((l) => l.sender === 'server').map((l) => l.line),
          };
          const whole = { client: framedWhole(client, true), server: framedWhole(server, false) };
          expect(whole.client).toHaveLength(msgs.filter((m) => m.side === 'client').length);
          expect(whole.server).toHaveLength(msgs.filter((m) => m.side === 'server').length);
          // Each direction in its own order: how the two directions interleave is the plan's choice.
          expect(decoded).toEqual(whole);
          expect({ malformed: malformedBytes(stats), gaps: stats.gaps }).toEqual({ malformed: 0, gaps: 0 });
          seen.outOfOrder += stats.outOfOrder;
          seen.retransmissions += stats.retransmissions;
          seen.extended += msgs.filter((m) => m.bytes.readUInt16BE(2) === 0xffff).length;
        }),
        budget(400),
      );
      // The generator did exercise what the property is about.
      expect(Math.min(seen.outOfOrder, seen.retransmissions, seen.extended)).toBeGreaterThan(0);
    },
    PROPERTY_TIMEOUT,
  );
});
