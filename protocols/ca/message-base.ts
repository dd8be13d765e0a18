// What every CA message class shares: the header words, a view of the payload,
// and the payload readers the generated classes (messages.generated.ts) call.
// DBR values are decoded only when `data` or `metadata` is read.

import { COMMAND_NAMES, EXTENDED_HEADER_SIZE, HEADER_SIZE } from './constants.js';
import { decodeDbr, type DbrMetadata, type DbrValue } from './dbr.js';
import { u16be, u32be } from '../bytes.js';

export type Direction = 'request' | 'response';

/** Text of a fixed or NUL-terminated field: cut at the first NUL (3.13 senders leave garbage after it). */
export function cString(buf: Buffer, off: number, len: number): string {
  const nul = buf.indexOf(0, off);
  const end = nul >= 0 && nul < off + len ? nul : off + len;
  return buf.toString('latin1', off, end);
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Sets a fact of a message class (its caproto name, its field list, its direction) on its prototype. */
export function classFact(c: { prototype: CaMessageBase }, key: 'type' | 'fields' | 'direction', value: string | readonly string[]): void {
  Object.defineProperty(c.prototype, key, { value, writable: false, enumerable: false, configurable: false });
}

/**
 * One CA message: its header words and a view of its payload, read lazily.
 *
 * How long the bytes stay valid: as long as the message. `buf` is a view of the
 * capture's input (or, with DissectOptions.copyMessages, the message's own copy),
 * and nothing the library hands out is overwritten later: captureChunks,
 * readCapture and dissect read into fresh buffers, and a message reassembled
 * from several TCP segments keeps its buffer. The one way to break this is to
 * feed a Dissector (through a CaptureParser) chunks that you overwrite yourself:
 * then set copyMessages, or copy what you keep before you overwrite them.
 *
 * The classes, one per command and sender, are generated from the table in
 * commands.ts; `CaMessage` (messages.ts) is their union, which narrows by `type`.
 */
export abstract class CaMessageBase {
  // Class-level facts live on each class's prototype (classFact), not on every message:
  // a message is made per CA message. Data properties, not getters: a getter read at a
  // call site that sees many classes (the printer's) is a call that cannot be inlined.
  /** caproto class name, e.g. 'CreateChanRequest' */
  declare readonly type: string;
  /** field names in print order (VersionRequest and VersionResponse: a getter, by form) */
  declare readonly fields: readonly string[];

  /** who sent it: 'request' a client, 'response' a server (a prototype fact of each generated class) */
  get direction(): Direction {
    return this.type.endsWith('Request') ? 'request' : 'response';
  }

  // Stored by each class's own constructor (generated, the same lines in each, on
  // purpose): stores in one shared constructor see every class's object shape
  // (megamorphic, about 4x slower per message).
  readonly command!: number;
  readonly payloadSize!: number;
  readonly dataTypeField!: number;
  readonly dataCountField!: number;
  readonly parameter1!: number;
  readonly parameter2!: number;
  /** buffer holding the payload (a view into capture data: valid as long as the message, see above) */
  readonly buf!: Buffer;
  readonly payloadOffset!: number;
  readonly headerSize!: number;

  get payload(): Buffer {
    return this.buf.subarray(this.payloadOffset, this.payloadOffset + this.payloadSize);
  }

  /** total bytes on the wire: header plus payload */
  get size(): number {
    return this.headerSize + this.payloadSize;
  }

  get extended(): boolean {
    return this.headerSize === EXTENDED_HEADER_SIZE;
  }

  /** The fields as a plain object (DBR values whole). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { type: this.type };
    for (const f of this.fields) out[f] = (this as unknown as Record<string, unknown>)[f];
    return out;
  }
}

/** Messages whose payload is DBR data typed by data_type/data_count. */
export abstract class DataMessage extends CaMessageBase {
  private dbr?: DbrValue;
  /** metadata and the first elements only, for previews of long arrays */
  private head?: DbrValue;

  get data_type(): number {
    return this.dataTypeField;
  }
  get data_count(): number {
    return this.dataCountField;
  }
  /** the decoded DBR payload (values, metadata, truncation) */
  get dbrValue(): DbrValue {
    return (this.dbr ??= decodeDbr(this.buf, this.payloadOffset, this.payloadSize, this.dataTypeField, this.dataCountField));
  }
  get data(): number[] | string[] {
    return this.dbrValue.values;
  }
  get metadata(): DbrMetadata {
    return (this.dbr ?? this.preview(0)).metadata;
  }
  /** The metadata and at most `n` elements, decoding no more of the payload than that. */
  preview(n: number): DbrValue {
    if (this.dbr) return this.dbr;
    const want = Math.min(n, this.dataCountField);
    if (!this.head || this.head.count < want) this.head = decodeDbr(this.buf, this.payloadOffset, this.payloadSize, this.dataTypeField, want);
    return this.head;
  }
}

/** Header fields of the request an ERROR reports (a copy of its 16- or 24-byte header). */
export interface EmbeddedHeader {
  command: number;
  command_name: string;
  payload_size: number;
  data_type: number;
  data_count: number;
  parameter1: number;
  parameter2: number;
}

/** The header an ERROR's payload starts with (undefined when the payload is shorter than a header). */
export function embeddedHeader(b: Buffer, o: number, payloadSize: number): EmbeddedHeader | undefined {
  if (payloadSize < HEADER_SIZE) return undefined;
  const command = u16be(b, o);
  let payload_size = u16be(b, o + 2);
  let data_count = u16be(b, o + 6);
  if (payload_size === 0xffff && data_count === 0 && payloadSize >= EXTENDED_HEADER_SIZE) {
    payload_size = u32be(b, o + 16);
    data_count = u32be(b, o + 20);
  }
  return {
    command,
    command_name: COMMAND_NAMES[command] ?? String(command),
    payload_size,
    data_type: u16be(b, o + 4),
    data_count,
    parameter1: u32be(b, o + 8),
    parameter2: u32be(b, o + 12),
  };
}

/** The text of an ERROR: what follows its embedded header (16 or 24 bytes). */
export function errorText(b: Buffer, o: number, payloadSize: number): string {
  let skip = payloadSize;
  if (payloadSize >= HEADER_SIZE) {
    const ext = u16be(b, o + 2) === 0xffff && u16be(b, o + 6) === 0;
    skip = Math.min(payloadSize, ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE);
  }
  return cString(b, o + skip, payloadSize - skip);
}
