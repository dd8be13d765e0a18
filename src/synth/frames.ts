// Builders for IPv4 / UDP / TCP packets and the link-layer frames around them,
// used to synthesise captures. All multi-byte fields are big-endian (network
// order) except the BSD NULL family word, which is in the capturing host's order.

export interface Endpoint {
  ip: string | number;
  port: number;
}

/** TCP header flag bits (byte 13 of the header). */
export const TCP = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;

const IPV4_HEADER_LEN = 20;
const UDP_HEADER_LEN = 8;
const TCP_HEADER_LEN = 20;
const ETHERTYPE_IPV4 = 0x0800;
const TPID_8021Q = 0x8100;
const TPID_8021AD = 0x88a8; // outer tag of a QinQ stack
const ARPHRD_LOOPBACK = 772;
const AF_INET = 2;

export function ipToNumber(ip: string): number {
  // hand-rolled (no split/regex): scenario builders call this for every packet
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 0x2e; // a virtual '.' closes the last octet
    if (c >= 0x30 && c <= 0x39 && digits < 3) {
      octet = octet * 10 + (c - 0x30);
      digits++;
    } else if (c === 0x2e && digits > 0 && octet <= 255) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      dots = -1;
      break;
    }
  }
  if (dots !== 4) throw new RangeError(`not a dotted-quad IPv4 address: ${JSON.stringify(ip)}`);
  return value;
}

