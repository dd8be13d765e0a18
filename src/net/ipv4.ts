// IPv4 header (RFC 791) read in place, and fragment reassembly.

import { u16be, u32be } from '../../protocols/bytes.js';

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

/** Fields of the last parsed header; one instance is reused for every packet. */
export interface Ipv4View {
  src: number;
  dst: number;
  protocol: number;
  id: number;
  /** fragment offset in bytes */
  fragmentOffset: number;
  moreFragments: boolean;
  payloadOffset: number;
  /** payload bytes present in the capture */
  payloadLength: number;
  /** payload bytes on the wire (the header's total length less the header): more than payloadLength when cut */
  wirePayloadLength: number;
  /** the capture holds fewer bytes than the header's total length (snaplen) */
  cut: boolean;
}

export function newIpv4View(): Ipv4View {
  return { src: 0, dst: 0, protocol: 0, id: 0, fragmentOffset: 0, moreFragments: false, payloadOffset: 0, payloadLength: 0, wirePayloadLength: 0, cut: false };
}

/** Parses the header at `off`; `end` is the end of captured bytes. False if it is not a usable IPv4 header. */
export function parseIpv4(buf: Buffer, off: number, end: number, v: Ipv4View): boolean {
  if (end - off < 20) return false;
  const vihl = buf[off]!;
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || ihl < 20 || end - off < ihl) return false;
  const total = u16be(buf, off + 2);
  if (total < ihl) return false;
  const flagsFrag = u16be(buf, off + 6);
  v.id = u16be(buf, off + 4);
  v.moreFragments = (flagsFrag & 0x2000) !== 0;
  v.fragmentOffset = (flagsFrag & 0x1fff) * 8;
  v.protocol = buf[off + 9]!;
  v.src = u32be(buf, off + 12);
  v.dst = u32be(buf, off + 16);
  v.payloadOffset = off + ihl;
  // Ethernet pads short frames: trust the IP total length, not the frame length.
  const avail = end - off;
  v.cut = avail < total;
  v.payloadLength = (v.cut ? avail : total) - ihl;
  v.wirePayloadLength = total - ihl;
  return true;
}

interface Pending {
  pieces: { offset: number; data: Buffer }[];
  /** total payload length, known once the last fragment (MF clear) arrived */
  total: number;
  bytes: number;
  firstSeen: number;
}

export interface FragmentStats {
  fragments: number;
  reassembled: number;
  /** datagrams given up: incomplete at timeout or end, over the limits, or inconsistent */
  dropped: number;
}

/**
 * Collects fragments per (src, dst, protocol, id) until the datagram is whole.
 * Bounded: at most `maxPending` datagrams of at most 65535 bytes, dropped after
 * `timeoutSec` of capture time.
 */
export class FragmentReassembler {
  private readonly pending = new Map<string, Pending>();
  readonly stats: FragmentStats = { fragments: 0, reassembled: 0, dropped: 0 };

  constructor(
    private readonly maxPending = 4096,
    private readonly timeoutSec = 30,
  ) {}

  /** Adds the fragment in `v`; returns the whole payload when this fragment completes it. */
  add(v: Ipv4View, buf: Buffer, now: number): Buffer | undefined {
    this.stats.fragments++;
    if (v.cut) {
      this.stats.dropped++;
      return undefined;
    }
    const key = `${v.src}>${v.dst}/${v.protocol}#${v.id}`;
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size >= this.maxPending) this.expire(now, true);
      p = { pieces: [], total: -1, bytes: 0, firstSeen: now };
      this.pending.set(key, p);
    }
    const end = v.fragmentOffset + v.payloadLength;
    if (end > 65535) {
      this.pending.delete(key);
      this.stats.dropped++;
      return undefined;
    }
    if (!v.moreFragments) p.total = end;
    if (!p.pieces.some((x) => x.offset === v.fragmentOffset)) {
      p.pieces.push({ offset: v.fragmentOffset, data: Buffer.from(buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength)) });
      p.bytes += v.payloadLength;
    }
    if (p.total < 0 || p.bytes < p.total) return undefined;
    if (p.pieces.some((x) => x.offset + x.data.length > p.total)) {
      // A piece past the last fragment's end: two datagrams share the id, or a crafted overlap.
      this.pending.delete(key);
      this.stats.dropped++;
      return undefined;
    }
    const whole = Buffer.alloc(p.total);
    const covered = new Uint8Array(p.total);
    for (const piece of p.pieces) {
      piece.data.copy(whole, piece.offset, 0, Math.min(piece.data.length, p.total - piece.offset));
      covered.fill(1, piece.offset, Math.min(p.total, piece.offset + piece.data.length));
    }
    if (covered.indexOf(0) >= 0) return undefined; // overlapping pieces: still a hole
    this.pending.delete(key);
    this.stats.reassembled++;
    return whole;
  }

  /** Drops datagrams older than the timeout (or the oldest one when `force`). */
  expire(now: number, force = false): void {
    for (const [key, p] of this.pending) {
      if (force || now - p.firstSeen > this.timeoutSec) {
        this.pending.delete(key);
        this.stats.dropped++;
        if (force) return;
      }
    }
  }

  /** End of capture: everything still pending is lost. */
  finish(): void {
    this.stats.dropped += this.pending.size;
    this.pending.clear();
  }
}
