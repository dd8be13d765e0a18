// Link layers: where the IPv4 header starts inside a captured frame.

import { CaptureError } from './types.js';
import { u16be, u32be, u32le } from '../../protocols/bytes.js';

/** Link types whose frames ipv4Offset() can look into. */
export const SUPPORTED_LINK_TYPES: ReadonlySet<number> = new Set([0, 1, 12, 101, 108, 113, 228, 276]);

/** libpcap's names (pcap_datalink_val_to_name) for the link types one meets in practice. */
const LINK_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL'],
  [1, 'EN10MB'],
  [3, 'AX25'],
  [6, 'IEEE802'],
  [7, 'ARCNET_BSD'],
  [8, 'SLIP'],
  [9, 'PPP'],
  [10, 'FDDI'],
  [12, 'RAW'],
  [50, 'PPP_SERIAL'],
  [51, 'PPP_ETHER'],
  [101, 'RAW'],
  [104, 'C_HDLC'],
  [105, 'IEEE802_11'],
  [107, 'FRELAY'],
  [108, 'LOOP'],
  [113, 'LINUX_SLL'],
  [117, 'PFLOG'],
  [119, 'PRISM_HEADER'],
  [127, 'IEEE802_11_RADIO'],
  [143, 'DOCSIS'],
  ...Array.from({ length: 16 }, (_, i): [number, string] => [147 + i, `USER${i}`]),
  [163, 'IEEE802_11_RADIO_AVS'],
  [187, 'BLUETOOTH_HCI_H4'],
  [189, 'USB_LINUX'],
  [192, 'PPI'],
  [195, 'IEEE802_15_4'],
  [201, 'BLUETOOTH_HCI_H4_WITH_PHDR'],
  [220, 'USB_LINUX_MMAPPED'],
  [227, 'CAN_SOCKETCAN'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [239, 'NFLOG'],
  [249, 'USBPCAP'],
  [251, 'BLUETOOTH_LE_LL'],
  [252, 'WIRESHARK_UPPER_PDU'],
  [253, 'NETLINK'],
  [276, 'LINUX_SLL2'],
]);

/** libpcap name of a link type, e.g. 'EN10MB'; `LINKTYPE 999` when unknown. */
export function linkTypeName(n: number): string {
  return LINK_TYPE_NAMES.get(n) ?? `LINKTYPE ${n}`;
}

/** The error for captures whose packets all use link types cawire cannot decode. */
export function unsupportedLinkError(linkTypes: Iterable<number>): CaptureError {
  const named = Array.from(linkTypes, (n) => `${n} (${linkTypeName(n)})`);
  return new CaptureError(
    `unsupported link type${named.length > 1 ? 's' : ''} ${named.join(', ')}: ` +
      'cawire decodes Ethernet, Linux cooked v1/v2, BSD loopback and raw IPv4',
  );
}

const ETHERTYPE_IPV4 = 0x0800;
const AF_INET = 2;

/**
 * Absolute offset of the IPv4 header of the frame buf[off, off+len), -1 when
 * the frame does not carry IPv4 (ARP, IPv6, LLC, …) or the link type is not
 * supported, -2 when the frame is too short for its link-layer header.
 */
export function ipv4Offset(linkType: number, buf: Buffer, off: number, len: number): number {
  const end = off + len;
  switch (linkType) {
    case 1: {
      // Ethernet: dst(6) src(6) then ethertype; VLAN tags (802.1Q 0x8100,
      // 802.1ad 0x88a8, old QinQ 0x9100) insert TCI(2)+ethertype(2), any depth.
      let typeAt = off + 12;
      if (typeAt + 2 > end) return -2;
      let type = u16be(buf, typeAt);
      while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
        typeAt += 4;
        if (typeAt + 2 > end) return -2;
        type = u16be(buf, typeAt);
      }
      return type === ETHERTYPE_IPV4 ? typeAt + 2 : -1;
    }
    case 113: // Linux cooked v1: 16-byte header, protocol at bytes 14-15
      if (len < 16) return -2;
      return u16be(buf, off + 14) === ETHERTYPE_IPV4 ? off + 16 : -1;
    case 276: // Linux cooked v2: 20-byte header, protocol at bytes 0-1
      if (len < 20) return -2;
      return u16be(buf, off) === ETHERTYPE_IPV4 ? off + 20 : -1;
    case 0: // BSD NULL: 4-byte address family in the capturing host's byte order
      if (len < 4) return -2;
      return u32le(buf, off) === AF_INET || u32be(buf, off) === AF_INET ? off + 4 : -1;
    case 108: // OpenBSD LOOP: 4-byte address family, big-endian
      if (len < 4) return -2;
      return u32be(buf, off) === AF_INET ? off + 4 : -1;
    case 12:
    case 101: // raw IP: IPv4 or IPv6, told apart by the version nibble
      if (len < 1) return -2;
      return buf[off] >> 4 === 4 ? off : -1;
    case 228: // raw IPv4
      if (len < 1) return -2;
      return off;
    default:
      return -1;
  }
}
