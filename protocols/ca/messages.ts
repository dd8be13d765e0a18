// One class per CA command and direction, named as caproto names them, with
// caproto's field names (ca-protocol-notes §4.1 gives each command's field use).
// A message keeps its header words and a view of its payload; DBR values are
// decoded only when `data` or `metadata` is read.

import { ANY_ADDRESS, CMD, COMMAND_NAMES, EXTENDED_HEADER_SIZE, HEADER_SIZE } from './constants.js';
import { decodeDbr, type DbrMetadata, type DbrValue } from './dbr.js';
import { ipToString } from './ip.js';

export type Direction = 'request' | 'response';

/** Text of a fixed or NUL-terminated field: cut at the first NUL (3.13 senders leave garbage after it). */
export function cString(buf: Buffer, off: number, len: number): string {
  const nul = buf.indexOf(0, off);
  const end = nul >= 0 && nul < off + len ? nul : off + len;
  return buf.toString('latin1', off, end);
}

export abstract class CaMessage {
  /** caproto class name, e.g. 'CreateChanRequest' */
  abstract readonly type: string;
  /** field names in print order */
  abstract readonly fields: readonly string[];
  abstract readonly direction: Direction;

  constructor(
    readonly command: number,
    readonly payloadSize: number,
    readonly dataTypeField: number,
    readonly dataCountField: number,
    readonly parameter1: number,
    readonly parameter2: number,
    /** buffer holding the payload (a view into capture data; copy to keep it past the message) */
    readonly buf: Buffer,
    readonly payloadOffset: number,
    readonly headerSize: number,
  ) {}

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
abstract class DataMessage extends CaMessage {
  private dbr?: DbrValue;

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
    return this.dbrValue.metadata;
  }
}

const F_VERSION_REQ = ['priority', 'version'] as const;
const F_VERSION_UDP = ['version', 'sequence'] as const;

export class VersionRequest extends CaMessage {
  readonly type = 'VersionRequest';
  readonly direction = 'request';
  /** UDP form (CA >= 4.11): data_type 1 flags p1 as the datagram sequence number */
  get fields() {
    return this.dataTypeField === 1 && this.parameter1 !== 0 && this.udp ? F_VERSION_UDP : F_VERSION_REQ;
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
  readonly type = 'VersionResponse';
  readonly direction = 'response';
  udp = false;
  get fields() {
    return this.dataTypeField === 1 && this.udp ? F_VERSION_UDP : ['version'];
  }
  get version() {
    return this.dataCountField;
  }
  get sequence() {
    return this.parameter1;
  }
}

export class SearchRequest extends CaMessage {
  readonly type = 'SearchRequest';
  readonly direction = 'request';
  readonly fields = ['name', 'cid', 'version', 'reply'];
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
  readonly type = 'SearchResponse';
  readonly direction = 'response';
  readonly fields = ['port', 'ip', 'cid', 'version'];
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
    return this.payloadSize >= 2 ? this.buf.readUInt16BE(this.payloadOffset) : undefined;
  }
  /** true when the reply names the source of its datagram rather than an address */
  get usesSourceAddress() {
    return this.parameter1 === ANY_ADDRESS;
  }
}

export class NotFoundResponse extends CaMessage {
  readonly type = 'NotFoundResponse';
  readonly direction = 'response';
  readonly fields = ['reply', 'version', 'cid'];
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
  readonly type = 'EventAddRequest';
  readonly direction = 'request';
  readonly fields = ['data_type', 'data_count', 'sid', 'subscriptionid', 'mask'];
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
    return this.payloadSize >= 14 ? this.buf.readUInt16BE(this.payloadOffset + 12) : 0;
  }
}

export class EventAddResponse extends DataMessage {
  readonly type = 'EventAddResponse';
  readonly direction = 'response';
  readonly fields = ['data', 'data_type', 'data_count', 'status', 'subscriptionid', 'metadata'];
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
  readonly type = 'EventCancelResponse';
  readonly direction = 'response';
  readonly fields = ['data_type', 'data_count', 'sid', 'subscriptionid'];
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
  readonly type = 'EventCancelRequest';
  readonly direction = 'request';
  readonly fields = ['data_type', 'data_count', 'sid', 'subscriptionid'];
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
  readonly direction = 'request';
  readonly fields = ['data_type', 'data_count', 'sid', 'ioid'];
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
  readonly type = 'ReadRequest';
}

export class ReadNotifyRequest extends IoRequest {
  readonly type = 'ReadNotifyRequest';
}

/** Legacy READ reply: RSRV puts the CID in p1. */
export class ReadResponse extends DataMessage {
  readonly type = 'ReadResponse';
  readonly direction = 'response';
  readonly fields = ['data', 'data_type', 'data_count', 'cid', 'ioid', 'metadata'];
  get cid() {
    return this.parameter1;
  }
  get ioid() {
    return this.parameter2;
  }
}

