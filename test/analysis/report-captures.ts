// Captures for the troubleshooting reports, built with the project's writer,
// with the problems put at known frames (frame numbers in the comments).

import { encodeDbr } from '../../protocols/ca/dbr.js';
import { ECA_NORMAL, ECA_PUTFAIL } from '../../protocols/ca/eca.js';
import * as enc from '../../src/synth/ca-encode.js';
import { IP_PROTO_TCP, TCP, ipv4Packet, tcpSegment, type Endpoint } from '../../src/synth/frames.js';
import type { TcpSession } from '../../src/synth/tcp-session.js';
import { CaptureBuilder } from '../helpers/build.js';

const BROADCAST = { ip: '10.0.0.255', port: 5065 };
const DBR_DOUBLE = 6;

/**
 * One RSRV (10.0.0.1, TCP 5064, address field 0) beaconing every 15 s, with a
 * client host whose caRepeater relays some beacons (address filled in):
 * missed beacons, then a restart with the fast ramp.
 */
export function restartCapture(): Buffer {
  const b = new CaptureBuilder();
  const server = { ip: '10.0.0.1', port: 40000 };
  const repeater = { ip: '10.0.0.50', port: 45000 };
  const client = { ip: '10.0.0.50', port: 50000 };
  const direct = (t: number, id: number) => b.udp(t, server, BROADCAST, enc.beacon({ version: 13, server_port: 5064, beacon_id: id }));
  const relayed = (t: number, id: number) => b.udp(t, repeater, client, enc.beacon({ version: 13, server_port: 5064, beacon_id: id, address: '10.0.0.1' }));
  b.udp(0, client, { ip: '10.0.0.50', port: 5065 }); // 1: the client registers with its repeater (empty datagram)
  direct(0, 100); // 2
  direct(15, 101); // 3
  relayed(15.0001, 101); // 4: copy
  direct(30, 102); // 5
  direct(45, 103); // 6
  direct(60, 104); // 7
  direct(105, 107); // 8: 105 and 106 lost; libca discards a jump of 3
  direct(120, 108); // 9: 60 s since the last accepted one: anomaly
  direct(195, 113); // 10: 4 lost: anomaly
  direct(210, 114); // 11: 15 s is now fast against the average: anomaly
  direct(270, 0); // 12: restart, id 0 (discarded by libca: behind)
  relayed(270.0001, 0); // 13: copy
  direct(270.02, 0); // 14: RSRV sends id 0 twice (duplicate)
  relayed(270.0201, 0); // 15: copy of the second
  direct(270.06, 1); // 16
  direct(270.14, 2); // 17: fast: anomaly
  direct(270.3, 3); // 18: anomaly
  direct(270.62, 4); // 19: anomaly
  relayed(270.63, 3); // 20: a late copy of 18, not a restart
  return b.bytes();
}

export const S1 = { ip: '10.0.0.1', port: 5064 };
export const S2 = { ip: '10.0.0.2', port: 5064 };
export const A = { ip: '10.0.0.9', port: 50000 };
export const B = { ip: '10.0.0.8', port: 50001 };
export const C = { ip: '10.0.0.7', port: 50002 };

function search(b: CaptureBuilder, t: number, client: Endpoint, ...names: [string, number][]): void {
  const to = { ip: '10.0.0.255', port: 5064 };
  b.udp(t, client, to, enc.versionRequest({ version: 13, seq: 1 }), ...names.map(([name, cid]) => enc.searchRequest({ name, cid, version: 13 })));
}

function reply(b: CaptureBuilder, t: number, server: Endpoint, client: Endpoint, ...answers: { cid: number; port?: number; ip?: string }[]): void {
  b.udp(
    t,
    server,
    client,
    enc.versionResponse({ version: 13, seq: 1 }),
    ...answers.map((a) => enc.searchResponse({ port: a.port ?? 5064, ip: a.ip, cid: a.cid, version: 13 })),
  );
}

