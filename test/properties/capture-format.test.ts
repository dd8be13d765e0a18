// Capture format does not matter: the same packets written as pcap (either byte
// order, micro- or nanosecond), as pcapng, with any supported link layer, and
// handed over in chunks of any size, decode to the same messages at the same
// times and frames.

import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dissect } from '../../src/dissect/run.js';
import type { CaEvent } from '../../src/dissect/event.js';
import { fragmentIpv4 } from '../../src/synth/frames.js';
import {
  CA_PORT,
  CLIENT_HOST,
  Clock,
  PROPERTY_TIMEOUT,
  SERVER_HOST,
  anyMessage,
  budget,
  captureFormat,
  decodeCapture,
  eventLine,
  tcpFlowPackets,
  tcpFlowPlan,
  udpPacket,
  writeCapture,
  type IpPacket,
} from './arbitraries.js';

/** A datagram of 1-4 messages from one side, maybe sent as IPv4 fragments. */
const datagram = fc.record({
  msgs: fc.array(anyMessage.filter((m) => m.bytes.length <= 4000), { minLength: 1, maxLength: 4 }),
  fromClient: fc.boolean(),
  clientPort: fc.integer({ min: 1024, max: 65535 }).filter((p) => p !== CA_PORT && p !== CA_PORT + 1),
  mtu: fc.option(fc.integer({ min: 68, max: 1500 }), { nil: undefined }),
});

const scenario = fc.record({
  conversation: fc.array(anyMessage, { maxLength: 20 }),
  plan: tcpFlowPlan,
  datagrams: fc.array(datagram, { maxLength: 6 }),
  /** where the datagrams go among the TCP packets */
  at: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
  sec: fc.integer({ min: 0, max: 0xffff0000 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function packetsOf(s: Scenario): IpPacket[] {
  const clock = new Clock(s.sec);
  const side = (side: 'client' | 'server') => Buffer.concat(s.conversation.filter((m) => m.side === side).map((m) => m.bytes));
  const packets = tcpFlowPackets(side('client'), side('server'), s.plan, clock);
  s.datagrams.forEach((d, i) => {
    const client = { ip: CLIENT_HOST, port: d.clientPort };
    const server = { ip: SERVER_HOST, port: CA_PORT };
    const p = udpPacket(d.fromClient ? client : server, d.fromClient ? server : client, Buffer.concat(d.msgs.map((m) => m.bytes)), clock.next());
    const pieces = d.mtu ? fragmentIpv4(p.ip, d.mtu).map((ip) => ({ ...p, ip })) : [p];
    packets.splice(s.at[i]! % (packets.length + 1), 0, ...pieces);
  });
  // Times must rise with the packet order; keep each packet's own spacing.
  const t = new Clock(s.sec);
  return packets.map((p) => ({ ...p, ...t.next() }));
}

/** Splits `file` into chunks at the given cut points (taken modulo its length). */
function chunked(file: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % file.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of [...points, file.length]) {
    if (p > last) out.push(file.subarray(last, p));
    last = p;
  }
  return out;
}

describe('capture format does not change what is decoded', () => {
  it(
    'pcap (LE/BE, µs/ns), pcapng and every link layer, fed in chunks, give the same messages, times and frames',
    async () => {
      await fc.assert(
        fc.asyncProperty(scenario, captureFormat, fc.array(fc.nat(), { maxLength: 12 }), async (s, format, cuts) => {
          const packets = packetsOf(s);
          const reference = decodeCapture(writeCapture(packets, { format: 'pcap' }));
          const file = writeCapture(packets, format);
          // Through the library's async API, reading the events only once the whole capture is done.
          const events: CaEvent[] = [];
          const run = dissect(Readable.from(chunked(file, cuts)), { env: {} });
          for await (const ev of run) events.push(ev);
          expect(events.map(eventLine)).toEqual(reference.lines);
          expect(run.result!.stats).toEqual(reference.stats);
          expect(run.result!.capture.packets).toBe(packets.length);
          expect(run.result!.capture.truncated).toBeUndefined();
        }),
        budget(300),
      );
    },
    PROPERTY_TIMEOUT,
  );
});
