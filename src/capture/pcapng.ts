// pcapng blocks: type(4) total_length(4) body total_length(4), in the byte
// order of the section's header block. Sections, interfaces, and the three
// packet block kinds (enhanced, simple, obsolete).

import { SUPPORTED_LINK_TYPES } from './link.js';
import type { RecordFormat } from './reader.js';
import { CaptureError, type CaptureStats, type PacketSink } from './types.js';

/** Section Header Block type; the same in both byte orders. */
export const SECTION_HEADER_TYPE = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;

const INTERFACE_DESCRIPTION_TYPE = 1;
const OBSOLETE_PACKET_TYPE = 2;
const SIMPLE_PACKET_TYPE = 3;
const ENHANCED_PACKET_TYPE = 6;

const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/** type + length + trailing length */
const BLOCK_OVERHEAD = 12;
const MAX_BLOCK_LENGTH = 256 * 1024 * 1024;
/** EPB and obsolete PB: overhead + interface(4) + ts(8) + caplen(4) + origlen(4) */
const PACKET_BLOCK_MIN = 32;
/** SPB: overhead + origlen(4) */
const SIMPLE_PACKET_MIN = 16;
/** IDB: overhead + linktype(2) reserved(2) snaplen(4) */
const INTERFACE_DESCRIPTION_MIN = 20;
/** SHB: overhead + byte-order magic(4) version(2+2) section length(8) */
const SECTION_HEADER_MIN = 28;

const TWO_32 = 4294967296;

// Results of divmod64(), kept in module variables so that no object is made per call.
let quotientHi = 0;
let quotientLo = 0;

/**
 * Divides the unsigned 64-bit hi·2^32 + lo by d (d ≤ 2^30): the quotient goes
 * to quotientHi/quotientLo, the remainder is returned. Long division on 16-bit
 * digits: each partial dividend is remainder·2^16 + digit < 2^46, exact in a double.
 */
function divmod64(hi: number, lo: number, d: number): number {
  let x = hi >>> 16;
  const q3 = Math.floor(x / d);
  let r = x - q3 * d;
  x = r * 65536 + (hi & 0xffff);
  const q2 = Math.floor(x / d);
  r = x - q2 * d;
  x = r * 65536 + (lo >>> 16);
  const q1 = Math.floor(x / d);
  r = x - q1 * d;
  x = r * 65536 + (lo & 0xffff);
  const q0 = Math.floor(x / d);
  r = x - q0 * d;
  quotientHi = q3 * 65536 + q2;
  quotientLo = q1 * 65536 + q0;
  return r;
}

/**
 * Turns one interface's 64-bit timestamps (ticks of 10^-k or 2^-k seconds
 * since the epoch, if_tsresol, plus if_tsoffset seconds) into integer
 * (sec, nsec), exactly; results in `sec` and `nsec`.
 */
export class TimestampConverter {
  sec = 0;
  nsec = 0;
  private readonly binary: boolean;
  /** decimal: k of 10^-k; binary: k of 2^-k */
  private readonly exponent: number;
  /** decimal with k ≤ 9: ticks per second and nanoseconds per tick */
  private readonly ticksPerSecond: number;
  private readonly nsPerTick: number;

  constructor(
    tsresol: number,
    private readonly offsetSeconds: number,
  ) {
    this.binary = (tsresol & 0x80) !== 0;
    this.exponent = tsresol & 0x7f;
    this.ticksPerSecond = 10 ** this.exponent;
    this.nsPerTick = 10 ** (9 - this.exponent);
  }

  /** 'us', 'ns' or 'other', for CaptureStats.precision. */
  get precision(): CaptureStats['precision'] {
    if (this.binary) return 'other';
    return this.exponent === 6 ? 'us' : this.exponent === 9 ? 'ns' : 'other';
  }

  /** Decimal digits of a tick (10^-k: k; 2^-k: enough digits to tell ticks apart), at most 9 (nanoseconds). */
  get digits(): number {
    return Math.min(9, this.binary ? Math.ceil(this.exponent * Math.log10(2)) : this.exponent);
  }

  convert(hi: number, lo: number): void {
    if (this.binary) this.convertBinary(hi, lo);
    else if (this.exponent <= 9) this.convertDecimal(hi, lo);
    else this.convertSubNanosecond(hi, lo);
    this.sec += this.offsetSeconds;
  }

  private convertDecimal(hi: number, lo: number): void {
    const d = this.ticksPerSecond;
    let sec: number;
    let rem: number;
    if (hi < 0x200000) {
      // Fits in 53 bits (e.g. microseconds since the epoch): one exact division.
      const ticks = hi * TWO_32 + lo;
      sec = Math.floor(ticks / d);
      rem = ticks - sec * d;
      if (rem < 0) {
        sec--;
        rem += d;
      }
    } else {
      rem = divmod64(hi, lo, d);
      sec = quotientHi * TWO_32 + quotientLo;
    }
    this.sec = sec;
    this.nsec = rem * this.nsPerTick;
  }