/**
 * Searches: a name two servers answer (DUP:pv), a name nobody answers (GONE:pv,
 * from two clients, with back-off), a name answered and then searched again in
 * vain (OK:pv), and a burst of 30 searches in 0.3 s (STORM:0..29).
 */
export function searchCapture(): Buffer {
  const b = new CaptureBuilder();
  search(b, 0, A, ['DUP:pv', 1], ['GONE:pv', 2], ['OK:pv', 3]); // 1
  reply(b, 0.001, S1, A, { cid: 1 }, { cid: 3 }); // 2: address field 255.255.255.255 = the datagram's source
  reply(b, 0.002, S2, A, { cid: 1, port: 5070, ip: '10.0.0.2' }); // 3: a second server has DUP:pv
  search(b, 0.032, A, ['GONE:pv', 2]); // 4
  search(b, 0.096, A, ['GONE:pv', 2]); // 5
  search(b, 0.5, B, ['GONE:pv', 7], ['OK:pv', 8]); // 6
  reply(b, 0.5015, S1, B, { cid: 8 }); // 7
  search(b, 0.53, B, ['GONE:pv', 7]); // 8
  for (let i = 0; i < 30; i++) search(b, 2 + i * 0.01, C, [`STORM:${i}`, 100 + i]); // 9..38
  reply(b, 2.4, S1, C, ...Array.from({ length: 30 }, (_, i) => ({ cid: 100 + i }))); // 39
  reply(b, 2.5, S1, { ip: '10.0.0.6', port: 50003 }, { cid: 99 }); // 40: a reply to a search the capture does not hold
  search(b, 3, B, ['OK:pv', 8]); // 41: searched again (its circuit went away), no reply this time
  return b.bytes();
}

/**
 * Circuits of client host 10.0.0.9 to two servers: circuit 1 (to S1) carries
 * flow control, echoes, a failed creation, a ServerDisconn, and is reset by the
 * server while circuits 2 and 3 are open; circuit 2 (to S2) ends with a FIN from
 * the server; circuit 3 (to S1, started later) is still open at the end;
 * circuit 4 is a connection S2 refuses.
 * Packets are written in time order.
 */
