// Synthetic CA captures with known timing, built with the project's capture
// writer: TCP circuits (TcpSession) and UDP datagrams, written in time order as
// a nanosecond pcap. Times are seconds after EPOCH, so they stay exact.

import { CaptureWriter, timestampFromSeconds } from '../../src/synth/capture-writer.js';
import * as ca from '../../src/synth/ca-encode.js';
import { IP_PROTO_UDP, ipv4Packet, linkFrame, udpDatagram, type Endpoint } from '../../src/synth/frames.js';
import { TcpSession } from '../../src/synth/tcp-session.js';

export const EPOCH = 1_800_000_000;
const DBR_DOUBLE = 6;
const CA_MINOR = 13;

interface Timed {
  sec: number;
  nsec: number;
  order: number;
  ip: Uint8Array;
}

export class CaScenario {
  private readonly packets: Timed[] = [];

  /** A TCP connection between the endpoints; pass `t` in seconds after EPOCH to its methods. */
  circuit(client: Endpoint, server: Endpoint): TcpSession {
    return new TcpSession({ client, server, epochSec: EPOCH }, (sec, nsec, ip) => this.add(sec, nsec, ip));
  }

  /** One UDP datagram carrying the CA messages. */
  udp(t: number, src: Endpoint, dst: Endpoint, ...messages: Buffer[]): void {
    this.ip(t, ipv4Packet(src.ip, dst.ip, IP_PROTO_UDP, udpDatagram(src, dst, Buffer.concat(messages))));
  }

  /** Any IPv4 packet, e.g. a lone SYN. */
  ip(t: number, packet: Uint8Array): void {
    const { sec, nsec } = timestampFromSeconds(t);
    this.add(EPOCH + sec, nsec, packet);
  }

  /** The pcap image: packets sorted by time (ties keep the order they were made in). */
  toBuffer(): Buffer {
    const writer = new CaptureWriter({ format: 'pcap', precision: 'ns' });
    const sorted = [...this.packets].sort((a, b) => a.sec - b.sec || a.nsec - b.nsec || a.order - b.order);
    for (const p of sorted) writer.writePacket(p.sec, p.nsec, linkFrame(1, p.ip));
    return writer.toBuffer();
  }

  private add(sec: number, nsec: number, ip: Uint8Array): void {
    this.packets.push({ sec, nsec, order: this.packets.length, ip: Buffer.from(ip) });
  }
}

export const SERVER_A = { ip: '10.0.0.1', port: 5064 };
export const SERVER_B = { ip: '10.0.0.2', port: 5064 };
export const HOST_X = '10.0.1.1';
export const HOST_Y = '10.0.1.2';

export const dbrDouble = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b;
};

/** A search datagram as libca sends it: VERSION with a sequence number, then SEARCH. */
export function searchDatagram(name: string, cid: number): Buffer[] {
  return [ca.versionRequest({ version: CA_MINOR, seq: 1 }), ca.searchRequest({ name, cid, version: CA_MINOR })];
}

/**
 * Two servers with injected latencies; six caget-like clients each (every one uses
 * cid 1, ioid 1, subscription id 1 — the ids libca starts from):
 * - A (10.0.0.1:5064, clients on HOST_X): search reply 1 ms, CreateChan 2 ms,
 *   ReadNotify 3 ms, WriteNotify 4 ms (ECA_PUTFAIL), first EventAdd update 1.5 ms,
 *   echo 0.5 ms; time to connect 102 ms (search at t, CreateChan at t + 0.1 s).
 * - B (10.0.0.2:5064, clients on HOST_Y): search reply 1 ms, CreateChan 5 ms and
 *   7 ms alternating, ReadNotify answered by an ERROR (ECA_GETFAIL) after 6 ms.
 * Client i starts at t = i seconds (A) and i + 0.5 s (B); PVs A:pv{i}, B:pv{i}.
 */
export function twoServerScenario(): Buffer {
  const s = new CaScenario();
  for (let i = 0; i < 6; i++) {
    const t = i;
    const udpX = { ip: HOST_X, port: 50000 + i };
    const name = `A:pv${i}`;
    s.udp(t, udpX, SERVER_A, ...searchDatagram(name, 1));
    s.udp(t + 0.001, SERVER_A, udpX, ca.versionResponse({ version: CA_MINOR, seq: 1 }), ca.searchResponse({ port: 5064, cid: 1, version: CA_MINOR }));
    const c = s.circuit({ ip: HOST_X, port: 40000 + i }, SERVER_A);
    c.handshake(t + 0.05);
    c.send('client', t + 0.1, ca.createChanRequest({ name, cid: 1, version: CA_MINOR }));
    c.send('server', t + 0.102, ca.createChanResponse({ data_type: DBR_DOUBLE, data_count: 1, cid: 1, sid: 100 + i }));
    c.send('client', t + 0.2, ca.readNotifyRequest({ data_type: DBR_DOUBLE, data_count: 1, sid: 100 + i, ioid: 1 }));
    c.send('server', t + 0.203, ca.readNotifyResponse({ data_type: DBR_DOUBLE, data_count: 1, status: 1, ioid: 1, payload: dbrDouble(i) }));
    c.send('client', t + 0.3, ca.writeNotifyRequest({ data_type: DBR_DOUBLE, data_count: 1, sid: 100 + i, ioid: 2, payload: dbrDouble(-i) }));
    c.send('server', t + 0.304, ca.writeNotifyResponse({ data_type: DBR_DOUBLE, data_count: 1, status: 0xa0, ioid: 2 }));
    c.send('client', t + 0.35, ca.eventAddRequest({ data_type: DBR_DOUBLE, data_count: 1, sid: 100 + i, subscriptionid: 1, mask: 5 }));
    c.send('server', t + 0.3515, ca.eventAddResponse({ data_type: DBR_DOUBLE, data_count: 1, status: 1, subscriptionid: 1, payload: dbrDouble(i) }));
    c.send('server', t + 0.36, ca.eventAddResponse({ data_type: DBR_DOUBLE, data_count: 1, status: 1, subscriptionid: 1, payload: dbrDouble(i + 1) }));
    c.send('client', t + 0.4, ca.echoRequest());
    c.send('server', t + 0.4005, ca.echoResponse());
    c.close('client', t + 0.45);
  }
  for (let i = 0; i < 6; i++) {
    const t = i + 0.5;
    const udpY = { ip: HOST_Y, port: 51000 + i };
    const name = `B:pv${i}`;
    s.udp(t, udpY, SERVER_B, ...searchDatagram(name, 1));
    s.udp(t + 0.001, SERVER_B, udpY, ca.searchResponse({ port: 5064, ip: SERVER_B.ip, cid: 1, version: CA_MINOR }));
    const c = s.circuit({ ip: HOST_Y, port: 41000 + i }, SERVER_B);
    c.handshake(t + 0.05);
    const create = i % 2 === 0 ? 0.005 : 0.007;
    c.send('client', t + 0.1, ca.createChanRequest({ name, cid: 1, version: CA_MINOR }));
    c.send('server', t + 0.1 + create, ca.createChanResponse({ data_type: DBR_DOUBLE, data_count: 1, cid: 1, sid: 200 + i }));
    const read = ca.readNotifyRequest({ data_type: DBR_DOUBLE, data_count: 1, sid: 200 + i, ioid: 1 });
    c.send('client', t + 0.2, read);
    c.send('server', t + 0.206, ca.errorResponse({ cid: 1, status: 0x98, request: read, message: name }));
    c.close('client', t + 0.3);
  }
  return s.toBuffer();
}
