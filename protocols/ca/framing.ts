// Splitting CA byte streams and datagrams into messages (ca-protocol-notes §2, §13).
//
// A TCP direction is fed segment payloads in sequence order. Messages wholly
// inside one segment are handed on as views of the segment; only a message that
// spans segments is copied (its pieces are kept until it completes). After a
// capture gap or a header that cannot be CA, the framer resynchronises at the
// next plausible header instead of giving up on the stream.

import { CMD, EXTENDED_HEADER_SIZE, EXTENDED_MARKER, HEADER_SIZE, MAX_COMMAND, carriesDbr } from './constants.js';
import { DBR_NAMES, dbrPayloadSize, dbrValueOffset, isDbrType } from './dbr.js';
import { u16be, u32be } from '../bytes.js';

/** Receives framed messages. `buf[off..]` holds the header, then the payload. */
export interface FrameSink<C> {
  /**
   * One message. Returns false when nothing keeps `buf` past the call (no object
   * refers to it): the buffer a message spanning segments was assembled in may
   * then be reused. Anything else means kept.
   */
  message(ctx: C, buf: Buffer, off: number, headerSize: number, payloadSize: number): boolean | void;
  /** bytes that could not be framed as CA (garbage, impossible header, oversize, resync) */
  malformed(ctx: C, reason: MalformedReason, bytes: number): void;
}

export type MalformedReason = 'bad-header' | 'oversize' | 'resync' | 'overrun' | 'incomplete';

export interface HeaderView {
  command: number;
  payloadSize: number;
  dataType: number;
  dataCount: number;
  headerSize: number;
}

/** Per command code: 1 when its data_type must be a DBR type (the commands carrying DBR data, and EVENT_CANCEL). */
const TYPED_COMMAND = Uint8Array.from({ length: MAX_COMMAND + 1 }, (_, c) => (carriesDbr(c) || c === CMD.EVENT_CANCEL ? 1 : 0));

/**
 * Per DBR type: the bytes of metadata before the value (dbrValueOffset). Read at
 * a data_type that is not a DBR type (too large, say), a typed array yields
 * undefined: the one lookup is also the isDbrType check.
 */
const VALUE_OFFSET = Int32Array.from(DBR_NAMES, (_, t) => dbrValueOffset(t));

/**
 * Whether a header could have been sent by a CA peer. `strict` is used while
 * resynchronising, where a false positive inside array data is costly: it also
 * demands the field values real senders use for each command.
 */
export function plausibleHeader(
  command: number,
  payloadSize: number,
  dataType: number,
  dataCount: number,
  p2: number,
  strict: boolean,
): boolean {
  if (command > MAX_COMMAND || (payloadSize & 7) !== 0) return false;
  if (TYPED_COMMAND[command] === 1) {
    const valueOffset = VALUE_OFFSET[dataType];
    if (valueOffset === undefined) return false; // not a DBR type
    // EVENT_ADD requests carry a 16-byte mask block whatever the type; data messages at least the metadata.
    const subscribeBlock = command === CMD.EVENT_ADD && payloadSize === 16;
    if (payloadSize > 0 && !subscribeBlock && payloadSize < valueOffset) return false;
  }
  if (!strict) return true;
  switch (command) {
    case CMD.SNAPSHOT:
    case CMD.BUILD:
    case CMD.READ_BUILD:
    case CMD.SIGNAL:
      return false;
    case CMD.EVENTS_OFF:
    case CMD.EVENTS_ON:
    case CMD.READ_SYNC:
    case CMD.ECHO:
      return payloadSize === 0 && dataType === 0 && dataCount === 0;
    case CMD.VERSION:
      return payloadSize === 0 && dataType < 100 && dataCount < 100;
    case CMD.CLEAR_CHANNEL:
    case CMD.CREATE_CH_FAIL:
    case CMD.SERVER_DISCONN:
    case CMD.ACCESS_RIGHTS:
      return payloadSize === 0 && dataType === 0 && dataCount === 0 && (command !== CMD.ACCESS_RIGHTS || p2 <= 3);
    case CMD.CLIENT_NAME:
    case CMD.HOST_NAME:
      return payloadSize > 0 && payloadSize <= 512 && dataType === 0 && dataCount === 0;
    case CMD.CREATE_CHAN:
      return payloadSize === 0 ? isDbrType(dataType) : payloadSize <= 512 && dataType === 0 && dataCount === 0;
    case CMD.SEARCH:
      return payloadSize <= 512;
    case CMD.EVENT_CANCEL:
      return payloadSize === 0;
    case CMD.ERROR:
      return payloadSize >= HEADER_SIZE && payloadSize <= 1024;
    default:
      // DBR data: the payload is the data_count elements, padded (older RSRV sizes count 0 as 1).
      return payloadSize <= 16 || payloadSize <= dbrPayloadSize(dataType, Math.max(dataCount, 1)) + 15;
  }
}

