// The packets `cawire compare` matches between two captures: TCP segments that
// carry data on CA circuits, and UDP datagrams on CA ports. Each is reduced to
// a key (a 53-bit hash of its addresses, ports, sequence number and payload;
// with --nat, of its sequence number and payload only) and handed on, one
// reused record at a time, with its time, frame and direction.

import { ipv4Offset } from '../capture/link.js';
import type { PacketSink } from '../capture/types.js';
import { newIpv4View, parseIpv4, PROTO_TCP, PROTO_UDP } from '../net/ipv4.js';
import { u16be, u32be } from '../../protocols/bytes.js';
import { CMD } from '../../protocols/ca/constants.js';

export const UP = 0;
export const DOWN = 1;
/** client to server (UP) or server to client (DOWN) */
export type Dir = typeof UP | typeof DOWN;

/** One packet to match (one object per side, rewritten for each packet). */
export interface CaPacket {
  /** seconds since the comparison's time origin, in this capture's clock */
  t: number;
  frame: number;
  dir: Dir;
  tcp: boolean;
  srcIp: number;
  sport: number;
  dstIp: number;
  dport: number;
  /** TCP sequence number of the first payload byte (0 for UDP) */
  seq: number;
  /** payload bytes on the wire */
  len: number;
  /** hash of what identifies the packet at both points */
  key: number;
}

export interface PacketFilter {
  /** CA server ports (TCP and UDP): 5064 and --ports */
  serverPorts: ReadonlySet<number>;
  /** the repeater (beacon) port, 5065 */
  repeaterPort: number;
  /** leave addresses and ports out of the key (an address translator rewrote them) */
  nat: boolean;
  /** TCP server endpoints learned from search replies and beacons (ip * 65536 + port), shared by both captures' readers: a reply lost between the points still names the server */
  learned?: Set<number>;
  /** --host, --port: whether a packet between these endpoints is compared */
  endpoints?: (ipA: number, portA: number, ipB: number, portB: number) => boolean;
}

const MIX1 = 0x01000193;
const MIX2 = 0x5bd1e995;

/**
 * Two 32-bit hashes of buf[off, off+len) seeded with `seed`, folded into a
 * 53-bit number (exact as a double, so a Map key without a string).
 */