export function numberToIp(n: number): string {
  const v = n >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** An address given either way, as an unsigned 32-bit number. */
export function ipOf(ip: string | number): number {
  return typeof ip === 'number' ? ip >>> 0 : ipToNumber(ip);
}

/** Unfolded 16-bit one's-complement sum of `bytes` (odd tail padded with zero). */
function sum16(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const evenEnd = bytes.length & ~1;
  for (let i = 0; i < evenEnd; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (evenEnd < bytes.length) sum += bytes[evenEnd]! << 8;
  return sum;
}

/** Internet checksum (RFC 1071) from an unfolded sum. */
function foldComplement(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** Checksum of a UDP/TCP segment including the IPv4 pseudo-header. */
function transportChecksum(src: number, dst: number, protocol: number, segment: Uint8Array): number {
  const pseudo =
    (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + segment.length;
  return foldComplement(sum16(segment, pseudo));
}

export interface Ipv4Options {
  id?: number;
  ttl?: number;
  /** byte offset of this fragment's data; a multiple of 8 */
  fragmentOffset?: number;
  moreFragments?: boolean;
  dontFragment?: boolean;
}

function writeIpv4Header(
  out: Buffer,
  src: number,
  dst: number,
  protocol: number,
  totalLength: number,
  opts: Ipv4Options,
): void {
  const fragmentOffset = opts.fragmentOffset ?? 0;
  if (fragmentOffset % 8 !== 0 || fragmentOffset < 0 || fragmentOffset / 8 > 0x1fff) {
    throw new RangeError(`IPv4 fragment offset ${fragmentOffset} is not a multiple of 8 in range`);
  }
  if (totalLength > 0xffff) throw new RangeError(`IPv4 packet of ${totalLength} bytes exceeds 65535`);
  const flags = (opts.dontFragment ? 0x4000 : 0) | (opts.moreFragments ? 0x2000 : 0);
  out[0] = 0x45; // version 4, header length 5 words
  out[1] = 0; // DSCP/ECN
  out.writeUInt16BE(totalLength, 2);
  out.writeUInt16BE((opts.id ?? 0) & 0xffff, 4);
  out.writeUInt16BE(flags | (fragmentOffset / 8), 6);
  out[8] = opts.ttl ?? 64;
  out[9] = protocol;
  out.writeUInt16BE(0, 10);
  out.writeUInt32BE(src, 12);
  out.writeUInt32BE(dst, 16);
  out.writeUInt16BE(foldComplement(sum16(out.subarray(0, IPV4_HEADER_LEN))), 10);
}

/** An IPv4 packet (20-byte header, no options) with a valid header checksum. */
export function ipv4Packet(
  src: string | number,
  dst: string | number,
  protocol: number,
  payload: Uint8Array,
  opts: Ipv4Options = {},
): Buffer {
  const packet = Buffer.allocUnsafe(IPV4_HEADER_LEN + payload.length);
  writeIpv4Header(packet, ipOf(src), ipOf(dst), protocol, packet.length, opts);
  packet.set(payload, IPV4_HEADER_LEN);
  return packet;
}

/** UDP header + payload, with the checksum computed over the IPv4 pseudo-header. */
export function udpDatagram(src: Endpoint, dst: Endpoint, payload: Uint8Array): Uint8Array {
  const datagram = Buffer.allocUnsafe(UDP_HEADER_LEN + payload.length);
  datagram.writeUInt16BE(src.port, 0);
  datagram.writeUInt16BE(dst.port, 2);
  datagram.writeUInt16BE(datagram.length, 4);
  datagram.writeUInt16BE(0, 6);
  datagram.set(payload, UDP_HEADER_LEN);
  const checksum = transportChecksum(ipOf(src.ip), ipOf(dst.ip), IP_PROTO_UDP, datagram);
  // 0 means "no checksum" in UDP, so a computed 0 is sent as 0xffff
  datagram.writeUInt16BE(checksum === 0 ? 0xffff : checksum, 6);
  return datagram;
}

/** A TCP header (20 bytes, then `options`: a multiple of 4 bytes) + payload; seq/ack are taken mod 2^32. */
export function tcpSegment(
  src: Endpoint,
  dst: Endpoint,
  seq: number,
  ack: number,
  flags: number,
  payload: Uint8Array,
  window = 65535,
  options: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (options.length % 4 !== 0 || options.length > 40) throw new RangeError(`TCP options of ${options.length} bytes: not a multiple of 4 up to 40`);
  const headerLen = TCP_HEADER_LEN + options.length;
  const segment = Buffer.allocUnsafe(headerLen + payload.length);
  segment.writeUInt16BE(src.port, 0);
  segment.writeUInt16BE(dst.port, 2);
  segment.writeUInt32BE(seq >>> 0, 4);
  segment.writeUInt32BE(ack >>> 0, 8);
  segment[12] = (headerLen / 4) << 4; // data offset in 32-bit words
  segment[13] = flags;
  segment.writeUInt16BE(window, 14);
  segment.writeUInt32BE(0, 16); // checksum, urgent pointer
  segment.set(options, TCP_HEADER_LEN);
  segment.set(payload, headerLen);
  segment.writeUInt16BE(transportChecksum(ipOf(src.ip), ipOf(dst.ip), IP_PROTO_TCP, segment), 16);
  return segment;
}

export interface LinkFrameOptions {
  /** 802.1Q VLAN ids, outermost first; with more than one the outer tag uses TPID 0x88a8 (QinQ) */
  vlan?: number[];
}

/**
 * Wraps an IPv4 packet in the link-layer header of `linkType`, as a loopback
 * capture would show it (zero MAC addresses, loopback hardware type).
 */
export function linkFrame(linkType: number, ipPacket: Uint8Array, opts: LinkFrameOptions = {}): Buffer {
  const vlan = opts.vlan ?? [];
  if (vlan.length > 0 && linkType !== 1) {
    throw new RangeError(`VLAN tags need Ethernet (link type 1), not ${linkType}`);
  }
  let header: Buffer;
  switch (linkType) {
    case 1: {
      // dst MAC, src MAC (zero), then a 4-byte tag per VLAN, then the ethertype
      header = Buffer.alloc(12 + 4 * vlan.length + 2);
      vlan.forEach((id, i) => {
        if (!Number.isInteger(id) || id < 0 || id > 0xfff) throw new RangeError(`VLAN id ${id} out of range`);
        const tpid = i === 0 && vlan.length > 1 ? TPID_8021AD : TPID_8021Q;
        header.writeUInt16BE(tpid, 12 + 4 * i);
        header.writeUInt16BE(id, 14 + 4 * i);
      });
      header.writeUInt16BE(ETHERTYPE_IPV4, header.length - 2);
      break;
    }
    case 113: // Linux cooked v1: pkttype, hatype, addr len, addr[8], protocol
      header = Buffer.alloc(16);
      header.writeUInt16BE(0, 0); // PACKET_HOST
      header.writeUInt16BE(ARPHRD_LOOPBACK, 2);
      header.writeUInt16BE(6, 4);
      header.writeUInt16BE(ETHERTYPE_IPV4, 14);
      break;
    case 276: // Linux cooked v2: protocol, reserved, ifindex, hatype, pkttype, addr len, addr[8]
      header = Buffer.alloc(20);
      header.writeUInt16BE(ETHERTYPE_IPV4, 0);
      header.writeUInt32BE(1, 4); // ifindex of lo
      header.writeUInt16BE(ARPHRD_LOOPBACK, 8);
      header[10] = 0; // PACKET_HOST
      header[11] = 6;
      break;
    case 0: // BSD loopback: address family in the capturing host's byte order (little-endian here)
      header = Buffer.alloc(4);
      header.writeUInt32LE(AF_INET, 0);
      break;
    case 101:
    case 228: // raw IP / raw IPv4: no link header
      return Buffer.from(ipPacket);
    default:
      throw new RangeError(`unsupported link type ${linkType}`);
  }
  const frame = Buffer.allocUnsafe(header.length + ipPacket.length);
  header.copy(frame, 0);
  frame.set(ipPacket, header.length);
  return frame;
}

/**
 * Splits an IPv4 packet into fragments of at most `mtu` bytes each. Every
 * fragment repeats the header (id, ttl, protocol, addresses) with its own
 * offset and MF flag; DF is cleared. A packet that fits is returned unchanged.
 */
export function fragmentIpv4(packet: Buffer, mtu: number): Buffer[] {
  if (packet.length <= mtu) return [packet];
  const headerLen = (packet[0]! & 0x0f) * 4;
  const totalLength = packet.readUInt16BE(2);
  const flagsAndOffset = packet.readUInt16BE(6);
  const baseOffset = (flagsAndOffset & 0x1fff) * 8;
  const lastHasMore = (flagsAndOffset & 0x2000) !== 0; // fragmenting a fragment keeps its MF
  const dataPerFragment = Math.floor((mtu - headerLen) / 8) * 8;
  if (dataPerFragment < 8) throw new RangeError(`MTU ${mtu} leaves no room for fragment data`);

  const data = packet.subarray(headerLen, totalLength);
  const fragments: Buffer[] = [];
  for (let start = 0; start < data.length; start += dataPerFragment) {
    const chunk = data.subarray(start, start + dataPerFragment);
    const isLast = start + chunk.length >= data.length;
    const fragment = Buffer.allocUnsafe(headerLen + chunk.length);
    packet.copy(fragment, 0, 0, headerLen);
    fragment.writeUInt16BE(fragment.length, 2);
    fragment.writeUInt16BE(((!isLast || lastHasMore) ? 0x2000 : 0) | ((baseOffset + start) / 8), 6);
    fragment.writeUInt16BE(0, 10);
    fragment.writeUInt16BE(foldComplement(sum16(fragment.subarray(0, headerLen))), 10);
    fragment.set(chunk, headerLen);
    fragments.push(fragment);
  }
  return fragments;
}