export class ReadNotifyResponse extends DataMessage {
  readonly type = 'ReadNotifyResponse';
  readonly direction = 'response';
  readonly fields = ['data', 'data_type', 'data_count', 'status', 'ioid', 'metadata'];
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
  readonly type = 'WriteRequest';
  readonly direction = 'request';
  readonly fields = ['data', 'data_type', 'data_count', 'sid', 'cid', 'metadata'];
  get sid() {
    return this.parameter1;
  }
  get cid() {
    return this.parameter2;
  }
}

export class WriteNotifyRequest extends DataMessage {
  readonly type = 'WriteNotifyRequest';
  readonly direction = 'request';
  readonly fields = ['data', 'data_type', 'data_count', 'sid', 'ioid', 'metadata'];
  get sid() {
    return this.parameter1;
  }
  get ioid() {
    return this.parameter2;
  }
}

export class WriteNotifyResponse extends CaMessage {
  readonly type = 'WriteNotifyResponse';
  readonly direction = 'response';
  readonly fields = ['data_type', 'data_count', 'status', 'ioid'];
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
  readonly fields: readonly string[] = [];
}

export class EventsOffRequest extends HeaderOnly {
  readonly type = 'EventsOffRequest';
  readonly direction = 'request';
}
export class EventsOnRequest extends HeaderOnly {
  readonly type = 'EventsOnRequest';
  readonly direction = 'request';
}
export class ReadSyncRequest extends HeaderOnly {
  readonly type = 'ReadSyncRequest';
  readonly direction = 'request';
}
export class ReadSyncResponse extends HeaderOnly {
  readonly type = 'ReadSyncResponse';
  readonly direction = 'response';
}
export class EchoRequest extends HeaderOnly {
  readonly type = 'EchoRequest';
  readonly direction = 'request';
}
export class EchoResponse extends HeaderOnly {
  readonly type = 'EchoResponse';
  readonly direction = 'response';
}

/** Header fields of the request an ERROR reports (a copy of its 16- or 24-byte header). */
export interface EmbeddedHeader {
  command: number;
  commandName: string;
  payload_size: number;
  data_type: number;
  data_count: number;
  parameter1: number;
  parameter2: number;
}

export class ErrorResponse extends CaMessage {
  readonly type = 'ErrorResponse';
  readonly direction = 'response';
  readonly fields = ['cid', 'status', 'request', 'message'];
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
    const command = b.readUInt16BE(o);
    let payload_size = b.readUInt16BE(o + 2);
    let data_count = b.readUInt16BE(o + 6);
    if (payload_size === 0xffff && data_count === 0 && this.payloadSize >= EXTENDED_HEADER_SIZE) {
      payload_size = b.readUInt32BE(o + 16);
      data_count = b.readUInt32BE(o + 20);
    }
    return {
      command,
      commandName: COMMAND_NAMES[command] ?? String(command),
      payload_size,
      data_type: b.readUInt16BE(o + 4),
      data_count,
      parameter1: b.readUInt32BE(o + 8),
      parameter2: b.readUInt32BE(o + 12),
    };
  }
  private get embeddedSize(): number {
    if (this.payloadSize < HEADER_SIZE) return this.payloadSize;
    const o = this.payloadOffset;
    const ext = this.buf.readUInt16BE(o + 2) === 0xffff && this.buf.readUInt16BE(o + 6) === 0;
    return Math.min(this.payloadSize, ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE);
  }
  /** the server's text after the embedded header */
  get message() {
    const skip = this.embeddedSize;
    return cString(this.buf, this.payloadOffset + skip, this.payloadSize - skip);
  }
}

export class ClearChannelRequest extends CaMessage {
  readonly type = 'ClearChannelRequest';
  readonly direction = 'request';
  readonly fields = ['sid', 'cid'];
  get sid() {
    return this.parameter1;
  }
  get cid() {
    return this.parameter2;
  }
}

export class ClearChannelResponse extends CaMessage {
  readonly type = 'ClearChannelResponse';
  readonly direction = 'response';
  readonly fields = ['sid', 'cid'];
  get sid() {
    return this.parameter1;
  }
  get cid() {
    return this.parameter2;
  }
}

/** RSRV_IS_UP. The address is 0 from current RSRV; the caRepeater fills in the source. */
export class Beacon extends CaMessage {
  readonly type = 'Beacon';
  readonly direction = 'response';
  readonly fields = ['version', 'server_port', 'beacon_id', 'address'];
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
  readonly type = 'RepeaterConfirmResponse';
  readonly direction = 'response';
  readonly fields = ['repeater_address'];
  get repeater_address() {
    return ipToString(this.parameter2);
  }
}

/** Registration with the caRepeater; libca on Linux sends it as an empty datagram (then every field is 0). */
export class RepeaterRegisterRequest extends CaMessage {
  readonly type = 'RepeaterRegisterRequest';
  readonly direction = 'request';
  readonly fields = ['client_address'];
  get client_address() {
    return ipToString(this.parameter2);
  }
  /** true for the zero-length datagram form */
  get empty() {
    return this.headerSize === 0;
  }
}

