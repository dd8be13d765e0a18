// Classic pcap records: a 24-byte file header, then packet records of a
// 16-byte header (ts_sec, ts_usec|ts_nsec, incl_len, orig_len) + incl_len bytes.

import { SUPPORTED_LINK_TYPES, unsupportedLinkError } from './link.js';
import type { RecordFormat } from './reader.js';
import type { CaptureStats, PacketSink } from './types.js';
import { u32be, u32le } from '../../protocols/bytes.js';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_US_SWAPPED = 0xd4c3b2a1;
const MAGIC_NS_SWAPPED = 0x4d3cb2a1;

const FILE_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;
/** No record may claim more than this many captured bytes. */
const MAX_CAPTURED_LENGTH = 256 * 1024 * 1024;
/** Some writers exceed snaplen a little; incl_len above twice snaplen plus this slack is taken as corruption. */
const SNAPLEN_SLACK = 65536;

/** Whether the first 4 bytes of a file, read little-endian, are a classic pcap magic. */
export function isPcapMagic(firstWordLE: number): boolean {
  return (
    firstWordLE === MAGIC_US ||
    firstWordLE === MAGIC_NS ||
    firstWordLE === MAGIC_US_SWAPPED ||
    firstWordLE === MAGIC_NS_SWAPPED
  );
}

export class PcapFormat implements RecordFormat {
  prefixLength = FILE_HEADER_LENGTH;
  recordNoun = 'pcap file header';
  problem = '';
  private littleEndian = true;
  private nanosecond = false;
  private linkType = 0;
  private snaplen = 0;
  private maxCapturedLength = MAX_CAPTURED_LENGTH;
  private headerRead = false;

  constructor(
    private readonly sink: PacketSink,
    private readonly stats: CaptureStats,
  ) {
    stats.format = 'pcap';
  }

  recordLength(buf: Buffer, off: number): number {
    if (!this.headerRead) return FILE_HEADER_LENGTH;
    const capLen = this.littleEndian ? u32le(buf, off + 8) : u32be(buf, off + 8);
    if (capLen > this.maxCapturedLength) {
      this.problem = `packet record claims ${capLen} captured bytes (snaplen ${this.snaplen})`;
      return -1;
    }
    return RECORD_HEADER_LENGTH + capLen;
  }

  record(buf: Buffer, off: number, len: number): boolean {
    if (!this.headerRead) {
      this.readFileHeader(buf, off);
      return true;
    }
    const le = this.littleEndian;
    let sec = le ? u32le(buf, off) : u32be(buf, off);
    let fraction = le ? u32le(buf, off + 4) : u32be(buf, off + 4);
    const origLen = le ? u32le(buf, off + 12) : u32be(buf, off + 12);
    let nsec: number;
    if (this.nanosecond) {
      if (fraction >= 1e9) {
        sec += Math.floor(fraction / 1e9);
        fraction %= 1e9;
      }
      nsec = fraction;
    } else {
      if (fraction >= 1e6) {
        sec += Math.floor(fraction / 1e6);
        fraction %= 1e6;
      }
      nsec = fraction * 1000;
    }
    const frame = ++this.stats.packets;
    this.sink.packet(frame, this.linkType, sec, nsec, buf, off + RECORD_HEADER_LENGTH, len - RECORD_HEADER_LENGTH, origLen);
    return true;
  }

  /** magic(4) version(2+2) thiszone(4) sigfigs(4) snaplen(4) linktype(4). */
  private readFileHeader(buf: Buffer, off: number): void {
    const magic = u32le(buf, off);
    this.littleEndian = magic === MAGIC_US || magic === MAGIC_NS;
    this.nanosecond = magic === MAGIC_NS || magic === MAGIC_NS_SWAPPED;
    this.stats.precision = this.nanosecond ? 'ns' : 'us';
    this.stats.timeDigits = this.nanosecond ? 9 : 6;
    this.snaplen = this.littleEndian ? u32le(buf, off + 16) : u32be(buf, off + 16);
    // The link type is the low 16 bits; bits 26-31 may carry FCS information.
    const linkField = this.littleEndian ? u32le(buf, off + 20) : u32be(buf, off + 20);
    this.linkType = linkField & 0xffff;
    if (!SUPPORTED_LINK_TYPES.has(this.linkType)) throw unsupportedLinkError([this.linkType]);
    if (this.snaplen > 0) {
      this.maxCapturedLength = Math.min(MAX_CAPTURED_LENGTH, this.snaplen * 2 + SNAPLEN_SLACK);
    }
    this.headerRead = true;
    this.prefixLength = RECORD_HEADER_LENGTH;
    this.recordNoun = 'packet record';
  }
}