export function circuitCapture(): Buffer {
  const b = new CaptureBuilder();
  const c1 = b.tcp({ ip: '10.0.0.9', port: 40001 }, S1);
  const c2 = b.tcp({ ip: '10.0.0.9', port: 40002 }, S2);
  const c3 = b.tcp({ ip: '10.0.0.9', port: 40003 }, S1);
  c1.handshake(0);
  c1.send(
    'client',
    0.01,
    Buffer.concat([
      enc.versionRequest({ version: 13, priority: 10 }),
      enc.clientNameRequest({ name: 'ops' }),
      enc.hostNameRequest({ name: 'opi\x1b[2J' }),
      enc.createChanRequest({ name: 'A:one', cid: 1, version: 13 }),
      enc.createChanRequest({ name: 'A:two', cid: 2, version: 13 }),
      enc.createChanRequest({ name: 'A:missing', cid: 3, version: 13 }),
    ]),
  );
  c1.send(
    'server',
    0.011,
    Buffer.concat([
      enc.versionResponse({ version: 13 }),
      enc.accessRightsResponse({ cid: 1, access_rights: 3 }),
      enc.createChanResponse({ data_type: DBR_DOUBLE, data_count: 1, cid: 1, sid: 11 }),
      enc.accessRightsResponse({ cid: 2, access_rights: 3 }),
      enc.createChanResponse({ data_type: DBR_DOUBLE, data_count: 1, cid: 2, sid: 12 }),
      enc.createChFailResponse({ cid: 3 }),
    ]),
  );
  c1.send('client', 0.02, enc.eventAddRequest({ data_type: DBR_DOUBLE, data_count: 1, sid: 11, subscriptionid: 1, mask: 5 }));
  const update = (t: number, v: number) =>
    c1.send('server', t, enc.eventAddResponse({ data_type: DBR_DOUBLE, data_count: 1, status: ECA_NORMAL, subscriptionid: 1, payload: encodeDbr(DBR_DOUBLE, [v]) }));
  update(0.021, 1);
  update(0.1, 2);
  c1.send('client', 0.2, enc.eventsOffRequest());
  c1.send('client', 0.3, enc.eventsOnRequest());
  update(0.31, 3);
  c2.handshake(1);
  c2.send('client', 1.01, Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), enc.createChanRequest({ name: 'B:one', cid: 1, version: 13 })]));
  c2.send('server', 1.011, Buffer.concat([enc.versionResponse({ version: 13 }), enc.createChanResponse({ data_type: DBR_DOUBLE, data_count: 1, cid: 1, sid: 1 })]));
  c2.send('client', 1.02, enc.clearChannelRequest({ sid: 1, cid: 1 }));
  c2.send('server', 1.021, enc.clearChannelResponse({ sid: 1, cid: 1 }));
  c3.handshake(2);
  c3.send('client', 2.01, enc.versionRequest({ version: 13, priority: 0 }));
  c1.send('client', 30, enc.echoRequest());
  c1.send('server', 30.001, enc.echoResponse());
  c1.send('server', 31, enc.serverDisconnResponse({ cid: 2 }));
  c1.reset('server', 32);
  // circuit 4: a connection refused (SYN, RST) while circuits 2 and 3 are open
  const refused = { ip: '10.0.0.9', port: 40004 };
  b.ip(35, ipv4Packet(refused.ip, S2.ip, IP_PROTO_TCP, tcpSegment(refused, S2, 1000, 0, TCP.SYN, new Uint8Array(0))));
  b.ip(35.0001, ipv4Packet(S2.ip, refused.ip, IP_PROTO_TCP, tcpSegment(S2, refused, 0, 1001, TCP.RST | TCP.ACK, new Uint8Array(0))));
  c2.close('server', 40);
  return b.bytes();
}

/** caput-style failures: a WRITE_NOTIFY answered with ECA_PUTFAIL after 1.5 s, and an ERROR for a plain WRITE. */
export function putFailCapture(): Buffer {
  const b = new CaptureBuilder();
  const c = b.tcp({ ip: '10.0.0.9', port: 40001 }, S1);
  c.handshake(0);
  c.send('client', 0.01, Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), enc.createChanRequest({ name: 'P:v', cid: 1, version: 13 })]));
  c.send('server', 0.011, Buffer.concat([enc.versionResponse({ version: 13 }), enc.createChanResponse({ data_type: DBR_DOUBLE, data_count: 1, cid: 1, sid: 5 })]));
  const write = enc.writeRequest({ data_type: DBR_DOUBLE, data_count: 1, sid: 5, cid: 1, payload: encodeDbr(DBR_DOUBLE, [1]) });
  c.send('client', 0.02, write);
  c.send('server', 0.021, enc.errorResponse({ cid: 1, status: ECA_PUTFAIL, request: write, message: 'P:v' }));
  c.send('client', 0.03, enc.writeNotifyRequest({ data_type: DBR_DOUBLE, data_count: 1, sid: 5, ioid: 9, payload: encodeDbr(DBR_DOUBLE, [2]) }));
  c.send('server', 1.53, enc.writeNotifyResponse({ data_type: DBR_DOUBLE, data_count: 1, status: ECA_PUTFAIL, ioid: 9 }));
  c.close('client', 2);
  return b.bytes();
}

/** TCP options of a SYN: MSS 1460, NOP, window scale `shift` (8 bytes). */
const synOptions = (shift: number): Uint8Array => new Uint8Array([2, 4, 0x05, 0xb4, 1, 3, 3, shift]);

/**
 * One circuit (A -> S1) whose client stops reading: SYNs saying the windows are scaled by 2^4
 * (client) and 2^0 (not when `withOptions` is false: then they are not scaled), an ECHO, the
 * client's window of 10 (160 bytes) filled by the server's next 160 bytes (frame 5), a zero window
 * (frames 6 and 8), a keep-alive probing it (frame 7), the window open again 2 s after it closed
 * (frame 9), and the ECHO sent again (frame 10).
 */
