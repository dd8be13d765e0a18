// Push parser for pcap and pcapng: frames records out of arbitrary chunks.
// Records inside a chunk are handled in place; only a record that straddles
// chunks is copied (into a carry buffer) and handled once complete.

import { unsupportedLinkError } from './link.js';
import { isPcapMagic, PcapFormat } from './pcap.js';
import { PcapngFormat, SECTION_HEADER_TYPE } from './pcapng.js';
import { CaptureError, type CaptureStats, type PacketSink } from './types.js';

/** Record logic of one file format, driven by CaptureParser. */
export interface RecordFormat {
  /** Bytes of a record needed before recordLength() can tell its length. */
  readonly prefixLength: number;
  /** What a record is called in truncation messages, e.g. 'packet record'. */
  readonly recordNoun: string;
  /** Why the last recordLength() or record() call failed. */
  readonly problem: string;
  /** Total length of the record at buf[off] (prefixLength bytes present), or -1 when the claimed length is implausible. */
  recordLength(buf: Buffer, off: number): number;
  /** Handles the complete record buf[off, off+len); false when it is corrupt. */
  record(buf: Buffer, off: number, len: number): boolean;
}

const MIN_CARRY_CAPACITY = 65536;
const EMPTY = Buffer.alloc(0);

export class CaptureParser {
  readonly stats: CaptureStats = {
    format: 'unknown',
    gzip: false,
    precision: 'other',
    packets: 0,
    bytes: 0,
    skippedBlocks: 0,
    unsupportedLink: new Map(),
  };
  private format: RecordFormat | undefined = undefined;
  /** set once a corrupt record was met: the rest of the input is ignored */
  private stopped = false;
  /** the partial record carried between chunks: carry[0, carryLength) */
  private carry = EMPTY;
  private carryLength = 0;
  /** total length of the carried record, -1 while its prefix is incomplete */
  private carryNeed = -1;
  /** byte offset in the input of the carried record */
  private carryStart = 0;

  constructor(private readonly sink: PacketSink) {}

  push(chunk: Buffer): void {
    const base = this.stats.bytes;
    this.stats.bytes += chunk.length;
    if (this.stopped || chunk.length === 0) return;
    let pos = 0;
    if (this.format === undefined) {
      // The first 4 bytes tell the format; they start the first record, so they are carried.
      pos = this.fillCarry(chunk, 0, 4 - this.carryLength);
      if (this.carryLength < 4) return;
      this.format = this.detectFormat();
    }
    if (this.carryLength > 0) {
      pos = this.completeCarry(chunk, pos);
      if (pos < 0) return;
    }
    pos = this.records(chunk, pos);
    if (pos < 0) return this.stop(base - pos - 1, this.format.problem);
    if (pos < chunk.length) {
      this.carryStart = base + pos;
      this.fillCarry(chunk, pos, chunk.length - pos);
    }
  }

  /**
   * Handles the whole records of chunk[pos..]; returns where the first incomplete
   * one starts (its length in carryNeed when known), or -1 - offset of a corrupt
   * one. The hot loop has a method of its own: inlined into push(), V8 optimised
   * it on stack and threw that code away at every chunk's end (push's rarely run
   * tail had no type feedback).
   */
  private records(chunk: Buffer, pos: number): number {
    const format = this.format!;
    const end = chunk.length;
    while (end - pos >= format.prefixLength) {
      const len = format.recordLength(chunk, pos);
      if (len < 0) return -1 - pos;
      if (end - pos < len) {
        this.carryNeed = len;
        break;
      }
      if (!format.record(chunk, pos, len)) return -1 - pos;
      pos += len;
    }
    return pos;
  }