/** Reads the header at `off` (needs 16 or 24 bytes there); returns false if `end` cuts it. */
export function readHeader(buf: Buffer, off: number, end: number, out: HeaderView): boolean {
  if (end - off < HEADER_SIZE) return false;
  out.command = u16be(buf, off);
  out.payloadSize = u16be(buf, off + 2);
  out.dataType = u16be(buf, off + 4);
  out.dataCount = u16be(buf, off + 6);
  out.headerSize = HEADER_SIZE;
  if (out.payloadSize === EXTENDED_MARKER && out.dataCount === 0) {
    if (end - off < EXTENDED_HEADER_SIZE) return false;
    out.payloadSize = u32be(buf, off + 16);
    out.dataCount = u32be(buf, off + 20);
    out.headerSize = EXTENDED_HEADER_SIZE;
  }
  return true;
}

/**
 * An extended header is believed when its 32-bit size is small (header-only
 * messages such as a CREATE_CHAN reply or READ_NOTIFY request for > 65535
 * elements, or an EVENT_ADD request's 16-byte block) or fits the DBR data it
 * announces (value offset + count x element size, padded to 8): a corrupt header
 * claiming gigabytes is not followed.
 */
function plausibleExtended(h: HeaderView): boolean {
  if (h.payloadSize <= 16) return true;
  if (!carriesDbr(h.command) || !isDbrType(h.dataType)) return false;
  return h.payloadSize >= dbrValueOffset(h.dataType) && h.payloadSize <= dbrPayloadSize(h.dataType, h.dataCount) + 15;
}

/** Bytes charged for an incomplete message beyond its assembly buffer (the Buffer object). */
const PART_COST = 128;

/** An incomplete message is assembled in one buffer: exactly its size up to this, else grown by doubling. */
const ASSEMBLY_STEP = 64 * 1024;

const NO_BYTES = Buffer.alloc(0);

/**
 * The header being read, shared by every StreamFramer (not one per circuit direction): a
 * framer reads it only within one push, between readHeader and handing the message on.
 */
const HEADER: HeaderView = { command: 0, payloadSize: 0, dataType: 0, dataCount: 0, headerSize: 0 };

/**
 * Assembly buffers given back by framers whose message nobody kept, for the next
 * message that spans segments (on any circuit): fresh memory costs page faults,
 * and ArrayBuffers allocated at this rate set off V8's full collections.
 */
export class AssemblyPool {
  private readonly free: Buffer[] = [];
  private bytes = 0;

  constructor(
    /** bytes kept at most */
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  /** A buffer of at least `min` bytes and less than twice that, if one is free. */
  take(min: number): Buffer | undefined {
    const free = this.free;
    for (let i = free.length - 1; i >= 0; i--) {
      const b = free[i]!;
      if (b.length >= min && b.length < 2 * min) {
        free[i] = free[free.length - 1]!;
        free.pop();
        this.bytes -= b.length;
        return b;
      }
    }
    return undefined;
  }

  give(b: Buffer): void {
    if (b.length === 0 || this.bytes + b.length > this.maxBytes) return;
    this.free.push(b);
    this.bytes += b.length;
  }
}

export interface FramerLimits {
  /** largest message buffered whole; larger plausible messages are skipped and counted */
  maxMessageBytes: number;
  /** bytes of incomplete messages held by all framers sharing it, and their bound */
  budget?: { held: number; readonly max: number };
  /** assembly buffers to reuse, shared by the framers */
  pool?: AssemblyPool;
}

/** Framing state of one TCP direction. */
export class StreamFramer<C> {
  /** the incomplete message's bytes so far: partBytes of them are used */
  private asm: Buffer = NO_BYTES;
  private partBytes = 0;
  /** total size of the message being collected, or -1 while its header is incomplete */
  private need = -1;
  /** payload bytes still to discard of an oversize message */
  private skip = 0;
  private resyncing = false;
  /** the resync under way follows a bad header: its skipped bytes are that malformed message's */
  private afterBadHeader = false;
  /** joined without the connection's start: the first data is checked before it is trusted */
  private unverified: boolean;

  constructor(
    private readonly sink: FrameSink<C>,
    private readonly ctx: C,
    private readonly limits: FramerLimits,
    /** true when the stream is joined in the middle (no SYN seen) */
    midStream = false,
  ) {
    this.unverified = midStream;
  }

  /** bytes held for an incomplete message */
  get buffered(): number {
    return this.partBytes;
  }

