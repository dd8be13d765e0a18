// Plain regression tests for what the properties and the limit tests found (each was a counterexample).

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Dissector } from '../../src/dissect/dissector.js';
import { dissect } from '../../src/dissect/run.js';
import { skippedSummary } from '../../src/dissect/stats.js';
import { formatCommand } from '../../src/output/values.js';
import * as enc from '../../src/synth/ca-encode.js';
import { SearchNames } from '../../protocols/ca/circuit.js';
import { encodeDbr } from '../../protocols/ca/dbr.js';
import { decodeMessage, type SearchRequest } from '../../protocols/ca/messages.js';
import { fragmentIpv4 } from '../../src/synth/frames.js';
import { CA_PORT, CLIENT_HOST, Clock, SERVER_HOST, decodeCapture, plainPlan, tcpFlowPackets, udpPacket, writeCapture } from './arbitraries.js';

const client = { ip: CLIENT_HOST, port: 40000 };
const server = { ip: SERVER_HOST, port: CA_PORT };

describe('regressions found by the properties', () => {
  it('a message from a record that straddled two input chunks still reads right after the chunk (capture-format)', async () => {
    const clock = new Clock(1_700_000_000);
    const replies = [1, 2, 3].map((v) =>
      udpPacket(server, client, enc.readNotifyResponse({ data_type: 5, data_count: 1, status: 1, ioid: v, payload: encodeDbr(5, [v * 1000]) }), clock.next()),
    );
    const file = writeCapture(replies);
    // Cut inside every record, so each is completed from the parser's carry buffer.
    const cuts = [30, 100, 170, file.length];
    const chunks = cuts.map((end, i) => file.subarray(i ? cuts[i - 1] : 0, end));
    const events = [];
    for await (const ev of dissect(Readable.from(chunks), { env: {} })) events.push(ev);
    // Read only now, after the parser has moved on (the documented library use).
    expect(events.map((ev) => formatCommand(ev.command))).toEqual(
      [1, 2, 3].map((v) => `ReadNotifyResponse(data=[${v * 1000}], data_type=DBR_LONG, data_count=1, status=ECA_NORMAL, ioid=${v}, metadata=DBR_LONG())`),
    );
  });

  it('IPv4 fragments of two datagrams that share an id are dropped, not a crash (capture-format)', () => {
    const clock = new Clock(1_700_000_000);
    const big = udpPacket(client, server, enc.writeRequest({ data_type: 0, data_count: 6, sid: 0, cid: 0, payload: encodeDbr(0, ['', '', '', '', '', '']) }), clock.next());
    const small = udpPacket(client, server, Buffer.concat([enc.echoRequest(), enc.echoRequest(), enc.echoRequest()]), clock.next());
    const a = fragmentIpv4(big.ip, 68); // ipv4Packet's default id 0 for both
    const b = fragmentIpv4(small.ip, 68);
    const d = new Dissector({ env: {} }, () => {});
    [...a.slice(0, 3), ...b, ...a.slice(3)].forEach((ip, i) => d.packet(i + 1, 228, 1, 0, ip, 0, ip.length));
    d.finish();
    expect(d.stats.ipFragmentsDropped).toBeGreaterThan(0);
    expect(skippedSummary(d.stats)).toMatch(/IP datagrams? with missing fragments/);
  });

  it('garbage before a message is reported once, byte for byte (random-bytes)', () => {
    const garbage = Buffer.from('ffff0007deadbeefcafebabe0102030405', 'hex');
    const stream = Buffer.concat([garbage, enc.echoRequest()]);
    const file = writeCapture(tcpFlowPackets(stream, Buffer.alloc(0), plainPlan(40000), new Clock(1_700_000_000)));
    const { lines, stats } = decodeCapture(file, {}, (ev) => ev.type);
    expect(lines).toEqual(['EchoRequest']);
    expect(stats.malformed['bad-header']).toEqual({ count: 1, bytes: garbage.length });
    expect(stats.malformed.resync.bytes).toBe(0);
    expect(skippedSummary(stats)).toBe(`not decoded: 1 malformed CA message (${garbage.length} bytes)`);
  });

  it('a full search table keeps the newest id of the client it had to drop (limits: unanswered searches)', () => {
    const names = new SearchNames(3);
    const search = (cid: number) => {
      const bytes = enc.searchRequest({ name: `PV:${cid}`, cid, version: 13 });
      return decodeMessage(bytes, 0, 16, bytes.length - 16, true, true) as SearchRequest;
    };
    for (const cid of [1, 2, 3, 4]) names.request(7, search(cid)); // the 4th evicts the only (so oldest) client
    expect(names.reply(7, { cid: 4 })).toBe('PV:4');
    expect(names.evicted).toBe(3);
  });
});