function payloadKey(buf: Buffer, off: number, len: number, seed1: number, seed2: number): number {
  let h1 = seed1 ^ 0x811c9dc5;
  let h2 = seed2 ^ 0x9747b28c ^ len;
  const end = off + len;
  let i = off;
  for (; i + 4 <= end; i += 4) {
    const w = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    h1 = Math.imul(h1 ^ w, MIX1);
    h2 = Math.imul(h2 ^ w, MIX2);
    h2 ^= h2 >>> 15;
  }
  for (; i < end; i++) {
    h1 = Math.imul(h1 ^ buf[i]!, MIX1);
    h2 = Math.imul(h2 ^ buf[i]!, MIX2);
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h2 ^= h2 >>> 13;
  h2 = Math.imul(h2, 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  return (h1 >>> 0) * 0x200000 + (h2 & 0x1fffff);
}

/** Reads one capture's CA packets into `out` (called with the one reused record). */
export class CaPacketReader implements PacketSink {
  private readonly ip = newIpv4View();
  private readonly rec: CaPacket = { t: 0, frame: 0, dir: UP, tcp: false, srcIp: 0, sport: 0, dstIp: 0, dport: 0, seq: 0, len: 0, key: 0 };
  /** TCP server endpoints learned from search replies and beacons: ip * 65536 + port */
  private readonly learned: Set<number>;
  /** destinations of SYNs (ip * 65536 + port) */
  private readonly synTo = new Set<number>();
  /** first and last packet time (any packet), seconds since the origin */
  first = NaN;
  last = NaN;
  packets = 0;
  /** IP fragments (not compared) */
  fragments = 0;

  constructor(
    private readonly filter: PacketFilter,
    /** Unix seconds of the time origin (an integer: times stay exact to the nanosecond) */
    private readonly originSec: number,
    private readonly out: (p: CaPacket) => void,
  ) {
    this.learned = filter.learned ?? new Set();
  }

  packet(frame: number, linkType: number, tsSec: number, tsNsec: number, data: Buffer, offset: number, capLen: number): void {
    const t = tsSec - this.originSec + tsNsec / 1e9;
    this.packets++;
    if (this.packets === 1) this.first = t;
    this.last = t;
    const ipOff = ipv4Offset(linkType, data, offset, capLen);
    if (ipOff < 0) return;
    const ip = this.ip;
    if (!parseIpv4(data, ipOff, offset + capLen, ip)) return;
    if (ip.protocol !== PROTO_TCP && ip.protocol !== PROTO_UDP) return;
    if (ip.moreFragments || ip.fragmentOffset > 0) {
      this.fragments++;
      return;
    }
    const off = ip.payloadOffset;
    const len = ip.payloadLength;
    if (len < 8) return;
    const sport = u16be(data, off);
    const dport = u16be(data, off + 2);
    const rec = this.rec;
    const f = this.filter;
    if (ip.protocol === PROTO_UDP) {
      let dir: Dir;
      if (f.serverPorts.has(dport)) dir = UP;
      else if (f.serverPorts.has(sport) || dport === f.repeaterPort) dir = DOWN;
      else return;
      const payOff = off + 8;
      const payLen = len - 8;
      if (dir === DOWN) this.learn(data, payOff, payLen, ip.src);
      if (f.endpoints && !f.endpoints(ip.src, sport, ip.dst, dport)) return;
      rec.tcp = false;
      rec.seq = 0;
      rec.dir = dir;
      this.fill(rec, t, frame, ip.src, sport, ip.dst, dport, ip.wirePayloadLength - 8);
      rec.key = payloadKey(data, payOff, payLen, f.nat ? 17 : (ip.src ^ Math.imul(sport, 0x10001)) >>> 0, f.nat ? payLen : (ip.dst ^ Math.imul(dport, 0x10001)) >>> 0);
      this.out(rec);
      return;
    }
    if (len < 20) return;
    const dataOff = (data[off + 12]! >> 4) * 4;
    if (dataOff < 20 || dataOff > len) return;
    const payLen = len - dataOff;
    const flags = data[off + 13]!;
    // A SYN's destination may be a server; it is one of CA when the circuit's first bytes are a CA VERSION header.
    if ((flags & 0x12) === 0x02 && this.synTo.size < 100_000) this.synTo.add(ip.dst * 65536 + dport);
    if (payLen <= 0) return;
    if (payLen >= 16 && u32be(data, off + dataOff) === 0 && !this.isServer(ip.dst, dport) && !this.isServer(ip.src, sport)) {
      if (this.synTo.has(ip.dst * 65536 + dport)) this.learned.add(ip.dst * 65536 + dport);
      else if (this.synTo.has(ip.src * 65536 + sport)) this.learned.add(ip.src * 65536 + sport);
    }
    const toServer = this.isServer(ip.dst, dport);
    if (!toServer && !this.isServer(ip.src, sport)) return;
    if (f.endpoints && !f.endpoints(ip.src, sport, ip.dst, dport)) return;
    const seq = u32be(data, off + 4);
    rec.tcp = true;
    rec.seq = seq;
    // Both ends servers (rare): the lower port is the server's.
    rec.dir = toServer && (!this.isServer(ip.src, sport) || dport <= sport) ? UP : DOWN;
    this.fill(rec, t, frame, ip.src, sport, ip.dst, dport, ip.wirePayloadLength - dataOff);
    const seed1 = f.nat ? seq : (ip.src ^ Math.imul(sport, 0x10001) ^ seq) >>> 0;
    const seed2 = f.nat ? seq ^ 0x55 : (ip.dst ^ Math.imul(dport, 0x10001)) >>> 0;
    rec.key = payloadKey(data, off + dataOff, payLen, seed1, seed2);
    this.out(rec);
  }

  private fill(rec: CaPacket, t: number, frame: number, srcIp: number, sport: number, dstIp: number, dport: number, len: number): void {
    rec.t = t;
    rec.frame = frame;
    rec.srcIp = srcIp;
    rec.sport = sport;
    rec.dstIp = dstIp;
    rec.dport = dport;
    rec.len = len;
  }

  private isServer(ip: number, port: number): boolean {
    return this.filter.serverPorts.has(port) || this.learned.has(ip * 65536 + port);
  }

  /** Search replies (data type: the server's TCP port) and beacons (data type: port, parameter 2: address) name TCP servers. */
  private learn(buf: Buffer, off: number, len: number, srcIp: number): void {
    const end = off + len;
    for (let at = off; at + 16 <= end; ) {
      const command = u16be(buf, at);
      const size = u16be(buf, at + 2);
      const port = u16be(buf, at + 4);
      if (command === CMD.SEARCH || command === CMD.RSRV_IS_UP) {
        const named = command === CMD.SEARCH ? u32be(buf, at + 8) : u32be(buf, at + 12);
        const ip = named === 0 || named === 0xffffffff ? srcIp : named;
        if (port > 0 && this.learned.size < 100_000) this.learned.add(ip * 65536 + port);
      }
      at += 16 + size;
    }
  }
}
