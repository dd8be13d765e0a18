import { describe, expect, it } from 'vitest';
import {
  accessRightsResponse,
  beacon,
  caHeader,
  caMessage,
  clearChannelRequest,
  clearChannelResponse,
  clientNameRequest,
  createChFailResponse,
  createChanRequest,
  createChanResponse,
  echoRequest,
  echoResponse,
  errorResponse,
  eventAddRequest,
  eventAddResponse,
  eventCancelRequest,
  eventCancelResponse,
  eventsOffRequest,
  eventsOnRequest,
  hostNameRequest,
  notFoundResponse,
  readNotifyRequest,
  readNotifyResponse,
  readRequest,
  readResponse,
  readSyncRequest,
  repeaterConfirmResponse,
  repeaterRegisterRequest,
  searchRequest,
  searchResponse,
  serverDisconnResponse,
  versionRequest,
  versionResponse,
  writeNotifyRequest,
  writeNotifyResponse,
  writeRequest,
} from '../../src/synth/ca-encode.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('caHeader / caMessage', () => {
  it('writes the 16-byte header big-endian', () => {
    expect(caHeader(15, 0x18, 20, 1, 1, 0xdeadbeef)).toEqual(hex('000f 0018 0014 0001 00000001 deadbeef'));
  });

  it('switches to the 24-byte extended header when size or count reaches 0xFFFF', () => {
    expect(caHeader(1, 0xfff8, 6, 0xfffe, 1, 2)).toEqual(hex('0001 fff8 0006 fffe 00000001 00000002'));
    expect(caHeader(1, 0xffff, 6, 1, 1, 2)).toEqual(hex('0001 ffff 0006 0000 00000001 00000002 0000ffff 00000001'));
    expect(caHeader(15, 0, 6, 0xffff, 1, 2)).toEqual(hex('000f ffff 0006 0000 00000001 00000002 00000000 0000ffff'));
    // big_waveform.pcap frames 13, 14: READ_NOTIFY of 100000 DBR_TIME_DOUBLE and its reply
    expect(readNotifyRequest({ data_type: 20, data_count: 100000, sid: 1, ioid: 1 })).toEqual(
      hex('000f ffff 0014 0000 00000001 00000001 00000000 000186a0'),
    );
    expect(caHeader(15, 800016, 20, 100000, 1, 1)).toEqual(
      hex('000f ffff 0014 0000 00000001 00000001 000c3510 000186a0'),
    );
  });

  it('pads the payload to a multiple of 8 and uses the extended header for big payloads', () => {
    expect(caMessage(4, 0, 1, 0, 1, ascii('1.5\0'))).toEqual(hex('0004 0008 0000 0001 00000000 00000001 312e3500 00000000'));
    expect(caMessage(23, 0, 0, 0, 0)).toEqual(hex('0017 0000 0000 0000 00000000 00000000'));
    const big = caMessage(1, 6, 8191, 1, 7, new Uint8Array(65528 + 1));
    expect(big.subarray(0, 24)).toEqual(hex('0001 ffff 0006 0000 00000001 00000007 00010000 00001fff'));
    expect(big.length).toBe(24 + 65536);
  });
});

