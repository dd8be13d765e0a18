import { describe, expect, it } from 'vitest';
import { beacon } from '../../src/synth/ca-encode.js';
import {
  IP_PROTO_TCP,
  IP_PROTO_UDP,
  TCP,
  fragmentIpv4,
  ipToNumber,
  ipv4Packet,
  linkFrame,
  numberToIp,
  tcpSegment,
  udpDatagram,
} from '../../src/synth/frames.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** One's-complement sum of 16-bit words, folded; 0xffff when a checksum inside verifies. */
function onesSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

const LOCALHOST = 0x7f000001;

describe('addresses', () => {
  it('converts dotted quads both ways', () => {
    expect(ipToNumber('127.0.0.1')).toBe(0x7f000001);
    expect(ipToNumber('255.255.255.255')).toBe(0xffffffff);
    expect(numberToIp(0xc0a80a05)).toBe('192.168.10.5');
    expect(numberToIp(-1)).toBe('255.255.255.255');
  });

  it('rejects malformed addresses', () => {
    expect(() => ipToNumber('1.2.3')).toThrow(RangeError);
    expect(() => ipToNumber('1.2.3.256')).toThrow(RangeError);
    expect(() => ipToNumber('a.b.c.d')).toThrow(RangeError);
    expect(() => ipToNumber('1..2.3')).toThrow(RangeError);
    expect(() => ipToNumber('1.2.3.4.')).toThrow(RangeError);
    expect(() => ipToNumber('1234.1.1.1')).toThrow(RangeError);
  });
});

describe('IPv4 / UDP', () => {
  // frame 1 of the real caget_basic.pcap: an RSRV beacon to the repeater over lo
  const realBeaconFrame = hex(`000000000000 000000000000 0800
    4500 002c 586b 4000 4011 e453 7f000001 7f000001
    c7ef 13c9 0018 fe2b
    000d 0000 000d 13c8 00000006 00000000`);

  it('rebuilds a real beacon frame byte for byte (UDP checksum aside)', () => {
    const udp = udpDatagram(
      { ip: '127.0.0.1', port: 51183 },
      { ip: '127.0.0.1', port: 5065 },
      beacon({ version: 13, server_port: 5064, beacon_id: 6 }),
    );
    const frame = linkFrame(1, ipv4Packet('127.0.0.1', '127.0.0.1', IP_PROTO_UDP, udp, { id: 0x586b, dontFragment: true }));
    // the capture holds the kernel's partial (offloaded) checksum there, ours is complete
    const udpChecksumAt = 14 + 20 + 6;
    expect(frame.length).toBe(realBeaconFrame.length);
    expect(frame.subarray(0, udpChecksumAt)).toEqual(realBeaconFrame.subarray(0, udpChecksumAt));
    expect(frame.subarray(udpChecksumAt + 2)).toEqual(realBeaconFrame.subarray(udpChecksumAt + 2));
    expect(onesSum(frame.subarray(34), pseudoHeaderSum(LOCALHOST, LOCALHOST, IP_PROTO_UDP, 24))).toBe(0xffff);
  });

  it('writes a header whose checksum verifies, with id, ttl, flags and offset', () => {
    const packet = ipv4Packet('10.0.0.1', 0xc0a80001, 6, hex('0102030405'), {
      id: 0x1234,
      ttl: 5,
      fragmentOffset: 1480,
      moreFragments: true,
    });
    expect(packet.subarray(0, 10)).toEqual(hex('4500 0019 1234 20b9 0506'));
    expect(packet.subarray(12)).toEqual(hex('0a000001 c0a80001 0102030405'));
    expect(onesSum(packet.subarray(0, 20))).toBe(0xffff);
  });

  it('rejects a fragment offset that is not a multiple of 8', () => {
    expect(() => ipv4Packet(1, 2, 17, new Uint8Array(8), { fragmentOffset: 12 })).toThrow(RangeError);
  });
});