  /** 10^-k with k > 9: drop the sub-nanosecond digits, then split at 10^9. */
  private convertSubNanosecond(hi: number, lo: number): void {
    for (let extra = this.exponent - 9; extra > 0; extra -= 9) {
      divmod64(hi, lo, 10 ** Math.min(extra, 9));
      hi = quotientHi;
      lo = quotientLo;
    }
    this.nsec = divmod64(hi, lo, 1e9);
    this.sec = quotientHi * TWO_32 + quotientLo;
  }

  /** 2^-k: seconds are ticks >> k; nsec = floor(fraction · 10^9 / 2^k). */
  private convertBinary(hi: number, lo: number): void {
    const k = this.exponent;
    let fracHi: number;
    let fracLo: number;
    if (k >= 64) {
      this.sec = 0;
      fracHi = hi;
      fracLo = lo;
    } else if (k >= 32) {
      const p = 2 ** (k - 32);
      this.sec = Math.floor(hi / p);
      fracHi = hi - this.sec * p;
      fracLo = lo;
    } else {
      const p = 2 ** k;
      const q = Math.floor(lo / p);
      this.sec = hi * 2 ** (32 - k) + q;
      fracHi = 0;
      fracLo = lo - q * p;
    }
    // Over the fraction's 16-bit digits from the least significant, acc ends as
    // floor(low digits · 10^9 / 2^(16·full)) (nested floors are exact); the top
    // partial digit (< 2^(k - 16·full)) is then added and the rest divided out.
    const full = Math.min(k >> 4, 4);
    let acc = 0;
    for (let i = 0; i < full; i++) {
      const digit = ((i < 2 ? fracLo : fracHi) >>> ((i & 1) * 16)) & 0xffff;
      acc = Math.floor((acc + digit * 1e9) / 65536);
    }
    const top = full < 4 ? ((full < 2 ? fracLo : fracHi) >>> ((full & 1) * 16)) & 0xffff : 0;
    this.nsec = Math.floor((acc + top * 1e9) / 2 ** (k - 16 * full));
  }
}

interface PcapngInterface {
  linkType: number;
  snaplen: number;
  supported: boolean;
  clock: TimestampConverter;
}

export class PcapngFormat implements RecordFormat {
  /** enough for type, length and (for a section header) the byte-order magic */
  readonly prefixLength = 12;
  /** the first block is the section header, which the file cannot do without */
  recordNoun = 'pcapng section header block';
  problem = '';
  /** byte order of the current section */
  private littleEndian = true;
  private interfaces: PcapngInterface[] = [];
  private sawSection = false;
  private sawInterface = false;

  constructor(
    private readonly sink: PacketSink,
    private readonly stats: CaptureStats,
  ) {
    stats.format = 'pcapng';
  }

  recordLength(buf: Buffer, off: number): number {
    let le = this.littleEndian;
    if (buf.readUInt32LE(off) === SECTION_HEADER_TYPE) {
      const order = sectionByteOrder(buf, off);
      if (order === undefined) {
        const bytes = buf.toString('hex', off + 8, off + 12).replace(/(..)(?!$)/g, '$1 ');
        if (!this.sawSection) throw new CaptureError(`not a pcapng capture: byte-order magic is ${bytes}`);
        this.problem = `section header block has a bad byte-order magic (${bytes})`;
        return -1;
      }
      le = order;
    }
    const len = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
    if (len < BLOCK_OVERHEAD || len % 4 !== 0 || len > MAX_BLOCK_LENGTH) {
      this.problem = `block claims a length of ${len} bytes`;
      return -1;
    }
    return len;
  }

