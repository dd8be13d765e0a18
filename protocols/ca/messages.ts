// One class per CA command and direction, named as caproto names them, with
// caproto's field names (ca-protocol-notes §4.1 gives each command's field use).
// A message keeps its header words and a view of its payload; DBR values are
// decoded only when `data` or `metadata` is read.

import { ANY_ADDRESS, CMD, COMMAND_NAMES, EXTENDED_HEADER_SIZE, HEADER_SIZE } from './constants.js';
import { decodeDbr, type DbrMetadata, type DbrValue } from './dbr.js';
import { ipToString } from './ip.js';
import { u16be, u32be } from '../bytes.js';

export type Direction = 'request' | 'response';

/** Text of a fixed or NUL-terminated field: cut at the first NUL (3.13 senders leave garbage after it). */
export function cString(buf: Buffer, off: number, len: number): string {
  const nul = buf.indexOf(0, off);
  const end = nul >= 0 && nul < off + len ? nul : off + len;
  return buf.toString('latin1', off, end);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Sets a fact of a message class (its caproto name, its field list) on its prototype. */
function classFact(c: { prototype: CaMessage }, key: 'type' | 'fields', value: string | readonly string[]): void {
  Object.defineProperty(c.prototype, key, { value, writable: false, enumerable: false, configurable: false });
}

export abstract class CaMessage {
  // Class-level facts live on each class's prototype (classFact), not on every message:
  // a message is made per CA message. Data properties, not getters: a getter read at a
  // call site that sees many classes (the printer's) is a call that cannot be inlined.
  /** caproto class name, e.g. 'CreateChanRequest' */
  declare readonly type: string;
  /** field names in print order (VersionRequest and VersionResponse: a getter, by form) */
  declare readonly fields: readonly string[];

  /** who sent it: every class name ends in Request or Response (sent by a client or a server), but Beacon */
  get direction(): Direction {
    return this.type.endsWith('Request') ? 'request' : 'response';
  }

  readonly command!: number;
  readonly payloadSize!: number;
  readonly dataTypeField!: number;
  readonly dataCountField!: number;
  readonly parameter1!: number;
  readonly parameter2!: number;
  /** buffer holding the payload (a view into capture data; copy to keep it past the message) */
  readonly buf!: Buffer;
  readonly payloadOffset!: number;
  readonly headerSize!: number;

  /**
   * The header words and where the payload is. The classes made per monitor update,
   * read, write, search, beacon and echo store them in their own constructors (the
   * same lines in each, on purpose) and call this with no arguments: stores here
   * see every class's object shape (megamorphic, about 4x slower per message).
   */
  constructor(
    command?: number,
    payloadSize?: number,
    dataTypeField?: number,
    dataCountField?: number,
    parameter1?: number,
    parameter2?: number,
    buf?: Buffer,
    payloadOffset?: number,
    headerSize?: number,
  ) {
    if (command === undefined) return;
    const w = this as Mutable<CaMessage>;
    w.command = command;
    w.payloadSize = payloadSize!;
    w.dataTypeField = dataTypeField!;
    w.dataCountField = dataCountField!;
    w.parameter1 = parameter1!;
    w.parameter2 = parameter2!;
    w.buf = buf!;
    w.payloadOffset = payloadOffset!;
    w.headerSize = headerSize!;
  }

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

  protected payloadString(): string {
    return cString(this.buf, this.payloadOffset, this.payloadSize);
  }
}

/** Messages whose payload is DBR data typed by data_type/data_count. */
export abstract class DataMessage extends CaMessage {
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

const F_SEARCH_REQ: readonly string[] = ['name', 'cid', 'version', 'reply'];
const F_SEARCH_RESP: readonly string[] = ['port', 'ip', 'cid', 'version'];
const F_NOT_FOUND: readonly string[] = ['reply', 'version', 'cid'];
const F_EVENT_ADD_REQ: readonly string[] = ['data_type', 'data_count', 'sid', 'subscriptionid', 'mask'];
const F_EVENT_ADD_RESP: readonly string[] = ['data', 'data_type', 'data_count', 'status', 'subscriptionid', 'metadata'];
const F_SUBSCRIPTION: readonly string[] = ['data_type', 'data_count', 'sid', 'subscriptionid'];
const F_IO_REQ: readonly string[] = ['data_type', 'data_count', 'sid', 'ioid'];
const F_READ_RESP: readonly string[] = ['data', 'data_type', 'data_count', 'cid', 'ioid', 'metadata'];
const F_READ_NOTIFY_RESP: readonly string[] = ['data', 'data_type', 'data_count', 'status', 'ioid', 'metadata'];
const F_WRITE_REQ: readonly string[] = ['data', 'data_type', 'data_count', 'sid', 'cid', 'metadata'];
const F_WRITE_NOTIFY_REQ: readonly string[] = ['data', 'data_type', 'data_count', 'sid', 'ioid', 'metadata'];
const F_WRITE_NOTIFY_RESP: readonly string[] = ['data_type', 'data_count', 'status', 'ioid'];
const F_ERROR_RESP: readonly string[] = ['cid', 'status', 'request', 'message'];
const F_CLEAR: readonly string[] = ['sid', 'cid'];
const F_BEACON: readonly string[] = ['version', 'server_port', 'beacon_id', 'address'];
const F_REPEATER_CONFIRM: readonly string[] = ['repeater_address'];
const F_REPEATER_REGISTER: readonly string[] = ['client_address'];
const F_CREATE_REQ: readonly string[] = ['name', 'cid', 'version'];
const F_CREATE_RESP: readonly string[] = ['data_type', 'data_count', 'cid', 'sid'];
const F_NAME_ONLY: readonly string[] = ['name'];
const F_ACCESS_RIGHTS: readonly string[] = ['cid', 'access_rights'];
const F_CID_ONLY: readonly string[] = ['cid'];
const F_RAW: readonly string[] = ['data_type', 'data_count', 'parameter1', 'parameter2'];
const NO_FIELDS: readonly string[] = [];
const F_VERSION_REQ: readonly string[] = ['priority', 'version'];
const F_VERSION_UDP: readonly string[] = ['version', 'sequence'];
const F_VERSION_RESP: readonly string[] = ['version'];

export class VersionRequest extends CaMessage {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'VersionRequest');
    // UDP form (CA >= 4.11): data_type 1 flags p1 as the datagram sequence number
    Object.defineProperty(this.prototype, 'fields', {
      get(this: VersionRequest) {
        return this.dataTypeField === 1 && this.parameter1 !== 0 && this.udp ? F_VERSION_UDP : F_VERSION_REQ;
      },
    });
  }
  udp = false;
  get priority() {
    return this.dataTypeField;
  }
  get version() {
    return this.dataCountField;
  }
  get sequence() {
    return this.parameter1;
  }
}