// Expected bytes below are CA messages copied from the real captures in
// /work/shared/corpus/real (libca / RSRV of EPICS 7.0.8.1), frame numbers as Wireshark counts.
describe('messages as libca and RSRV send them', () => {
  it('search datagram and reply (caget_basic frames 21, 22)', () => {
    expect(Buffer.concat([versionRequest({ version: 13, seq: 1 }), searchRequest({ name: 'TEST:ai', cid: 1, version: 13 })])).toEqual(
      hex('0000 0000 0001 000d 00000001 00000000  0006 0008 0005 000d 00000001 00000001 544553543a616900'),
    );
    expect(Buffer.concat([versionResponse({ version: 13, seq: 1 }), searchResponse({ port: 5064, cid: 1, version: 13 })])).toEqual(
      hex('0000 0000 0001 000d 00000001 00000000  0006 0008 13c8 0000 ffffffff 00000001 000d000000000000'),
    );
  });

  it('circuit start: VERSION both ways, CLIENT_NAME, HOST_NAME, CREATE_CHAN (caget_basic frames 26, 28)', () => {
    expect(
      Buffer.concat([
        versionRequest({ priority: 0, version: 13 }),
        clientNameRequest({ name: 'root' }),
        hostNameRequest({ name: 'vm' }),
        createChanRequest({ name: 'TEST:ai', cid: 1, version: 13 }),
      ]),
    ).toEqual(
      hex(`0000 0000 0000 000d 00000000 00000000
           0014 0008 0000 0000 00000000 00000000 726f6f7400000000
           0015 0008 0000 0000 00000000 00000000 766d000000000000
           0012 0008 0000 0000 00000001 0000000d 544553543a616900`),
    );
    expect(versionResponse({ version: 13 })).toEqual(hex('0000 0000 0000 000d 00000000 00000000'));
  });

  it('ACCESS_RIGHTS then CREATE_CHAN reply (caget_basic frame 30)', () => {
    expect(Buffer.concat([
      accessRightsResponse({ cid: 1, access_rights: 3 }),
      createChanResponse({ data_type: 6, data_count: 1, cid: 1, sid: 5 }),
    ])).toEqual(hex('0016 0000 0000 0000 00000001 00000003  0012 0000 0006 0001 00000001 00000005'));
  });

  it('READ_NOTIFY request and reply, CLEAR_CHANNEL both ways (caget_basic frames 32, 33, 35, 37)', () => {
    expect(readNotifyRequest({ data_type: 20, data_count: 1, sid: 5, ioid: 1 })).toEqual(
      hex('000f 0000 0014 0001 00000005 00000001'),
    );
    const timeDouble = hex('0000 0000 456561be 1f2be05d 00000005 400d7330dad2d363');
    expect(readNotifyResponse({ data_type: 20, data_count: 1, status: 1, ioid: 1, payload: timeDouble })).toEqual(
      Buffer.concat([hex('000f 0018 0014 0001 00000001 00000001'), timeDouble]),
    );
    expect(clearChannelRequest({ sid: 5, cid: 1 })).toEqual(hex('000c 0000 0000 0000 00000005 00000001'));
    expect(clearChannelResponse({ sid: 5, cid: 1 })).toEqual(hex('000c 0000 0000 0000 00000005 00000001'));
  });

  it('WRITE with the CID in p2, WRITE_NOTIFY and its reply (caput frames 15, 36, 37)', () => {
    expect(writeRequest({ data_type: 0, data_count: 1, sid: 0, cid: 1, payload: ascii('1.5\0') })).toEqual(
      hex('0004 0008 0000 0001 00000000 00000001 312e350000000000'),
    );
    expect(writeNotifyRequest({ data_type: 0, data_count: 1, sid: 1, ioid: 2, payload: ascii('2.5\0') })).toEqual(
      hex('0013 0008 0000 0001 00000001 00000002 322e350000000000'),
    );
    expect(writeNotifyResponse({ data_type: 0, data_count: 1, status: 1, ioid: 2 })).toEqual(
      hex('0013 0000 0000 0001 00000001 00000002'),
    );
  });

  it('ERROR embeds only the offending header, then the text (caput frame 247)', () => {
    const failedWrite = writeRequest({ data_type: 0, data_count: 1, sid: 10, cid: 1, payload: ascii('3\0') });
    expect(errorResponse({ cid: 1, status: 0xa0, request: failedWrite, message: 'TEST:disabled' })).toEqual(
      hex(`000b 0020 0000 0000 00000001 000000a0
           0004 0008 0000 0001 0000000a 00000001
           544553543a64697361626c6564000000`),
    );
  });

  it('ERROR echoing an extended header keeps all 24 bytes', () => {
    const bigWrite = writeNotifyRequest({ data_type: 6, data_count: 0x10000, sid: 3, ioid: 9, payload: new Uint8Array(8) });
    const error = errorResponse({ cid: 0xffffffff, status: 0x48, request: bigWrite, message: 'x' });
    expect(error).toEqual(
      hex(`000b 0020 0000 0000 ffffffff 00000048
           0013 ffff 0006 0000 00000003 00000009 00000008 00010000
           7800000000000000`),
    );
  });

  it('EVENT_ADD, its first update, EVENT_CANCEL and the cancel-confirm (monitor_cancel frames 13, 14, 507, 508)', () => {
    expect(eventAddRequest({ data_type: 20, data_count: 1, sid: 0, subscriptionid: 1, mask: 5 })).toEqual(
      hex('0001 0010 0014 0001 00000000 00000001 000000000000000000000000 0005 0000'),
    );
    const update = hex('00000000 456561ed 00dc9d44 00000000 4043800000000000');
    expect(eventAddResponse({ data_type: 20, data_count: 1, status: 1, subscriptionid: 1, payload: update })).toEqual(
      Buffer.concat([hex('0001 0018 0014 0001 00000001 00000001'), update]),
    );
    expect(eventCancelRequest({ data_type: 20, data_count: 1, sid: 0, subscriptionid: 1 })).toEqual(
      hex('0002 0000 0014 0001 00000000 00000001'),
    );
    expect(eventCancelResponse({ data_type: 20, data_count: 1, sid: 0, subscriptionid: 1 })).toEqual(
      hex('0001 0000 0014 0001 00000000 00000001'),
    );
  });

  it('beacon with address 0 as current RSRV sends it (caget_basic frame 1)', () => {
    expect(beacon({ version: 13, server_port: 5064, beacon_id: 6 })).toEqual(hex('000d 0000 000d 13c8 00000006 00000000'));
    expect(beacon({ version: 13, server_port: 5064, beacon_id: 7, address: '10.0.0.2' })).toEqual(
      hex('000d 0000 000d 13c8 00000007 0a000002'),
    );
  });
});