  /**
   * Finishes the input: records a trailing partial record as truncation. With
   * `stoppedBy` (what stopped the read on purpose before the input's end, e.g.
   * 'SIGINT') a partial record there is not the file's fault: it is dropped, and
   * the stop is recorded instead. A capture whose own file header (pcap) or
   * first section header (pcapng) is incomplete has nothing to read: a CaptureError.
   */
  end(stoppedBy?: string, atWindow = false): CaptureStats {
    const stats = this.stats;
    const headerCut = this.format !== undefined && this.carryLength > 0 && this.carryStart === 0 && !this.stopped;
    if (stoppedBy !== undefined && (this.format === undefined || headerCut)) {
      throw new CaptureError(`no complete capture header in the ${stats.bytes} bytes read before ${stoppedBy}`);
    }
    if (this.format === undefined) {
      if (stats.bytes === 0) throw new CaptureError('empty file: no capture header');
      throw new CaptureError(`not a pcap or pcapng capture (only ${stats.bytes} bytes)`);
    }
    if (headerCut) throw new CaptureError(`file ends ${this.carryLength} bytes into its ${this.format.recordNoun}: no packets in it`);
    if (stoppedBy !== undefined) {
      stats.stoppedBy = stoppedBy;
      if (atWindow) stats.stoppedAtWindow = true;
    }
    else if (!this.stopped && this.carryLength > 0) {
      const noun = this.format.recordNoun;
      this.stop(
        this.carryStart,
        this.carryNeed < 0
          ? `file ends ${this.carryLength} bytes into a ${noun}`
          : `file ends after ${this.carryLength} of the ${this.carryNeed} bytes of a ${noun}`,
      );
    }
    let unsupportedPackets = 0;
    for (const n of stats.unsupportedLink.values()) unsupportedPackets += n;
    if (unsupportedPackets > 0 && unsupportedPackets === stats.packets) {
      throw unsupportedLinkError(stats.unsupportedLink.keys());
    }
    return stats;
  }

  private detectFormat(): RecordFormat {
    const magic = this.carry.readUInt32LE(0);
    if (magic === SECTION_HEADER_TYPE) return new PcapngFormat(this.sink, this.stats);
    if (isPcapMagic(magic)) return new PcapFormat(this.sink, this.stats);
    const bytes = this.carry.toString('hex', 0, 4).replace(/(..)(?!$)/g, '$1 ');
    throw new CaptureError(`not a pcap or pcapng capture (starts with ${bytes})`);
  }

  /**
   * Feeds the carried record from chunk[pos..]; when it becomes complete it is
   * handled. Returns the position after the bytes taken, or -1 when the chunk
   * was used up (record still incomplete) or the record was corrupt.
   */
  private completeCarry(chunk: Buffer, pos: number): number {
    const format = this.format!;
    if (this.carryNeed < 0) {
      pos = this.fillCarry(chunk, pos, format.prefixLength - this.carryLength);
      if (this.carryLength < format.prefixLength) return -1;
      const len = format.recordLength(this.carry, 0);
      if (len < 0) {
        this.stop(this.carryStart, format.problem);
        return -1;
      }
      this.carryNeed = len;
    }
    pos = this.fillCarry(chunk, pos, this.carryNeed - this.carryLength);
    if (this.carryLength < this.carryNeed) return -1;
    const len = this.carryNeed;
    const record = this.carry;
    // Events keep views of the record (payloads are decoded lazily, after the chunk): never refill it.
    this.carry = EMPTY;
    this.carryLength = 0;
    this.carryNeed = -1;
    if (!format.record(record, 0, len)) {
      this.stop(this.carryStart, format.problem);
      return -1;
    }
    return pos;
  }

  /** Appends up to `want` bytes of chunk[pos..] to the carry; returns the new position. */
  private fillCarry(chunk: Buffer, pos: number, want: number): number {
    const take = Math.min(want, chunk.length - pos);
    if (this.carry.length < this.carryLength + take) this.growCarry(this.carryLength + take);
    chunk.copy(this.carry, this.carryLength, pos, pos + take);
    this.carryLength += take;
    return pos + take;
  }

  /**
   * Grows the carry to hold `needed` bytes, keeping its content. It grows with
   * the bytes actually received (doubling, at most to the record's length), so
   * a record claiming a large length allocates only as its bytes arrive.
   */
  private growCarry(needed: number): void {
    let size = Math.max(needed, MIN_CARRY_CAPACITY, this.carry.length * 2);
    if (this.carryNeed >= needed) size = Math.min(size, this.carryNeed);
    const grown = Buffer.allocUnsafe(size);
    this.carry.copy(grown, 0, 0, this.carryLength);
    this.carry = grown;
  }

  private stop(atByte: number, reason: string): void {
    this.stopped = true;
    this.carryLength = 0;
    this.stats.truncated = { atByte, frame: this.stats.packets + 1, reason };
  }
}