export class VersionResponse extends CaMessage {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  udp = false;
  static {
    classFact(this, 'type', 'VersionResponse');
    Object.defineProperty(this.prototype, 'fields', {
      get(this: VersionResponse) {
        return this.dataTypeField === 1 && this.udp ? F_VERSION_UDP : F_VERSION_RESP;
      },
    });
  }
  get version() {
    return this.dataCountField;
  }
  get sequence() {
    return this.parameter1;
  }
}

export class SearchRequest extends CaMessage {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'SearchRequest');
    classFact(this, 'fields', F_SEARCH_REQ);
  }
  get name() {
    return this.payloadString();
  }
  get cid() {
    return this.parameter1;
  }
  get version() {
    return this.dataCountField;
  }
  /** 5 = DONT_REPLY, 10 = DO_REPLY */
  get reply() {
    return this.dataTypeField;
  }
}

export class SearchResponse extends CaMessage {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'SearchResponse');
    classFact(this, 'fields', F_SEARCH_RESP);
  }
  get port() {
    return this.dataTypeField;
  }
  /** server address; '255.255.255.255' means the datagram's source address */
  get ip() {
    return ipToString(this.parameter1);
  }
  get cid() {
    return this.parameter2;
  }
  /** server minor version: u16 at the start of the 8-byte UDP payload (absent over TCP) */
  get version() {
    return this.payloadSize >= 2 ? u16be(this.buf, this.payloadOffset) : undefined;
  }
  /** true when the reply names the source of its datagram rather than an address */
  get usesSourceAddress() {
    return this.parameter1 === ANY_ADDRESS;
  }
}

