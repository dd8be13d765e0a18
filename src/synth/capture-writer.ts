// Streams packets into a pcap or pcapng file image. Output is produced in
// chunks of about 1 MiB handed to a callback (or kept in memory), so writing a
// multi-gigabyte capture costs one copy per byte and no re-concatenation.

export interface CaptureWriterOptions {
  format: 'pcap' | 'pcapng';
  byteOrder?: 'le' | 'be';
  precision?: 'us' | 'ns';
  /** LINKTYPE_* of the (single) interface; default 1 = Ethernet */
  linkType?: number;
  /** longer frames are truncated to this many captured bytes */
  snaplen?: number;
}

const CHUNK_SIZE = 1 << 20;
const DEFAULT_SNAPLEN = 262144;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_GLOBAL_HEADER_LEN = 24;
const PCAP_RECORD_HEADER_LEN = 16;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 0x00000001;
const PCAPNG_EPB = 0x00000006;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_OPT_IF_TSRESOL = 9;
const PCAPNG_EPB_OVERHEAD = 32; // type, length, interface, ts high/low, cap len, orig len, trailing length

/** Seconds as a float -> integer (sec, nsec), rounding the fraction to the nearest nanosecond. */
export function timestampFromSeconds(t: number): { sec: number; nsec: number } {
  let sec = Math.floor(t);
  let nsec = Math.round((t - sec) * 1e9);
  if (nsec >= 1e9) {
    sec += 1;
    nsec -= 1e9;
  }
  return { sec, nsec };
}

const pad4 = (n: number): number => (n + 3) & ~3;

export class CaptureWriter {
  private readonly littleEndian: boolean;
  private readonly nanosecond: boolean;
  private readonly snaplen: number;
  private readonly format: 'pcap' | 'pcapng';
  private readonly out: (chunk: Buffer) => void;
  /** chunks kept for toBuffer() when no callback was given */
  private readonly retained: Buffer[] | undefined;

  private chunk = Buffer.allocUnsafe(CHUNK_SIZE);
  private chunkStart = 0; // first byte of `chunk` not yet handed out
  private pos = 0; // next free byte of `chunk`

  constructor(opts: CaptureWriterOptions, out?: (chunk: Buffer) => void) {
    this.format = opts.format;
    this.littleEndian = (opts.byteOrder ?? 'le') === 'le';
    this.nanosecond = opts.precision === 'ns';
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    if (out) {
      this.out = out;
    } else {
      const retained: Buffer[] = [];
      this.retained = retained;
      this.out = (chunk) => retained.push(chunk);
    }
    const linkType = opts.linkType ?? 1;
    if (this.format === 'pcap') this.writePcapHeader(linkType);
    else this.writePcapngHeader(linkType);
  }

  writePacket(tsSec: number, tsNsec: number, frame: Buffer | Uint8Array, origLen = frame.length): void {
    const capLen = Math.min(frame.length, this.snaplen);
    const data = frame.subarray(0, capLen);
    let sec = tsSec;
    let fraction = tsNsec;
    if (!this.nanosecond) {
      // round rather than truncate: callers often derive nsec from float seconds,
      // which carry sub-microsecond representation error
      fraction = Math.round(tsNsec / 1000);
      if (fraction >= 1e6) {
        sec += 1;
        fraction -= 1e6;
      }
    }
    if (this.format === 'pcap') {
      const at = this.reserve(PCAP_RECORD_HEADER_LEN + capLen);
      this.u32(sec, at);
      this.u32(fraction, at + 4);
      this.u32(capLen, at + 8);
      this.u32(origLen, at + 12);
      this.chunk.set(data, at + PCAP_RECORD_HEADER_LEN);
    } else {
      const blockLen = PCAPNG_EPB_OVERHEAD + pad4(capLen);
      const at = this.reserve(blockLen);
      const [high, low] = splitTimestamp(sec, fraction, this.nanosecond ? 1e9 : 1e6);
      this.u32(PCAPNG_EPB, at);
      this.u32(blockLen, at + 4);
      this.u32(0, at + 8); // interface id
      this.u32(high, at + 12);
      this.u32(low, at + 16);
      this.u32(capLen, at + 20);
      this.u32(origLen, at + 24);
      this.chunk.set(data, at + 28);
      this.chunk.fill(0, at + 28 + capLen, at + blockLen - 4);
      this.u32(blockLen, at + blockLen - 4);
    }
  }

