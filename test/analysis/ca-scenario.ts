// The two-server capture with injected latencies that the latency tests share,
// built in time order with the test CaptureBuilder (nanosecond pcap).

import { encodeDbr } from '../../protocols/ca/dbr.js';
import * as ca from '../../src/synth/ca-encode.js';
import { CaptureBuilder } from '../helpers/build.js';

const DBR_DOUBLE = 6;
const CA_MINOR = 13;

export const SERVER_A = { ip: '10.0.0.1', port: 5064 };
export const SERVER_B = { ip: '10.0.0.2', port: 5064 };
export const HOST_X = '10.0.1.1';
export const HOST_Y = '10.0.1.2';

export const dbrDouble = (v: number): Buffer => encodeDbr(DBR_DOUBLE, [v]);

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
  const b = new CaptureBuilder({ precision: 'ns' });
  for (let i = 0; i < 6; i++) {
    serverAClient(b, i, i);
    serverBClient(b, i, i + 0.5);
  }
  return b.bytes();
}

function serverAClient(b: CaptureBuilder, i: number, t: number): void {
  const udp = { ip: HOST_X, port: 50000 + i };
  const name = `A:pv${i}`;
  const sid = 100 + i;
  const typed = { data_type: DBR_DOUBLE, data_count: 1 };
  b.udp(t, udp, SERVER_A, ...searchDatagram(name, 1));
  b.udp(t + 0.001, SERVER_A, udp, ca.versionResponse({ version: CA_MINOR, seq: 1 }), ca.searchResponse({ port: 5064, cid: 1, version: CA_MINOR }));
  const c = b.tcp({ ip: HOST_X, port: 40000 + i }, SERVER_A);
  c.handshake(t + 0.05);
  c.send('client', t + 0.1, ca.createChanRequest({ name, cid: 1, version: CA_MINOR }));
  c.send('server', t + 0.102, ca.createChanResponse({ ...typed, cid: 1, sid }));
  c.send('client', t + 0.2, ca.readNotifyRequest({ ...typed, sid, ioid: 1 }));
  c.send('server', t + 0.203, ca.readNotifyResponse({ ...typed, status: 1, ioid: 1, payload: dbrDouble(i) }));
  c.send('client', t + 0.3, ca.writeNotifyRequest({ ...typed, sid, ioid: 2, payload: dbrDouble(-i) }));
  c.send('server', t + 0.304, ca.writeNotifyResponse({ ...typed, status: 0xa0, ioid: 2 }));
  c.send('client', t + 0.35, ca.eventAddRequest({ ...typed, sid, subscriptionid: 1, mask: 5 }));
  c.send('server', t + 0.3515, ca.eventAddResponse({ ...typed, status: 1, subscriptionid: 1, payload: dbrDouble(i) }));
  c.send('server', t + 0.36, ca.eventAddResponse({ ...typed, status: 1, subscriptionid: 1, payload: dbrDouble(i + 1) }));
  c.send('client', t + 0.4, ca.echoRequest());
  c.send('server', t + 0.4005, ca.echoResponse());
  c.close('client', t + 0.45);
}

function serverBClient(b: CaptureBuilder, i: number, t: number): void {
  const udp = { ip: HOST_Y, port: 51000 + i };
  const name = `B:pv${i}`;
  const typed = { data_type: DBR_DOUBLE, data_count: 1 };
  b.udp(t, udp, SERVER_B, ...searchDatagram(name, 1));
  b.udp(t + 0.001, SERVER_B, udp, ca.searchResponse({ port: 5064, ip: SERVER_B.ip, cid: 1, version: CA_MINOR }));
  const c = b.tcp({ ip: HOST_Y, port: 41000 + i }, SERVER_B);
  c.handshake(t + 0.05);
  const create = i % 2 === 0 ? 0.005 : 0.007;
  c.send('client', t + 0.1, ca.createChanRequest({ name, cid: 1, version: CA_MINOR }));
  c.send('server', t + 0.1 + create, ca.createChanResponse({ ...typed, cid: 1, sid: 200 + i }));
  const read = ca.readNotifyRequest({ ...typed, sid: 200 + i, ioid: 1 });
  c.send('client', t + 0.2, read);
  c.send('server', t + 0.206, ca.errorResponse({ cid: 1, status: 0x98, request: read, message: name }));
  c.close('client', t + 0.3);
}