export class NotFoundResponse extends CaMessage {
  static {
    classFact(this, 'type', 'NotFoundResponse');
    classFact(this, 'fields', F_NOT_FOUND);
  }
  get reply() {
    return this.dataTypeField;
  }
  get version() {
    return this.dataCountField;
  }
  get cid() {
    return this.parameter1;
  }
}

export class EventAddRequest extends CaMessage {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'EventAddRequest');
    classFact(this, 'fields', F_EVENT_ADD_REQ);
  }
  get data_type() {
    return this.dataTypeField;
  }
  get data_count() {
    return this.dataCountField;
  }
  get sid() {
    return this.parameter1;
  }
  get subscriptionid() {
    return this.parameter2;
  }
  /** u16 after the three legacy f32 deadbands: 1 VALUE, 2 LOG, 4 ALARM, 8 PROPERTY */
  get mask() {
    return this.payloadSize >= 14 ? u16be(this.buf, this.payloadOffset + 12) : 0;
  }
}

export class EventAddResponse extends DataMessage {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'EventAddResponse');
    classFact(this, 'fields', F_EVENT_ADD_RESP);
  }
  /** ECA status (p1) */
  get status() {
    return this.parameter1;
  }
  get subscriptionid() {
    return this.parameter2;
  }
}

/** The server's final, empty EVENT_ADD reply confirming an EVENT_CANCEL (RSRV echoes type, count and SID). */
export class EventCancelResponse extends CaMessage {
  static {
    classFact(this, 'type', 'EventCancelResponse');
    classFact(this, 'fields', F_SUBSCRIPTION);
  }
  get data_type() {
    return this.dataTypeField;
  }
  get data_count() {
    return this.dataCountField;
  }
  get sid() {
    return this.parameter1;
  }
  get subscriptionid() {
    return this.parameter2;
  }
}

export class EventCancelRequest extends CaMessage {
  static {
    classFact(this, 'type', 'EventCancelRequest');
    classFact(this, 'fields', F_SUBSCRIPTION);
  }
  get data_type() {
    return this.dataTypeField;
  }
  get data_count() {
    return this.dataCountField;
  }
  get sid() {
    return this.parameter1;
  }
  get subscriptionid() {
    return this.parameter2;
  }
}

abstract class IoRequest extends CaMessage {
  static {
    classFact(this, 'fields', F_IO_REQ);
  }
  get data_type() {
    return this.dataTypeField;
  }
  get data_count() {
    return this.dataCountField;
  }
  get sid() {
    return this.parameter1;
  }
  get ioid() {
    return this.parameter2;
  }
}

export class ReadRequest extends IoRequest {
  static {
    classFact(this, 'type', 'ReadRequest');
  }
}

export class ReadNotifyRequest extends IoRequest {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'ReadNotifyRequest');
  }
}

/** Legacy READ reply: RSRV puts the CID in p1. */
export class ReadResponse extends DataMessage {
  static {
    classFact(this, 'type', 'ReadResponse');
    classFact(this, 'fields', F_READ_RESP);
  }
  get cid() {
    return this.parameter1;
  }
  get ioid() {
    return this.parameter2;
  }
}

export class ReadNotifyResponse extends DataMessage {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'ReadNotifyResponse');
    classFact(this, 'fields', F_READ_NOTIFY_RESP);
  }
  /** ECA status (p1; the community document calls it SID) */
  get status() {
    return this.parameter1;
  }
  get ioid() {
    return this.parameter2;
  }
}

