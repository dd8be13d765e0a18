// Hand-written pcap / pcapng bytes and a collecting sink for the capture tests.

import { CaptureParser } from '../../src/capture/reader.js';
import type { CaptureStats, PacketSink } from '../../src/capture/types.js';

export interface SeenPacket {
  frame: number;
  linkType: number;
  sec: number;
  nsec: number;
  bytes: Buffer; // a copy of data[offset, offset+capLen)
  origLen: number;
}

/** A sink that copies every packet it is given. */
export function collectingSink(): PacketSink & { packets: SeenPacket[] } {
  const packets: SeenPacket[] = [];
  return {
    packets,
    packet(frame, linkType, tsSec, tsNsec, data, offset, capLen, origLen) {
      packets.push({ frame, linkType, sec: tsSec, nsec: tsNsec, bytes: Buffer.from(data.subarray(offset, offset + capLen)), origLen });
    },
  };
}

/** Parses `file` fed in chunks of `chunkSize` bytes (whole when omitted). */
export function parseInChunks(file: Buffer, chunkSize = file.length || 1): { packets: SeenPacket[]; stats: CaptureStats } {
  const sink = collectingSink();
  const parser = new CaptureParser(sink);
  for (let i = 0; i < file.length; i += chunkSize) parser.push(file.subarray(i, i + chunkSize));
  const stats = parser.end();
  return { packets: sink.packets, stats };
}

function u16(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}

function u32(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
}

function u64(le: boolean, v: bigint): Buffer {
  const b = Buffer.alloc(8);
  if (le) b.writeBigUInt64LE(BigInt.asUintN(64, v));
  else b.writeBigUInt64BE(BigInt.asUintN(64, v));
  return b;
}

export interface PcapPacket {
  sec: number;
  frac: number; // µs or ns per the file
  data: Buffer;
  origLen?: number;
}

export function pcapFile(
  opts: { le?: boolean; nano?: boolean; linkType?: number; snaplen?: number },
  packets: PcapPacket[],
): Buffer {
  const le = opts.le ?? true;
  const header = Buffer.concat([
    u32(le, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4),
    u16(le, 2),
    u16(le, 4),
    u32(le, 0),
    u32(le, 0),
    u32(le, opts.snaplen ?? 262144),
    u32(le, opts.linkType ?? 1),
  ]);
  const records = packets.map((p) =>
    Buffer.concat([u32(le, p.sec), u32(le, p.frac), u32(le, p.data.length), u32(le, p.origLen ?? p.data.length), p.data]),
  );
  return Buffer.concat([header, ...records]);
}

/** A pcapng block: type, length, body padded to 4 bytes, length. */
export function block(le: boolean, type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const len = padded.length + 12;
  return Buffer.concat([u32(le, type), u32(le, len), padded, u32(le, len)]);
}

export function sectionHeader(le: boolean): Buffer {
  return block(le, 0x0a0d0d0a, Buffer.concat([u32(le, 0x1a2b3c4d), u16(le, 1), u16(le, 0), u64(le, -1n)]));
}

export function interfaceDescription(
  le: boolean,
  linkType: number,
  opts: { snaplen?: number; tsresol?: number; tsoffset?: bigint } = {},
): Buffer {
  const options: Buffer[] = [];
  if (opts.tsresol !== undefined) options.push(u16(le, 9), u16(le, 1), Buffer.from([opts.tsresol, 0, 0, 0]));
  if (opts.tsoffset !== undefined) options.push(u16(le, 14), u16(le, 8), u64(le, opts.tsoffset));
  if (options.length > 0) options.push(u16(le, 0), u16(le, 0));
  return block(le, 1, Buffer.concat([u16(le, linkType), u16(le, 0), u32(le, opts.snaplen ?? 0), ...options]));
}

export function enhancedPacket(le: boolean, ifIndex: number, ticks: bigint, data: Buffer, origLen = data.length): Buffer {
  return block(
    le,
    6,
    Buffer.concat([u32(le, ifIndex), u32(le, Number(ticks >> 32n)), u32(le, Number(ticks & 0xffffffffn)), u32(le, data.length), u32(le, origLen), data]),
  );
}

export function obsoletePacket(le: boolean, ifIndex: number, ticks: bigint, data: Buffer): Buffer {
  return block(
    le,
    2,
    Buffer.concat([u16(le, ifIndex), u16(le, 0), u32(le, Number(ticks >> 32n)), u32(le, Number(ticks & 0xffffffffn)), u32(le, data.length), u32(le, data.length), data]),
  );
}

export function simplePacket(le: boolean, data: Buffer, origLen = data.length): Buffer {
  return block(le, 3, Buffer.concat([u32(le, origLen), data]));
}

/** An Ethernet frame carrying a minimal IPv4/UDP datagram, distinct per `tag`. */
export function ethernetIpv4(tag: number, payloadLength = 8): Buffer {
  const eth = Buffer.from('0000000000000000000000000800', 'hex');
  const ip = Buffer.from('4500001c0000400040110000' + '7f000001' + '7f000001', 'hex');
  const payload = Buffer.alloc(payloadLength, tag & 0xff);
  return Buffer.concat([eth, ip, payload]);
}