describe('messages from the field tables of the notes (§4.1)', () => {
  it('header-only control messages', () => {
    expect(echoRequest()).toEqual(hex('0017 0000 0000 0000 00000000 00000000'));
    expect(echoResponse()).toEqual(hex('0017 0000 0000 0000 00000000 00000000'));
    expect(readSyncRequest()).toEqual(hex('000a 0000 0000 0000 00000000 00000000'));
    expect(eventsOffRequest()).toEqual(hex('0008 0000 0000 0000 00000000 00000000'));
    expect(eventsOnRequest()).toEqual(hex('0009 0000 0000 0000 00000000 00000000'));
  });

  it('channel failures and NOT_FOUND', () => {
    expect(createChFailResponse({ cid: 4 })).toEqual(hex('001a 0000 0000 0000 00000004 00000000'));
    expect(serverDisconnResponse({ cid: 4 })).toEqual(hex('001b 0000 0000 0000 00000004 00000000'));
    expect(notFoundResponse({ version: 13, cid: 9 })).toEqual(hex('000e 0000 000a 000d 00000009 00000009'));
  });

  it('VERSION with a circuit priority; priority and seq together are refused', () => {
    expect(versionRequest({ priority: 50, version: 13 })).toEqual(hex('0000 0000 0032 000d 00000000 00000000'));
    expect(() => versionRequest({ priority: 1, version: 13, seq: 2 })).toThrow(TypeError);
  });

  it('search: DO_REPLY flag, a redirecting reply address, and name padding to 8', () => {
    expect(searchRequest({ name: 'TEST:longin', cid: 3, version: 13, reply: 10 })).toEqual(
      hex('0006 0010 000a 000d 00000003 00000003 544553543a6c6f6e67696e0000000000'),
    );
    expect(searchResponse({ port: 40000, ip: '192.168.1.20', cid: 3, version: 13 })).toEqual(
      hex('0006 0008 9c40 0000 c0a80114 00000003 000d000000000000'),
    );
  });

  it('legacy READ puts the SID in the request p1 and the CID in the reply p1', () => {
    expect(readRequest({ data_type: 6, data_count: 1, sid: 5, ioid: 8 })).toEqual(hex('0003 0000 0006 0001 00000005 00000008'));
    expect(readResponse({ data_type: 0, data_count: 1, cid: 2, ioid: 8, payload: ascii('On\0') })).toEqual(
      hex('0003 0008 0000 0001 00000002 00000008 4f6e000000000000'),
    );
  });

  it('repeater registration and confirmation carry an address in p2', () => {
    expect(repeaterRegisterRequest({ client_address: '127.0.0.1' })).toEqual(hex('0018 0000 0000 0000 00000000 7f000001'));
    expect(repeaterConfirmResponse({ repeater_address: 0x7f000001 })).toEqual(hex('0011 0000 0000 0000 00000000 7f000001'));
  });
});
