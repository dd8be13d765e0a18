import { describe, it, expect } from 'vitest';
import { ipv4Offset, linkTypeName, SUPPORTED_LINK_TYPES, unsupportedLinkError } from '../../src/capture/link.js';
import { CaptureError } from '../../src/capture/types.js';

const IPV4 = Buffer.from('450000140000400040010000c0a80001c0a80002', 'hex');
const IPV6 = Buffer.from('6000000000003a40' + '00'.repeat(32), 'hex');
const MACS = Buffer.alloc(12, 0xee);

/** ipv4Offset of `frame` placed at offset 5 of a larger buffer, relative to the frame start. */
function offsetIn(linkType: number, frame: Buffer): number {
  const buf = Buffer.concat([Buffer.alloc(5, 0xff), frame, Buffer.alloc(7, 0xff)]);
  const at = ipv4Offset(linkType, buf, 5, frame.length);
  return at < 0 ? at : at - 5;
}

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('ipv4Offset', () => {
  it('finds IPv4 in Ethernet frames, with any depth of VLAN tags', () => {
    expect(offsetIn(1, Buffer.concat([MACS, hex('0800'), IPV4]))).toBe(14);
    expect(offsetIn(1, Buffer.concat([MACS, hex('8100 0064 0800'), IPV4]))).toBe(18);
    expect(offsetIn(1, Buffer.concat([MACS, hex('88a8 0001 8100 0064 0800'), IPV4]))).toBe(22);
    expect(offsetIn(1, Buffer.concat([MACS, hex('9100 0001 9100 0002 8100 0003 0800'), IPV4]))).toBe(26);
  });

  it('returns -1 for Ethernet frames that are not IPv4', () => {
    expect(offsetIn(1, Buffer.concat([MACS, hex('0806'), Buffer.alloc(28)]))).toBe(-1); // ARP
    expect(offsetIn(1, Buffer.concat([MACS, hex('86dd'), IPV6]))).toBe(-1);
    expect(offsetIn(1, Buffer.concat([MACS, hex('8100 0064 86dd'), IPV6]))).toBe(-1);
    expect(offsetIn(1, Buffer.concat([MACS, hex('0026 4242 03'), Buffer.alloc(30)]))).toBe(-1); // 802.3 length + LLC
  });

  it('returns -2 for frames shorter than their link header', () => {
    expect(offsetIn(1, MACS.subarray(0, 13))).toBe(-2);
    expect(offsetIn(1, Buffer.concat([MACS, hex('8100 0064 08')]))).toBe(-2);
    expect(offsetIn(113, Buffer.alloc(15))).toBe(-2);
    expect(offsetIn(276, Buffer.alloc(19))).toBe(-2);
    expect(offsetIn(0, Buffer.alloc(3))).toBe(-2);
    expect(offsetIn(108, Buffer.alloc(3))).toBe(-2);
    expect(offsetIn(101, Buffer.alloc(0))).toBe(-2);
    expect(offsetIn(228, Buffer.alloc(0))).toBe(-2);
  });

  it('reads Linux cooked v1 and v2 headers', () => {
    const sll = hex('0000 0304 0006 000000000000 0000 0800');
    expect(offsetIn(113, Buffer.concat([sll, IPV4]))).toBe(16);
    expect(offsetIn(113, Buffer.concat([hex('0000 0304 0006 000000000000 0000 86dd'), IPV6]))).toBe(-1);
    const sll2 = hex('0800 0000 00000001 0304 00 06 000000000000 0000');
    expect(offsetIn(276, Buffer.concat([sll2, IPV4]))).toBe(20);
    expect(offsetIn(276, Buffer.concat([hex('0806 0000 00000001 0304 00 06 000000000000 0000'), Buffer.alloc(28)]))).toBe(-1);
  });

  it('reads the BSD loopback family in either byte order, OpenBSD LOOP only big-endian', () => {
    expect(offsetIn(0, Buffer.concat([hex('02000000'), IPV4]))).toBe(4);
    expect(offsetIn(0, Buffer.concat([hex('00000002'), IPV4]))).toBe(4);
    expect(offsetIn(0, Buffer.concat([hex('1e000000'), IPV6]))).toBe(-1); // AF_INET6 on macOS
    expect(offsetIn(108, Buffer.concat([hex('00000002'), IPV4]))).toBe(4);
    expect(offsetIn(108, Buffer.concat([hex('02000000'), IPV4]))).toBe(-1);
  });

  it('reads raw IP by its version nibble', () => {
    for (const raw of [101, 12]) {
      expect(offsetIn(raw, IPV4)).toBe(0);
      expect(offsetIn(raw, IPV6)).toBe(-1);
    }
    expect(offsetIn(228, IPV4)).toBe(0);
  });

  it('returns -1 for link types it does not decode', () => {
    expect(offsetIn(105, Buffer.concat([MACS, hex('0800'), IPV4]))).toBe(-1);
    expect(offsetIn(229, IPV6)).toBe(-1);
  });
});

describe('link type names', () => {
  it('uses libpcap names and a numeric fallback', () => {
    expect([0, 1, 101, 105, 113, 147, 162, 189, 228, 229, 276].map(linkTypeName)).toEqual([
      'NULL', 'EN10MB', 'RAW', 'IEEE802_11', 'LINUX_SLL', 'USER0', 'USER15', 'USB_LINUX', 'IPV4', 'IPV6', 'LINUX_SLL2',
    ]);
    expect(linkTypeName(4242)).toBe('LINKTYPE 4242');
  });

  it('lists exactly the link types ipv4Offset decodes', () => {
    expect([...SUPPORTED_LINK_TYPES].sort((a, b) => a - b)).toEqual([0, 1, 12, 101, 108, 113, 228, 276]);
  });

  it('names unsupported link types in the error', () => {
    const err = unsupportedLinkError([189]);
    expect(err).toBeInstanceOf(CaptureError);
    expect(err.message).toBe(
      'unsupported link type 189 (USB_LINUX): cawire decodes Ethernet, Linux cooked v1/v2, BSD loopback and raw IPv4',
    );
  });
});