  /** what the incomplete message costs, charged to the shared budget: its buffer and the object */
  private get cost(): number {
    return this.asm.length > 0 ? this.asm.length + PART_COST : 0;
  }

  push(buf: Buffer, off: number, len: number): void {
    const before = this.cost;
    this.consume(buf, off, len);
    // Most segments hold whole messages: nothing was held before or after.
    if (before === 0 && this.asm.length === 0) return;
    const budget = this.limits.budget;
    if (!budget) return;
    budget.held += this.cost - before;
    // All framers together hold too much: the message that just grew gives way, skipped like an oversize one.
    if (budget.held > budget.max && this.cost > before && this.need > 0) {
      this.sink.malformed(this.ctx, 'oversize', this.need);
      this.skip = this.need - this.partBytes;
      budget.held -= this.cost;
      this.asm = NO_BYTES;
      this.partBytes = 0;
      this.need = -1;
    }
  }

  private consume(buf: Buffer, off: number, len: number): void {
    let end = off + len;
    if (this.skip > 0) {
      const n = Math.min(this.skip, len);
      this.skip -= n;
      off += n;
      if (off === end) return;
    }
    if (this.partBytes > 0) {
      off = this.continuePartial(buf, off, end);
      if (off < 0) return;
    }
    const h = HEADER;
    if (this.unverified) {
      // A capture started mid-connection usually joins at a message boundary: take it if what follows parses.
      this.unverified = false;
      this.resyncing = !chainFrom(buf, off, end, h, false);
    }
    while (off < end) {
      if (this.resyncing) {
        // After a bad header, look from the next byte: the search must move on.
        const at = this.findSync(buf, this.afterBadHeader ? off + 1 : off, end);
        if (at !== off) this.sink.malformed(this.ctx, this.afterBadHeader ? 'bad-header' : 'resync', (at < 0 ? end : at) - off);
        this.afterBadHeader = false;
        if (at < 0) return;
        off = at;
        this.resyncing = false;
      }
      if (!readHeader(buf, off, end, h)) {
        this.stash(buf, off, end);
        return;
      }
      if (!this.acceptHeader(buf, off)) {
        // Reported with the bytes skipped up to the next plausible header.
        this.afterBadHeader = true;
        this.resyncing = true;
        continue;
      }
      const total = h.headerSize + h.payloadSize;
      if (total > this.limits.maxMessageBytes) {
        this.sink.malformed(this.ctx, 'oversize', total);
        const have = end - off;
        if (have >= total) {
          off += total;
          continue;
        }
        this.skip = total - have;
        return;
      }
      if (end - off >= total) {
        this.sink.message(this.ctx, buf, off, h.headerSize, h.payloadSize);
        off += total;
      } else {
        this.need = total;
        this.stash(buf, off, end);
        return;
      }
    }
  }

  /** Bytes of this direction were lost from the capture. */
  gap(): void {
    this.afterBadHeader = false;
    this.dropPartial();
    this.skip = 0;
    this.resyncing = true;
  }

  /** End of the stream: anything held is an incomplete message. */
  end(): void {
    this.dropPartial();
  }

  private dropPartial(): void {
    if (this.partBytes > 0) this.sink.malformed(this.ctx, 'incomplete', this.partBytes);
    if (this.limits.budget) this.limits.budget.held -= this.cost;
    this.asm = NO_BYTES;
    this.partBytes = 0;
    this.need = -1;
  }

  private acceptHeader(buf: Buffer, off: number): boolean {
    const h = HEADER;
    if (h.headerSize === EXTENDED_HEADER_SIZE && !plausibleExtended(h)) return false;
    return plausibleHeader(h.command, h.payloadSize, h.dataType, h.dataCount, u32be(buf, off + 12), false);
  }

  /** Copies bytes onto the incomplete message (the segment buffer belongs to the capture reader). */
  private stash(buf: Buffer, off: number, end: number): void {
    const want = this.partBytes + end - off;
    if (want > this.asm.length) {
      const cap = this.need > 0 ? Math.min(this.need, Math.max(want, 2 * this.asm.length, ASSEMBLY_STEP)) : Math.max(want, EXTENDED_HEADER_SIZE);
      const pool = this.limits.pool;
      const grown = pool?.take(cap) ?? Buffer.allocUnsafe(cap);
      this.asm.copy(grown, 0, 0, this.partBytes);
      pool?.give(this.asm);
      this.asm = grown;
    }
    buf.copy(this.asm, this.partBytes, off, end);
    this.partBytes = want;
  }