/** Plain put. libca puts the channel's CID in p2 (the document says IOID). */
export class WriteRequest extends DataMessage {
  static {
    classFact(this, 'type', 'WriteRequest');
    classFact(this, 'fields', F_WRITE_REQ);
  }
  get sid() {
    return this.parameter1;
  }
  get cid() {
    return this.parameter2;
  }
}

export class WriteNotifyRequest extends DataMessage {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'WriteNotifyRequest');
    classFact(this, 'fields', F_WRITE_NOTIFY_REQ);
  }
  get sid() {
    return this.parameter1;
  }
  get ioid() {
    return this.parameter2;
  }
}

export class WriteNotifyResponse extends CaMessage {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'WriteNotifyResponse');
    classFact(this, 'fields', F_WRITE_NOTIFY_RESP);
  }
  get data_type() {
    return this.dataTypeField;
  }
  get data_count() {
    return this.dataCountField;
  }
  get status() {
    return this.parameter1;
  }
  get ioid() {
    return this.parameter2;
  }
}

abstract class HeaderOnly extends CaMessage {
  static {
    classFact(this, 'fields', NO_FIELDS);
  }
}

export class EventsOffRequest extends HeaderOnly {
  static {
    classFact(this, 'type', 'EventsOffRequest');
  }
}
export class EventsOnRequest extends HeaderOnly {
  static {
    classFact(this, 'type', 'EventsOnRequest');
  }
}
export class ReadSyncRequest extends HeaderOnly {
  static {
    classFact(this, 'type', 'ReadSyncRequest');
  }
}
export class ReadSyncResponse extends HeaderOnly {
  static {
    classFact(this, 'type', 'ReadSyncResponse');
  }
}
export class EchoRequest extends HeaderOnly {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'EchoRequest');
  }
}
export class EchoResponse extends HeaderOnly {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'EchoResponse');
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