  /** Hands everything written so far to the callback. */
  flush(): void {
    if (this.pos > this.chunkStart) {
      this.out(this.chunk.subarray(this.chunkStart, this.pos));
      this.chunkStart = this.pos;
    }
  }

  /** The whole file image; only for a writer built without an output callback. */
  toBuffer(): Buffer {
    if (!this.retained) throw new Error('toBuffer() needs a CaptureWriter without an output callback');
    this.flush();
    const whole = Buffer.concat(this.retained);
    this.retained.length = 0;
    this.retained.push(whole);
    return whole;
  }

  /** Returns the offset in `this.chunk` where `size` contiguous bytes may be written. */
  private reserve(size: number): number {
    if (this.pos + size > this.chunk.length) {
      this.flush();
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_SIZE, size));
      this.chunkStart = 0;
      this.pos = 0;
    }
    const at = this.pos;
    this.pos += size;
    return at;
  }

  private u16(value: number, at: number): void {
    if (this.littleEndian) this.chunk.writeUInt16LE(value, at);
    else this.chunk.writeUInt16BE(value, at);
  }

  private u32(value: number, at: number): void {
    if (this.littleEndian) this.chunk.writeUInt32LE(value, at);
    else this.chunk.writeUInt32BE(value, at);
  }

  private writePcapHeader(linkType: number): void {
    const at = this.reserve(PCAP_GLOBAL_HEADER_LEN);
    this.u32(this.nanosecond ? PCAP_MAGIC_NS : PCAP_MAGIC_US, at);
    this.u16(2, at + 4); // version 2.4
    this.u16(4, at + 6);
    this.u32(0, at + 8); // thiszone
    this.u32(0, at + 12); // sigfigs
    this.u32(this.snaplen, at + 16);
    this.u32(linkType, at + 20);
  }

  private writePcapngHeader(linkType: number): void {
    // Section Header Block without options: section length unknown (-1)
    const shb = this.reserve(28);
    this.u32(PCAPNG_SHB, shb);
    this.u32(28, shb + 4);
    this.u32(PCAPNG_BYTE_ORDER_MAGIC, shb + 8);
    this.u16(1, shb + 12); // version 1.0
    this.u16(0, shb + 14);
    this.u32(0xffffffff, shb + 16);
    this.u32(0xffffffff, shb + 20);
    this.u32(28, shb + 24);

    // Interface Description Block; microseconds are the default resolution,
    // nanoseconds need if_tsresol = 9 (option 4 bytes padded + end-of-options)
    const idbLen = this.nanosecond ? 20 + 8 + 4 : 20;
    const idb = this.reserve(idbLen);
    this.u32(PCAPNG_IDB, idb);
    this.u32(idbLen, idb + 4);
    this.u16(linkType, idb + 8);
    this.u16(0, idb + 10); // reserved
    this.u32(this.snaplen, idb + 12);
    if (this.nanosecond) {
      this.u16(PCAPNG_OPT_IF_TSRESOL, idb + 16);
      this.u16(1, idb + 18);
      this.chunk.fill(0, idb + 20, idb + 24); // 1-byte value, 3 pad bytes
      this.chunk[idb + 20] = 9; // 10^-9 s
      this.u32(0, idb + 24); // opt_endofopt
    }
    this.u32(idbLen, idb + idbLen - 4);
  }
}

/**
 * sec * unitsPerSecond + fraction as (high, low) 32-bit words, exactly: the
 * product can exceed 2^53, so seconds are split into 16-bit halves first.
 */
function splitTimestamp(sec: number, fraction: number, unitsPerSecond: number): [number, number] {
  const secHigh = Math.floor(sec / 0x10000);
  const secLow = sec % 0x10000;
  const upper = secHigh * unitsPerSecond; // to be scaled by 2^16; < 2^46
  let low = (upper % 0x10000) * 0x10000 + secLow * unitsPerSecond + fraction;
  const high = Math.floor(upper / 0x10000) + Math.floor(low / 0x100000000);
  low %= 0x100000000;
  return [high, low];
}