export function stallCapture(withOptions = true): Buffer {
  const b = new CaptureBuilder();
  const put = (t: number, from: 'c' | 's', seq: number, ack: number, flags: number, window: number, payload = Buffer.alloc(0), options?: Uint8Array) => {
    const [src, dst] = from === 'c' ? [A, S1] : [S1, A];
    b.ip(t, ipv4Packet(src.ip, dst.ip, IP_PROTO_TCP, tcpSegment(src, dst, seq, ack, flags, payload, window, withOptions ? options : undefined)));
  };
  const echo = enc.echoRequest(); // 16 bytes
  put(1, 'c', 999, 0, TCP.SYN, 100, undefined, synOptions(4));
  put(1.001, 's', 4999, 1000, TCP.SYN | TCP.ACK, 100, undefined, synOptions(0));
  put(1.002, 'c', 1000, 5000, TCP.ACK, 100);
  put(1.1, 'c', 1000, 5000, TCP.ACK | TCP.PSH, 10, echo);
  put(1.2, 's', 5000, 1016, TCP.ACK | TCP.PSH, 100, Buffer.concat(Array.from({ length: 10 }, () => echo)));
  put(1.3, 'c', 1016, 5160, TCP.ACK, 0);
  put(1.5, 's', 5159, 1016, TCP.ACK, 100);
  put(1.5001, 'c', 1016, 5160, TCP.ACK, 0);
  put(3.3, 'c', 1016, 5160, TCP.ACK, 10);
  put(4, 'c', 1000, 5160, TCP.ACK | TCP.PSH, 10, echo);
  return b.bytes();
}

/**
 * An IOC (S1) going down without a beacon in the capture: it closes both its
 * circuits at once, circuit 1 of host 10.0.0.9 with a FIN and circuit 2 of
 * host 10.0.0.8 with a RST; 10.0.0.8 is refused while it is down and never
 * comes back, 10.0.0.9 reconnects (circuit 5) 4 s after the first close. S2
 * closes its one circuit (3, of 10.0.0.9) on its own later: a server close,
 * not a restart. Packets are written in time order.
 */
export function serverCloseCapture(): Buffer {
  const b = new CaptureBuilder();
  const channel = (c: TcpSession, t: number, name: string) => {
    c.handshake(t);
    c.send('client', t + 0.01, Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), enc.createChanRequest({ name, cid: 1, version: 13 })]));
    c.send('server', t + 0.011, Buffer.concat([enc.versionResponse({ version: 13 }), enc.createChanResponse({ data_type: DBR_DOUBLE, data_count: 1, cid: 1, sid: 1 })]));
  };
  const c1 = b.tcp({ ip: '10.0.0.9', port: 40001 }, S1);
  const c2 = b.tcp({ ip: '10.0.0.8', port: 40002 }, S1);
  const c3 = b.tcp({ ip: '10.0.0.9', port: 40003 }, S2);
  channel(c1, 0, 'R:a');
  channel(c2, 0.1, 'R:b');
  channel(c3, 0.2, 'Q:c');
  c1.close('server', 5);
  c2.reset('server', 5.001);
  // circuit 4: 10.0.0.8 refused while S1 is down
  const refused = { ip: '10.0.0.8', port: 40004 };
  b.ip(6, ipv4Packet(refused.ip, S1.ip, IP_PROTO_TCP, tcpSegment(refused, S1, 1000, 0, TCP.SYN, new Uint8Array(0))));
  b.ip(6.0001, ipv4Packet(S1.ip, refused.ip, IP_PROTO_TCP, tcpSegment(S1, refused, 0, 1001, TCP.RST | TCP.ACK, new Uint8Array(0))));
  channel(b.tcp({ ip: '10.0.0.9', port: 40005 }, S1), 9, 'R:a');
  c3.close('server', 12);
  return b.bytes();
}