export class ErrorResponse extends CaMessage {
  static {
    classFact(this, 'type', 'ErrorResponse');
    classFact(this, 'fields', F_ERROR_RESP);
  }
  /** the channel's CID, the search id, or 0xFFFFFFFF */
  get cid() {
    return this.parameter1;
  }
  /** ECA status (p2) */
  get status() {
    return this.parameter2;
  }
  get request(): EmbeddedHeader | undefined {
    if (this.payloadSize < HEADER_SIZE) return undefined;
    const b = this.buf;
    const o = this.payloadOffset;
    const command = u16be(b, o);
    let payload_size = u16be(b, o + 2);
    let data_count = u16be(b, o + 6);
    if (payload_size === 0xffff && data_count === 0 && this.payloadSize >= EXTENDED_HEADER_SIZE) {
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
  private get embeddedSize(): number {
    if (this.payloadSize < HEADER_SIZE) return this.payloadSize;
    const o = this.payloadOffset;
    const ext = u16be(this.buf, o + 2) === 0xffff && u16be(this.buf, o + 6) === 0;
    return Math.min(this.payloadSize, ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE);
  }
  /** the server's text after the embedded header */
  get message() {
    const skip = this.embeddedSize;
    return cString(this.buf, this.payloadOffset + skip, this.payloadSize - skip);
  }
}

export class ClearChannelRequest extends CaMessage {
  static {
    classFact(this, 'type', 'ClearChannelRequest');
    classFact(this, 'fields', F_CLEAR);
  }
  get sid() {
    return this.parameter1;
  }
  get cid() {
    return this.parameter2;
  }
}

export class ClearChannelResponse extends CaMessage {
  static {
    classFact(this, 'type', 'ClearChannelResponse');
    classFact(this, 'fields', F_CLEAR);
  }
  get sid() {
    return this.parameter1;
  }
  get cid() {
    return this.parameter2;
  }
}

/** RSRV_IS_UP. The address is 0 from current RSRV; the caRepeater fills in the source. */
export class Beacon extends CaMessage {
  // Own constructor: monomorphic stores (see CaMessage).
  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {
    super();
    const w = this as Mutable<CaMessage>;
    w.command = c;
    w.payloadSize = ps;
    w.dataTypeField = dt;
    w.dataCountField = dc;
    w.parameter1 = p1;
    w.parameter2 = p2;
    w.buf = buf;
    w.payloadOffset = po;
    w.headerSize = hs;
  }
  static {
    classFact(this, 'type', 'Beacon');
    classFact(this, 'fields', F_BEACON);
  }
  get version() {
    return this.dataTypeField;
  }
  /** 0 from very old servers means 5064 */
  get server_port() {
    return this.dataCountField;
  }
  get beacon_id() {
    return this.parameter1;
  }
  get address() {
    return ipToString(this.parameter2);
  }
}

export class RepeaterConfirmResponse extends CaMessage {
  static {
    classFact(this, 'type', 'RepeaterConfirmResponse');
    classFact(this, 'fields', F_REPEATER_CONFIRM);
  }
  get repeater_address() {
    return ipToString(this.parameter2);
  }
}

/** Registration with the caRepeater; libca on Linux sends it as an empty datagram (then every field is 0). */
export class RepeaterRegisterRequest extends CaMessage {
  static {
    classFact(this, 'type', 'RepeaterRegisterRequest');
    classFact(this, 'fields', F_REPEATER_REGISTER);
  }
  get client_address() {
    return ipToString(this.parameter2);
  }
  /** true for the zero-length datagram form */
  get empty() {
    return this.headerSize === 0;
  }
}

export class CreateChanRequest extends CaMessage {
  static {
    classFact(this, 'type', 'CreateChanRequest');
    classFact(this, 'fields', F_CREATE_REQ);
  }
  get name() {
    return this.payloadString();
  }
  get cid() {
    return this.parameter1;
  }
  /** client minor version (p2) */
  get version() {
    return this.parameter2;
  }
}

export class CreateChanResponse extends CaMessage {
  static {
    classFact(this, 'type', 'CreateChanResponse');
    classFact(this, 'fields', F_CREATE_RESP);
  }
  /** native DBR type and element count of the channel */
  get data_type() {
    return this.dataTypeField;
  }
  get data_count() {
    return this.dataCountField;
  }
  get cid() {
    return this.parameter1;
  }
  get sid() {
    return this.parameter2;
  }
}

export class ClientNameRequest extends CaMessage {
  static {
    classFact(this, 'type', 'ClientNameRequest');
    classFact(this, 'fields', F_NAME_ONLY);
  }
  get name() {
    return this.payloadString();
  }
}

export class HostNameRequest extends CaMessage {
  static {
    classFact(this, 'type', 'HostNameRequest');
    classFact(this, 'fields', F_NAME_ONLY);
  }
  get name() {
    return this.payloadString();
  }
}

export class AccessRightsResponse extends CaMessage {
  static {
    classFact(this, 'type', 'AccessRightsResponse');
    classFact(this, 'fields', F_ACCESS_RIGHTS);
  }
  get cid() {
    return this.parameter1;
  }
  /** bit 0 read, bit 1 write */
  get access_rights() {
    return this.parameter2;
  }
}

export class CreateChFailResponse extends CaMessage {
  static {
    classFact(this, 'type', 'CreateChFailResponse');
    classFact(this, 'fields', F_CID_ONLY);
  }
  get cid() {
    return this.parameter1;
  }
}

export class ServerDisconnResponse extends CaMessage {
  static {
    classFact(this, 'type', 'ServerDisconnResponse');
    classFact(this, 'fields', F_CID_ONLY);
  }
  get cid() {
    return this.parameter1;
  }
}

/** Obsolete commands (SNAPSHOT 5, BUILD 7, READ_BUILD 16, SIGNAL 25): named, shown raw. */
export class ObsoleteMessage extends CaMessage {
  static {
    classFact(this, 'fields', F_RAW);
  }
  constructor(
    override readonly type: string,
    ...rest: ConstructorParameters<typeof CaMessage>
  ) {
    super(...rest);
  }
  get data_type() {
    return this.dataTypeField;
  }
  get data_count() {
    return this.dataCountField;
  }
}

const OBSOLETE: Record<number, string> = {
  [CMD.SNAPSHOT]: 'Snapshot',
  [CMD.BUILD]: 'Build',
  [CMD.READ_BUILD]: 'ReadBuild',
  [CMD.SIGNAL]: 'Signal',
};

type MessageClass = new (c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) => CaMessage;

/** The class for each command: [sent by a client, sent by a server]; one-way commands name one class twice. */
const CLASSES: (readonly [MessageClass, MessageClass] | undefined)[] = [];
const both = (cmd: number, request: MessageClass, response: MessageClass) => (CLASSES[cmd] = [request, response]);
const oneWay = (cmd: number, cls: MessageClass) => (CLASSES[cmd] = [cls, cls]);
both(CMD.VERSION, VersionRequest, VersionResponse);
both(CMD.EVENT_ADD, EventAddRequest, EventAddResponse);
oneWay(CMD.EVENT_CANCEL, EventCancelRequest);
both(CMD.READ, ReadRequest, ReadResponse);
oneWay(CMD.WRITE, WriteRequest);
both(CMD.SEARCH, SearchRequest, SearchResponse);
oneWay(CMD.EVENTS_OFF, EventsOffRequest);
oneWay(CMD.EVENTS_ON, EventsOnRequest);
both(CMD.READ_SYNC, ReadSyncRequest, ReadSyncResponse);
oneWay(CMD.ERROR, ErrorResponse);
both(CMD.CLEAR_CHANNEL, ClearChannelRequest, ClearChannelResponse);
oneWay(CMD.RSRV_IS_UP, Beacon);
oneWay(CMD.NOT_FOUND, NotFoundResponse);
both(CMD.READ_NOTIFY, ReadNotifyRequest, ReadNotifyResponse);
oneWay(CMD.REPEATER_CONFIRM, RepeaterConfirmResponse);
both(CMD.CREATE_CHAN, CreateChanRequest, CreateChanResponse);
both(CMD.WRITE_NOTIFY, WriteNotifyRequest, WriteNotifyResponse);
oneWay(CMD.CLIENT_NAME, ClientNameRequest);
oneWay(CMD.HOST_NAME, HostNameRequest);
oneWay(CMD.ACCESS_RIGHTS, AccessRightsResponse);
both(CMD.ECHO, EchoRequest, EchoResponse);
oneWay(CMD.REPEATER_REGISTER, RepeaterRegisterRequest);
oneWay(CMD.CREATE_CH_FAIL, CreateChFailResponse);
oneWay(CMD.SERVER_DISCONN, ServerDisconnResponse);

/**
 * Each class name with the command code it is decoded from and the sender it is
 * decoded for: true a client, false a server, undefined either (a one-way
 * command's class is used whichever side the transport says sent it).
 */
type TypeCode = readonly [type: string, code: { command: number; fromClient: boolean | undefined }];

export const TYPE_CODES: ReadonlyMap<string, TypeCode[1]> = new Map<string, TypeCode[1]>([
  ...CLASSES.flatMap((pair, command): TypeCode[] => {
    if (!pair) return [];
    if (pair[0] === pair[1]) return [[typeOfClass(pair[0]), { command, fromClient: undefined }] as const];
    return pair.map((cls, i) => [typeOfClass(cls), { command, fromClient: i === 0 }] as const);
  }),
  ['EventCancelResponse', { command: CMD.EVENT_ADD, fromClient: false }] as const,
  ...Object.entries(OBSOLETE).flatMap(([code, name]) => [
    [`${name}Request`, { command: Number(code), fromClient: true }] as const,
    [`${name}Response`, { command: Number(code), fromClient: false }] as const,
  ]),
]);

function typeOfClass(cls: MessageClass): string {
  return (cls.prototype as CaMessage).type;
}

// Each class's direction is a fact of the class: a prototype value, not a string test per message.
for (const cls of new Set([...CLASSES.flatMap((pair) => pair ?? []), EventCancelResponse])) {
  const type = typeOfClass(cls);
  Object.defineProperty(cls.prototype, 'direction', { value: type.endsWith('Request') ? 'request' : 'response' });
}

/**
 * Builds the message object for a framed header. `fromClient` is the sender's
 * role, decided by the transport (never from the header alone); `udp` selects
 * the datagram forms of VERSION.
 */
export function decodeMessage(buf: Buffer, off: number, headerSize: number, payloadSize: number, fromClient: boolean, udp: boolean): CaMessage {
  const command = u16be(buf, off);
  const dt = u16be(buf, off + 4);
  const dc = headerSize === EXTENDED_HEADER_SIZE ? u32be(buf, off + 20) : u16be(buf, off + 6);
  const p1 = u32be(buf, off + 8);
  const p2 = u32be(buf, off + 12);
  const po = off + headerSize;
  const classes = CLASSES[command];
  if (!classes) {
    const type = (OBSOLETE[command] ?? `Command${command}`) + (fromClient ? 'Request' : 'Response');
    return new ObsoleteMessage(type, command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
  }
  // The server's empty EVENT_ADD reply confirms a cancel: caproto's EventCancelResponse.
  const cls = fromClient ? classes[0] : command === CMD.EVENT_ADD && payloadSize === 0 ? EventCancelResponse : classes[1];
  const m = new cls(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
  if (udp && command === CMD.VERSION) (m as VersionRequest | VersionResponse).udp = true;
  return m;
}

const EMPTY = Buffer.alloc(0);

/** The zero-length datagram libca sends to the repeater port to register. */
export function emptyRegistration(): RepeaterRegisterRequest {
  return new RepeaterRegisterRequest(CMD.REPEATER_REGISTER, 0, 0, 0, 0, 0, EMPTY, 0, 0);
}

/** Every field name a message class shows (for validating user templates before any output). */
export const MESSAGE_FIELDS: ReadonlySet<string> = new Set([
  'name', 'cid', 'sid', 'ioid', 'subscriptionid', 'data_type', 'data_count', 'status', 'port', 'ip', 'version',
  'priority', 'sequence', 'reply', 'mask', 'data', 'metadata', 'access_rights', 'beacon_id', 'server_port', 'address',
  'repeater_address', 'client_address', 'request', 'message', 'parameter1', 'parameter2',
]);

/** Every class name decodeMessage can produce (for validating --command filters). */
export const MESSAGE_TYPES: readonly string[] = [
  'VersionRequest', 'VersionResponse', 'SearchRequest', 'SearchResponse', 'NotFoundResponse', 'EventAddRequest',
  'EventAddResponse', 'EventCancelRequest', 'EventCancelResponse', 'ReadRequest', 'ReadResponse', 'ReadNotifyRequest',
  'ReadNotifyResponse', 'WriteRequest', 'WriteNotifyRequest', 'WriteNotifyResponse', 'EventsOffRequest',
  'EventsOnRequest', 'ReadSyncRequest', 'ReadSyncResponse', 'EchoRequest', 'EchoResponse', 'ErrorResponse',
  'ClearChannelRequest', 'ClearChannelResponse', 'Beacon', 'RepeaterConfirmResponse', 'RepeaterRegisterRequest',
  'CreateChanRequest', 'CreateChanResponse', 'ClientNameRequest', 'HostNameRequest', 'AccessRightsResponse',
  'CreateChFailResponse', 'ServerDisconnResponse', 'SnapshotRequest', 'SnapshotResponse', 'BuildRequest',
  'BuildResponse', 'ReadBuildRequest', 'ReadBuildResponse', 'SignalRequest', 'SignalResponse',
];