  /** Adds bytes to the held message; returns where the caller continues, or -1 if all was consumed. */
  private continuePartial(buf: Buffer, off: number, end: number): number {
    const h = HEADER;
    if (this.need < 0) {
      // Header still incomplete: join what we have with enough new bytes to read it.
      const had = this.partBytes;
      const want = Math.min(EXTENDED_HEADER_SIZE - had, end - off);
      this.stash(buf, off, off + want);
      if (!readHeader(this.asm, 0, this.partBytes, h)) return -1; // this segment ran out before the header did
      // Header complete: keep only the header bytes, the rest is still in buf.
      off += h.headerSize - had;
      this.partBytes = h.headerSize;
      if (!this.acceptHeader(this.asm, 0)) {
        this.sink.malformed(this.ctx, 'bad-header', h.headerSize);
        this.asm = NO_BYTES;
        this.partBytes = 0;
        this.resyncing = true;
        return off;
      }
      const total = h.headerSize + h.payloadSize;
      if (total > this.limits.maxMessageBytes) {
        this.skip = h.payloadSize;
        this.sink.malformed(this.ctx, 'oversize', total);
        this.asm = NO_BYTES;
        this.partBytes = 0;
        const n = Math.min(this.skip, end - off);
        this.skip -= n;
        off += n;
        return off < end ? off : -1;
      }
      this.need = total;
    }
    const take = Math.min(this.need - this.partBytes, end - off);
    if (take > 0) {
      this.stash(buf, off, off + take);
      off += take;
    }
    if (this.partBytes < this.need) return -1;
    const asm = this.asm;
    const msg = asm.length === this.partBytes ? asm : asm.subarray(0, this.partBytes);
    readHeader(msg, 0, msg.length, h);
    this.asm = NO_BYTES;
    this.partBytes = 0;
    this.need = -1;
    if (this.sink.message(this.ctx, msg, 0, h.headerSize, h.payloadSize) === false) this.limits.pool?.give(asm);
    return off < end ? off : -1;
  }

  /**
   * First offset in [off, end) from which the data parses as a chain of strictly
   * plausible messages up to `end` (the last one may run past it; up to
   * CHAIN_CHECK messages are checked). Zero-filled array data looks like
   * headers; a whole chain rarely does.
   */
  private findSync(buf: Buffer, off: number, end: number): number {
    const h: HeaderView = { command: 0, payloadSize: 0, dataType: 0, dataCount: 0, headerSize: 0 };
    for (let p = off; p + HEADER_SIZE <= end; p++) {
      if (buf[p] !== 0 || buf[p + 1]! > MAX_COMMAND) continue; // command is u16 <= 27
      if (chainFrom(buf, p, end, h, true)) return p;
    }
    return -1;
  }
}

const CHAIN_CHECK = 64;

function chainFrom(buf: Buffer, p: number, end: number, h: HeaderView, strict: boolean): boolean {
  for (let n = 0; n < CHAIN_CHECK; n++) {
    if (p === end) return true;
    // The data ends inside the next header (segments end anywhere): believe a chain of two or more.
    if (end - p < HEADER_SIZE) return n > 1;
    if (!candidate(buf, p, end, h, strict)) return false;
    p += h.headerSize + h.payloadSize;
    if (p > end) return true;
  }
  return true;
}

function candidate(buf: Buffer, p: number, end: number, h: HeaderView, strict: boolean): boolean {
  if (!readHeader(buf, p, end, h)) return false;
  if (h.headerSize === EXTENDED_HEADER_SIZE && !plausibleExtended(h)) return false;
  // VERSION opens a circuit and never follows other messages; zero-filled data shifted by a few bytes looks like one.
  if (strict && h.command === CMD.VERSION) return false;
  return plausibleHeader(h.command, h.payloadSize, h.dataType, h.dataCount, u32be(buf, p + 12), strict);
}

/**
 * Frames the messages of one datagram. Returns the number of bytes that could
 * not be framed (a message running past the end of the datagram, or a bad header).
 */
export function frameDatagram<C>(sink: FrameSink<C>, ctx: C, buf: Buffer, off: number, len: number, h: HeaderView): number {
  const end = off + len;
  while (off < end) {
    if (!readHeader(buf, off, end, h)) {
      sink.malformed(ctx, 'overrun', end - off);
      return end - off;
    }
    const total = h.headerSize + h.payloadSize;
    if (
      !plausibleHeader(h.command, h.payloadSize, h.dataType, h.dataCount, u32be(buf, off + 12), false) ||
      (h.headerSize === EXTENDED_HEADER_SIZE && !plausibleExtended(h))
    ) {
      sink.malformed(ctx, 'bad-header', end - off);
      return end - off;
    }
    if (total > end - off) {
      sink.malformed(ctx, 'overrun', end - off);
      return end - off;
    }
    sink.message(ctx, buf, off, h.headerSize, h.payloadSize);
    off += total;
  }
  return 0;
}