export class CreateChanRequest extends CaMessage {
  readonly type = 'CreateChanRequest';
  readonly direction = 'request';
  readonly fields = ['name', 'cid', 'version'];
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
  readonly type = 'CreateChanResponse';
  readonly direction = 'response';
  readonly fields = ['data_type', 'data_count', 'cid', 'sid'];
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
  readonly type = 'ClientNameRequest';
  readonly direction = 'request';
  readonly fields = ['name'];
  get name() {
    return this.payloadString();
  }
}

export class HostNameRequest extends CaMessage {
  readonly type = 'HostNameRequest';
  readonly direction = 'request';
  readonly fields = ['name'];
  get name() {
    return this.payloadString();
  }
}

export class AccessRightsResponse extends CaMessage {
  readonly type = 'AccessRightsResponse';
  readonly direction = 'response';
  readonly fields = ['cid', 'access_rights'];
  get cid() {
    return this.parameter1;
  }
  /** bit 0 read, bit 1 write */
  get access_rights() {
    return this.parameter2;
  }
}

export class CreateChFailResponse extends CaMessage {
  readonly type = 'CreateChFailResponse';
  readonly direction = 'response';
  readonly fields = ['cid'];
  get cid() {
    return this.parameter1;
  }
}

export class ServerDisconnResponse extends CaMessage {
  readonly type = 'ServerDisconnResponse';
  readonly direction = 'response';
  readonly fields = ['cid'];
  get cid() {
    return this.parameter1;
  }
}

/** Obsolete commands (SNAPSHOT 5, BUILD 7, READ_BUILD 16, SIGNAL 25): named, shown raw. */
export class ObsoleteMessage extends CaMessage {
  readonly fields = ['data_type', 'data_count', 'parameter1', 'parameter2'];
  constructor(
    readonly type: string,
    readonly direction: Direction,
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

/**
 * Builds the message object for a framed header. `fromClient` is the sender's
 * role, decided by the transport (never from the header alone); `udp` selects
 * the datagram forms of VERSION.
 */
export function decodeMessage(buf: Buffer, off: number, headerSize: number, payloadSize: number, fromClient: boolean, udp: boolean): CaMessage {
  const command = buf.readUInt16BE(off);
  const dt = buf.readUInt16BE(off + 4);
  const dc = headerSize === EXTENDED_HEADER_SIZE ? buf.readUInt32BE(off + 20) : buf.readUInt16BE(off + 6);
  const p1 = buf.readUInt32BE(off + 8);
  const p2 = buf.readUInt32BE(off + 12);
  const po = off + headerSize;
  switch (command) {
    case CMD.VERSION: {
      const m = fromClient
        ? new VersionRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize)
        : new VersionResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
      m.udp = udp;
      return m;
    }
    case CMD.EVENT_ADD:
      if (fromClient) return new EventAddRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
      if (payloadSize === 0) return new EventCancelResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
      return new EventAddResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.EVENT_CANCEL:
      return new EventCancelRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.READ:
      return fromClient
        ? new ReadRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize)
        : new ReadResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.WRITE:
      return new WriteRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.SEARCH:
      return fromClient
        ? new SearchRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize)
        : new SearchResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.EVENTS_OFF:
      return new EventsOffRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.EVENTS_ON:
      return new EventsOnRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.READ_SYNC:
      return fromClient
        ? new ReadSyncRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize)
        : new ReadSyncResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.ERROR:
      return new ErrorResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.CLEAR_CHANNEL:
      return fromClient
        ? new ClearChannelRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize)
        : new ClearChannelResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.RSRV_IS_UP:
      return new Beacon(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.NOT_FOUND:
      return new NotFoundResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.READ_NOTIFY:
      return fromClient
        ? new ReadNotifyRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize)
        : new ReadNotifyResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.REPEATER_CONFIRM:
      return new RepeaterConfirmResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.CREATE_CHAN:
      return fromClient
        ? new CreateChanRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize)
        : new CreateChanResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.WRITE_NOTIFY:
      return fromClient
        ? new WriteNotifyRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize)
        : new WriteNotifyResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.CLIENT_NAME:
      return new ClientNameRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.HOST_NAME:
      return new HostNameRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.ACCESS_RIGHTS:
      return new AccessRightsResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.ECHO:
      return fromClient
        ? new EchoRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize)
        : new EchoResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.REPEATER_REGISTER:
      return new RepeaterRegisterRequest(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.CREATE_CH_FAIL:
      return new CreateChFailResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    case CMD.SERVER_DISCONN:
      return new ServerDisconnResponse(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    default: {
      const base = OBSOLETE[command] ?? `Command${command}`;
      const dir: Direction = fromClient ? 'request' : 'response';
      const type = base + (fromClient ? 'Request' : 'Response');
      return new ObsoleteMessage(type, dir, command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
    }
  }
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