describe('tcpSegment', () => {
  const client = { ip: '127.0.0.1', port: 41398 };
  const server = { ip: '127.0.0.1', port: 5064 };

  it('writes a 20-byte header with flags, window and a verifying checksum', () => {
    const segment = tcpSegment(client, server, 0x8e45ed08, 0xa694d28b, TCP.PSH | TCP.ACK, hex('0000000000000000'), 512);
    expect(segment.subarray(0, 16)).toEqual(hex('a1b6 13c8 8e45ed08 a694d28b 50 18 0200'));
    expect(segment.subarray(18)).toEqual(hex('0000 0000000000000000'));
    expect(onesSum(segment, pseudoHeaderSum(LOCALHOST, LOCALHOST, IP_PROTO_TCP, 28))).toBe(0xffff);
  });

  it('takes sequence and acknowledgement numbers mod 2^32', () => {
    const segment = Buffer.from(tcpSegment(client, server, 2 ** 32 + 5, -1, TCP.ACK, new Uint8Array(0)));
    expect(segment.subarray(4, 12)).toEqual(hex('00000005 ffffffff'));
    expect(segment.readUInt16BE(14)).toBe(65535);
  });
});

describe('linkFrame', () => {
  const ip = hex('4500');

  it('builds Ethernet with zero MACs and IPv4 ethertype', () => {
    expect(linkFrame(1, ip)).toEqual(hex('000000000000 000000000000 0800 4500'));
  });

  it('adds an 802.1Q tag, or a QinQ stack with 0x88a8 outside', () => {
    expect(linkFrame(1, ip, { vlan: [100] })).toEqual(hex('000000000000 000000000000 8100 0064 0800 4500'));
    expect(linkFrame(1, ip, { vlan: [10, 20] })).toEqual(
      hex('000000000000 000000000000 88a8 000a 8100 0014 0800 4500'),
    );
  });

  it('builds Linux cooked v1 as tcpdump -i any shows lo traffic', () => {
    // prefix of every frame in the real multi_ioc.any_sll.pcap
    expect(linkFrame(113, ip)).toEqual(hex('0000 0304 0006 0000000000000000 0800 4500'));
  });

  it('builds Linux cooked v2, BSD NULL and raw IP', () => {
    expect(linkFrame(276, ip)).toEqual(hex('0800 0000 00000001 0304 00 06 0000000000000000 4500'));
    expect(linkFrame(0, ip)).toEqual(hex('02000000 4500'));
    expect(linkFrame(101, ip)).toEqual(ip);
    expect(linkFrame(228, ip)).toEqual(ip);
  });

  it('refuses VLAN tags off Ethernet and unknown link types', () => {
    expect(() => linkFrame(113, ip, { vlan: [1] })).toThrow(RangeError);
    expect(() => linkFrame(1, ip, { vlan: [4096] })).toThrow(RangeError);
    expect(() => linkFrame(127, ip)).toThrow(/unsupported link type 127/);
  });
});

describe('fragmentIpv4', () => {
  const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
  const packet = ipv4Packet('10.1.2.3', '10.1.2.4', IP_PROTO_UDP, payload, { id: 777, dontFragment: true });

  it('splits at 8-byte multiples with MF on all but the last fragment', () => {
    const fragments = fragmentIpv4(packet, 1500);
    expect(fragments.map((f) => f.length)).toEqual([1500, 1500, 60]);
    expect(fragments.map((f) => f.readUInt16BE(6))).toEqual([0x2000 | 0, 0x2000 | 185, 370]);
    for (const f of fragments) {
      expect(f.readUInt16BE(4)).toBe(777);
      expect(f.readUInt16BE(2)).toBe(f.length);
      expect(f[9]).toBe(IP_PROTO_UDP);
      expect(onesSum(f.subarray(0, 20))).toBe(0xffff);
    }
  });

  it('reassembles, by offset, to the original payload', () => {
    const fragments = fragmentIpv4(packet, 576).reverse();
    const reassembled = Buffer.alloc(payload.length);
    for (const f of fragments) f.copy(reassembled, (f.readUInt16BE(6) & 0x1fff) * 8, 20);
    expect(fragments.length).toBe(6); // 552 data bytes (a multiple of 8) per fragment
    expect(reassembled.equals(payload)).toBe(true);
  });

  it('returns a packet that fits unchanged, and refuses a useless MTU', () => {
    expect(fragmentIpv4(packet, 3020)).toEqual([packet]);
    expect(() => fragmentIpv4(packet, 27)).toThrow(RangeError);
  });
});