  record(buf: Buffer, off: number, len: number): boolean {
    const type = this.littleEndian ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    if (type === SECTION_HEADER_TYPE) return this.sectionHeader(buf, off, len);
    const le = this.littleEndian;
    const trailer = le ? buf.readUInt32LE(off + len - 4) : buf.readUInt32BE(off + len - 4);
    if (trailer !== len) return this.corrupt(`block of ${len} bytes ends with length ${trailer}`);
    switch (type) {
      case ENHANCED_PACKET_TYPE:
      case OBSOLETE_PACKET_TYPE: {
        // EPB: interface(4) ts_hi(4) ts_lo(4) caplen(4) origlen(4) data;
        // obsolete PB: interface(2) drops(2), then the same.
        if (len < PACKET_BLOCK_MIN) return this.corrupt(`packet block of only ${len} bytes`);
        let ifIndex: number;
        if (type === ENHANCED_PACKET_TYPE) ifIndex = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
        else ifIndex = le ? buf.readUInt16LE(off + 8) : buf.readUInt16BE(off + 8);
        const capLen = le ? buf.readUInt32LE(off + 20) : buf.readUInt32BE(off + 20);
        if (ifIndex >= this.interfaces.length) {
          return this.corrupt(`packet block names interface ${ifIndex} but the section defines ${this.interfaces.length}`);
        }
        if (capLen > len - PACKET_BLOCK_MIN) {
          return this.corrupt(`packet block claims ${capLen} captured bytes but holds ${len - PACKET_BLOCK_MIN}`);
        }
        const ifc = this.interfaces[ifIndex]!;
        const frame = ++this.stats.packets;
        if (!ifc.supported) return this.countUnsupported(ifc);
        const clock = ifc.clock;
        if (le) clock.convert(buf.readUInt32LE(off + 12), buf.readUInt32LE(off + 16));
        else clock.convert(buf.readUInt32BE(off + 12), buf.readUInt32BE(off + 16));
        const origLen = le ? buf.readUInt32LE(off + 24) : buf.readUInt32BE(off + 24);
        this.sink.packet(frame, ifc.linkType, clock.sec, clock.nsec, buf, off + 28, capLen, origLen);
        return true;
      }
      case SIMPLE_PACKET_TYPE: {
        // SPB: origlen(4) data; interface 0, no timestamp.
        if (len < SIMPLE_PACKET_MIN) return this.corrupt(`simple packet block of only ${len} bytes`);
        if (this.interfaces.length === 0) return this.corrupt('simple packet block before any interface description');
        const ifc = this.interfaces[0]!;
        const frame = ++this.stats.packets;
        if (!ifc.supported) return this.countUnsupported(ifc);
        const origLen = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
        let capLen = Math.min(origLen, len - SIMPLE_PACKET_MIN);
        if (ifc.snaplen > 0) capLen = Math.min(capLen, ifc.snaplen);
        this.sink.packet(frame, ifc.linkType, 0, 0, buf, off + 12, capLen, origLen);
        return true;
      }
      case INTERFACE_DESCRIPTION_TYPE:
        return this.interfaceDescription(buf, off, len);
      default:
        this.stats.skippedBlocks++;
        return true;
    }
  }

  private sectionHeader(buf: Buffer, off: number, len: number): boolean {
    // recordLength() has checked the byte-order magic.
    const le = sectionByteOrder(buf, off)!;
    const trailer = le ? buf.readUInt32LE(off + len - 4) : buf.readUInt32BE(off + len - 4);
    if (trailer !== len) return this.corrupt(`block of ${len} bytes ends with length ${trailer}`);
    if (len < SECTION_HEADER_MIN) return this.corrupt(`section header block of only ${len} bytes`);
    this.littleEndian = le;
    this.interfaces = [];
    this.sawSection = true;
    this.recordNoun = 'pcapng block';
    return true;
  }

  /** IDB: linktype(2) reserved(2) snaplen(4) options. */
  private interfaceDescription(buf: Buffer, off: number, len: number): boolean {
    if (len < INTERFACE_DESCRIPTION_MIN) return this.corrupt(`interface description block of only ${len} bytes`);
    const le = this.littleEndian;
    const linkType = le ? buf.readUInt16LE(off + 8) : buf.readUInt16BE(off + 8);
    const snaplen = le ? buf.readUInt32LE(off + 12) : buf.readUInt32BE(off + 12);
    let tsresol = 6;
    let tsoffset = 0;
    // Options: code(2) length(2) value padded to 4 bytes; a malformed list is ignored from there on.
    const end = off + len - 4;
    let p = off + 16;
    while (p + 4 <= end) {
      const code = le ? buf.readUInt16LE(p) : buf.readUInt16BE(p);
      const optLen = le ? buf.readUInt16LE(p + 2) : buf.readUInt16BE(p + 2);
      p += 4;
      if (code === OPT_END || p + optLen > end) break;
      if (code === OPT_IF_TSRESOL && optLen >= 1) tsresol = buf[p];
      else if (code === OPT_IF_TSOFFSET && optLen >= 8) {
        tsoffset = le
          ? buf.readInt32LE(p + 4) * TWO_32 + buf.readUInt32LE(p)
          : buf.readInt32BE(p) * TWO_32 + buf.readUInt32BE(p + 4);
      }
      p += (optLen + 3) & ~3;
    }
    const clock = new TimestampConverter(tsresol, tsoffset);
    this.stats.timeDigits = Math.max(this.stats.timeDigits ?? 0, clock.digits);
    if (!this.sawInterface) {
      this.stats.precision = clock.precision;
      this.sawInterface = true;
    }
    this.interfaces.push({ linkType, snaplen, supported: SUPPORTED_LINK_TYPES.has(linkType), clock });
    return true;
  }

  private countUnsupported(ifc: PcapngInterface): boolean {
    const counts = this.stats.unsupportedLink;
    counts.set(ifc.linkType, (counts.get(ifc.linkType) ?? 0) + 1);
    return true;
  }

  private corrupt(problem: string): boolean {
    this.problem = problem;
    return false;
  }
}

/** true/false for a little/big-endian section header at buf[off], undefined for a bad magic. */
function sectionByteOrder(buf: Buffer, off: number): boolean | undefined {
  const magic = buf.readUInt32LE(off + 8);
  return magic === BYTE_ORDER_MAGIC ? true : magic === BYTE_ORDER_MAGIC_SWAPPED ? false : undefined;
}
