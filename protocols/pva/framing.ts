// pvAccess message boundaries (shared/docs/pva-framing-notes.md): enough to find and
// count messages, not yet to decode their pvData payloads.
//
// Every message starts with an 8-byte header: 0xCA, version (not 0), flags,
// command, then a 32-bit word in the byte order flag bit 7 gives. Application
// messages (flag bit 0 clear) are followed by that many payload bytes; a control
// message (bit 0 set) is the 8 bytes alone, the word being its data.

export const PVA_MAGIC = 0xca;
export const PVA_HEADER_SIZE = 8;

export const FLAG_CONTROL = 0x01;
export const FLAG_SEGMENT = 0x30;
export const FLAG_FROM_SERVER = 0x40;
export const FLAG_BIG_ENDIAN = 0x80;

/** Application commands by code (0-22). */
export const PVA_APP_COMMANDS: readonly string[] = [
  'BEACON', 'CONNECTION_VALIDATION', 'ECHO', 'SEARCH', 'SEARCH_RESPONSE', 'AUTHNZ', 'ACL_CHANGE', 'CREATE_CHANNEL',
  'DESTROY_CHANNEL', 'CONNECTION_VALIDATED', 'GET', 'PUT', 'PUT_GET', 'MONITOR', 'ARRAY', 'DESTROY_REQUEST', 'PROCESS',
  'GET_FIELD', 'MESSAGE', 'MULTIPLE_DATA', 'RPC', 'CANCEL_REQUEST', 'ORIGIN_TAG',
];
/** Control commands by code (0-2). */
export const PVA_CONTROL_COMMANDS: readonly string[] = ['MARK_TOTAL_BYTES_SENT', 'ACK_TOTAL_BYTES_RECEIVED', 'SET_BYTE_ORDER'];

/** One header, as read (a reused object). */
export interface PvaHeader {
  version: number;
  flags: number;
  command: number;
  /** payload bytes of an application message; 0 for a control message (its word is `controlData`) */
  payloadSize: number;
  controlData: number;
}

export function newPvaHeader(): PvaHeader {
  return { version: 0, flags: 0, command: 0, payloadSize: 0, controlData: 0 };
}

export const isControl = (h: PvaHeader): boolean => (h.flags & FLAG_CONTROL) !== 0;
export const fromServer = (h: PvaHeader): boolean => (h.flags & FLAG_FROM_SERVER) !== 0;

/** 'app 13' / 'ctrl 2': a message's kind and command code, as the corpus README counts them. */
export function pvaKindKey(h: PvaHeader): string {
  return `${isControl(h) ? 'ctrl' : 'app'} ${h.command}`;
}

/** Whether 8 bytes at `off` could be a pvAccess header (Wireshark's heuristic: magic, version, a known command). */
export function plausiblePvaHeader(buf: Uint8Array, off: number): boolean {
  if (buf[off] !== PVA_MAGIC || buf[off + 1] === 0) return false;
  const flags = buf[off + 2]!;
  const command = buf[off + 3]!;
  return (flags & FLAG_CONTROL) !== 0 ? command < PVA_CONTROL_COMMANDS.length : command < PVA_APP_COMMANDS.length;
}

/** Reads the header at `off` (8 bytes must be there) into `h`. */
export function readPvaHeader(buf: Uint8Array, off: number, h: PvaHeader): void {
  h.version = buf[off + 1]!;
  h.flags = buf[off + 2]!;
  h.command = buf[off + 3]!;
  const b4 = buf[off + 4]!, b5 = buf[off + 5]!, b6 = buf[off + 6]!, b7 = buf[off + 7]!;
  const word = (h.flags & FLAG_BIG_ENDIAN ? (b4 << 24) | (b5 << 16) | (b6 << 8) | b7 : (b7 << 24) | (b6 << 16) | (b5 << 8) | b4) >>> 0;
  if (h.flags & FLAG_CONTROL) {
    h.payloadSize = 0;
    h.controlData = word;
  } else {
    h.payloadSize = word;
    h.controlData = 0;
  }
}

export interface PvaSink {
  /** one message's header (its payload is not kept) */
  message(h: PvaHeader): void;
  /** bytes that could not be framed as pvAccess (garbage, or what was skipped after a gap) */
  malformed(bytes: number): void;
}

/**
 * One direction of a TCP stream split into messages. Only the header is kept
 * across segments (at most 8 bytes); payload bytes are counted off, not copied.
 * After a gap or an implausible header, it resynchronises at the next plausible header.
 */
export class PvaStreamFramer {
  private readonly part = new Uint8Array(PVA_HEADER_SIZE);
  private partBytes = 0;
  /** payload bytes of the current message still to pass over */
  private skip = 0;
  private resyncing = false;
  private readonly h = newPvaHeader();

  constructor(private readonly sink: PvaSink) {}

  push(buf: Uint8Array, off: number, len: number): void {
    const end = off + len;
    while (off < end) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - off);
        this.skip -= n;
        off += n;
        continue;
      }
      if (this.resyncing) {
        const start = off;
        while (off < end && buf[off] !== PVA_MAGIC) off++;
        if (off > start) this.sink.malformed(off - start);
        if (off === end) return;
        this.resyncing = false;
      }
      if (this.partBytes > 0 || end - off < PVA_HEADER_SIZE) {
        // A header cut by the segment boundary: collect its 8 bytes.
        const n = Math.min(PVA_HEADER_SIZE - this.partBytes, end - off);
        this.part.set(buf.subarray(off, off + n), this.partBytes);
        this.partBytes += n;
        off += n;
        if (this.partBytes < PVA_HEADER_SIZE) return;
        this.partBytes = 0;
        if (!this.header(this.part, 0)) {
          // Look for the next magic byte in the 7 bytes after the rejected one, then go on.
          const rest = this.part.slice(1);
          this.push(rest, 0, rest.length);
        }
        continue;
      }
      off += this.header(buf, off) ? PVA_HEADER_SIZE : 1;
    }
  }

  /** Takes the header at `off`; false (one malformed byte, then a resync) when it cannot be pvAccess. */
  private header(buf: Uint8Array, off: number): boolean {
    if (!plausiblePvaHeader(buf, off)) {
      this.sink.malformed(1);
      this.resyncing = true;
      return false;
    }
    readPvaHeader(buf, off, this.h);
    this.skip = this.h.payloadSize;
    this.sink.message(this.h);
    return true;
  }

  /** Bytes were lost from the capture: what follows is not where a message starts. */
  gap(): void {
    if (this.partBytes > 0) this.sink.malformed(this.partBytes);
    this.partBytes = 0;
    this.skip = 0;
    this.resyncing = true;
  }

  /** End of the stream: an incomplete header is counted as malformed. */
  end(): void {
    if (this.partBytes > 0) this.sink.malformed(this.partBytes);
    this.partBytes = 0;
  }
}

/** The messages of one UDP datagram, back to back; what does not frame is counted as malformed. */
export function framePvaDatagram(sink: PvaSink, buf: Uint8Array, off: number, len: number, h: PvaHeader = newPvaHeader()): void {
  const end = off + len;
  while (end - off >= PVA_HEADER_SIZE && plausiblePvaHeader(buf, off)) {
    readPvaHeader(buf, off, h);
    if (h.payloadSize > end - off - PVA_HEADER_SIZE) break;
    sink.message(h);
    off += PVA_HEADER_SIZE + h.payloadSize;
  }
  if (off < end) sink.malformed(end - off);
}
