// Encoders for Channel Access messages, filling the header fields the way libca
// (client side) and RSRV (server side) do (ca-protocol-notes.md §4.1). They are
// read from the message table (protocols/ca/commands.ts): which header word or
// payload offset each field goes to, and the defaults. One helper per class,
// named after caproto's message classes and taking their field names. Typed data
// is passed in already encoded (DBR bytes).

import { MESSAGES, sourceOf, type FieldName, type FieldSource, type HeaderWord, type MessageSpec } from '../../protocols/ca/commands.js';
import { ANY_ADDRESS, DONT_REPLY, DO_REPLY } from '../../protocols/ca/constants.js';
import type { EncodeInput } from '../../protocols/ca/messages.js';
import { ipOf } from './frames.js';


export { DONT_REPLY, DO_REPLY };
/** Search reply address meaning "connect to the datagram's source address". */
export const SEARCH_REPLY_SOURCE_ADDRESS = ANY_ADDRESS;

const HEADER_LEN = 16;
const EXTENDED_HEADER_LEN = 24;
const EXTENDED_MARK = 0xffff;
const NO_PAYLOAD = new Uint8Array(0);

const padded8 = (n: number): number => (n + 7) & ~7;

/**
 * A CA header: 16 bytes, or 24 (extended) when the payload size or element count
 * does not fit the 16-bit fields — then payload_size = 0xFFFF and data_count = 0,
 * followed by the u32 size and u32 count.
 */
export function caHeader(
  command: number,
  payloadSize: number,
  dataType: number,
  dataCount: number,
  p1: number,
  p2: number,
): Buffer {
  const extended = payloadSize >= EXTENDED_MARK || dataCount >= EXTENDED_MARK;
  const header = Buffer.alloc(extended ? EXTENDED_HEADER_LEN : HEADER_LEN);
  writeHeader(header, command, payloadSize, dataType, dataCount, p1, p2);
  return header;
}

function writeHeader(
  out: Buffer,
  command: number,
  payloadSize: number,
  dataType: number,
  dataCount: number,
  p1: number,
  p2: number,
): void {
  const extended = out.length >= EXTENDED_HEADER_LEN;
  out.writeUInt16BE(command, 0);
  out.writeUInt16BE(extended ? EXTENDED_MARK : payloadSize, 2);
  out.writeUInt16BE(dataType, 4);
  out.writeUInt16BE(extended ? 0 : dataCount, 6);
  out.writeUInt32BE(p1 >>> 0, 8);
  out.writeUInt32BE(p2 >>> 0, 12);
  if (extended) {
    out.writeUInt32BE(payloadSize, 16);
    out.writeUInt32BE(dataCount, 20);
  }
}

/** Header + payload zero-padded to a multiple of 8, in one buffer. */
export function caMessage(
  command: number,
  dataType: number,
  dataCount: number,
  p1: number,
  p2: number,
  payload: Uint8Array = NO_PAYLOAD,
): Buffer {
  const payloadSize = padded8(payload.length);
  const headerLen = payloadSize >= EXTENDED_MARK || dataCount >= EXTENDED_MARK ? EXTENDED_HEADER_LEN : HEADER_LEN;
  const message = Buffer.alloc(headerLen + payloadSize);
  writeHeader(message.subarray(0, headerLen), command, payloadSize, dataType, dataCount, p1, p2);
  message.set(payload, headerLen);
  return message;
}

/** A string as CA sends it: bytes + NUL (caMessage pads to 8). */
function nulTerminated(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(bytes.length + 1);
  bytes.copy(out);
  return out;
}

// ---- from the table -------------------------------------------------------------

/** A class's fields as the encoder reads them (EncodeInput of that class). */
type Fields = Readonly<Record<string, unknown>>;

/** How one class is written: its command, each header word from the fields, and its payload. */
interface ClassEncoder {
  command: number;
  /** data_type, data_count, parameter1, parameter2 */
  words: readonly ((f: Fields) => number)[];
  payload: (f: Fields) => Uint8Array;
}

const WORDS: readonly HeaderWord[] = ['data_type', 'data_count', 'parameter1', 'parameter2'];

function classEncoder(m: MessageSpec): ClassEncoder {
  const fields = Object.entries(m.fields).map(([name, spec]): [FieldName, FieldSource] => [name as FieldName, sourceOf(spec!)]);
  const value = (f: Fields, name: FieldName): unknown => f[name] ?? m.defaults?.[name];
  const words = WORDS.map((word): ((f: Fields) => number) => {
    const field = fields.find(([, s]) => s === word || (typeof s === 'object' && 'ip' in s && s.ip === word));
    if (field !== undefined) {
      const [name, source] = field;
      return typeof source === 'object' ? (f) => ipOf(value(f, name) as string | number) : (f) => value(f, name) as number;
    }
    const copied = m.copies?.[word];
    return copied !== undefined ? (f) => value(f, copied) as number : () => 0;
  });
  return { command: m.command, words, payload: payloadEncoder(m, fields, value) };
}

/** The payload: fields at offsets in a fixed-size payload, or the variable parts in field order. */
function payloadEncoder(m: MessageSpec, fields: readonly [FieldName, FieldSource][], value: (f: Fields, name: FieldName) => unknown): (f: Fields) => Uint8Array {
  const size = m.payloadSize;
  if (size !== undefined) {
    const at = fields.flatMap(([name, s]) => (typeof s === 'object' && 'u16' in s ? [[name, s.u16] as const] : []));
    return (f) => {
      const payload = Buffer.alloc(size);
      for (const [name, offset] of at) payload.writeUInt16BE(value(f, name) as number, offset);
      return payload;
    };
  }
  const parts = fields.flatMap(([name, s]): ((f: Fields) => Uint8Array)[] => {
    switch (s) {
      case 'text':
      case 'error-text':
        return [(f) => nulTerminated(value(f, name) as string)];
      case 'error-header':
        return [(f) => embeddedHeader(value(f, name) as Uint8Array)];
      case 'dbr':
        return name === 'data' ? [(f) => f.payload as Uint8Array] : []; // metadata is in the same bytes
    }
    return [];
  });
  if (parts.length === 0) return () => NO_PAYLOAD;
  if (parts.length === 1) return parts[0]!;
  return (f) => Buffer.concat(parts.map((part) => part(f)));
}

/**
 * The offending request's header, as an ERROR embeds it: `request` may be the
 * whole message, only its header (16 or 24 bytes) is kept.
 */
function embeddedHeader(bytes: Uint8Array): Buffer {
  const request = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (request.length < HEADER_LEN) throw new RangeError('ERROR must embed a complete CA header');
  const isExtended =
    request.length >= EXTENDED_HEADER_LEN && request.readUInt16BE(2) === EXTENDED_MARK && request.readUInt16BE(6) === 0;
  return request.subarray(0, isExtended ? EXTENDED_HEADER_LEN : HEADER_LEN);
}

const ENCODERS = new Map<string, ClassEncoder>(MESSAGES.map((m) => [m.type, classEncoder(m)]));

/**
 * A message of class `type` from its fields, each written where the table says;
 * `udp` writes VERSION's datagram form (data_type 1: parameter1 is the sequence number).
 */
export function encodeMessage<T extends keyof EncodeInput>(type: T, fields: EncodeInput[T], udp = false): Buffer {
  const e = ENCODERS.get(type)!;
  const f = fields as Fields;
  const [dataType, dataCount, p1, p2] = e.words.map((word) => word(f)) as [number, number, number, number];
  return caMessage(e.command, udp ? 1 : dataType, dataCount, p1, p2, e.payload(f));
}

const encoder =
  <T extends keyof EncodeInput>(type: T) =>
  (fields: EncodeInput[T]): Buffer =>
    encodeMessage(type, fields);

// ---- VERSION (0) --------------------------------------------------------------

/**
 * TCP form `(priority, minor, 0, 0)`; with `seq` the UDP form libca puts first
 * in every search datagram: `(1 = "seq valid", minor, seq, 0)`.
 */
export function versionRequest(f: { version: number; priority?: number; seq?: number }): Buffer {
  if (f.seq !== undefined) {
    if (f.priority !== undefined) throw new TypeError('VERSION over UDP carries a seq, not a priority');
    return encodeMessage('VersionRequest', { version: f.version, sequence: f.seq }, true);
  }
  return encodeMessage('VersionRequest', { version: f.version, priority: f.priority });
}

/** TCP `(0, minor, 0, 0)`; with `seq` RSRV's UDP form `(1, minor, seq copied from the request, 0)`. */
export function versionResponse(f: { version: number; seq?: number }): Buffer {
  return encodeMessage('VersionResponse', { version: f.version, sequence: f.seq }, f.seq !== undefined);
}

// ---- the other classes (their header layouts: protocols/ca/commands.ts) ----------

export const searchRequest = encoder('SearchRequest');
export const searchResponse = encoder('SearchResponse');
export const notFoundResponse = encoder('NotFoundResponse');
export const createChanRequest = encoder('CreateChanRequest');
export const createChanResponse = encoder('CreateChanResponse');
export const createChFailResponse = encoder('CreateChFailResponse');
export const accessRightsResponse = encoder('AccessRightsResponse');
export const clientNameRequest = encoder('ClientNameRequest');
export const hostNameRequest = encoder('HostNameRequest');
export const clearChannelRequest = encoder('ClearChannelRequest');
export const clearChannelResponse = encoder('ClearChannelResponse');
export const serverDisconnResponse = encoder('ServerDisconnResponse');
export const readNotifyRequest = encoder('ReadNotifyRequest');
export const readNotifyResponse = encoder('ReadNotifyResponse');
export const readRequest = encoder('ReadRequest');
export const readResponse = encoder('ReadResponse');
export const writeRequest = encoder('WriteRequest');
export const writeNotifyRequest = encoder('WriteNotifyRequest');
export const writeNotifyResponse = encoder('WriteNotifyResponse');
export const eventAddRequest = encoder('EventAddRequest');
export const eventAddResponse = encoder('EventAddResponse');
export const eventCancelRequest = encoder('EventCancelRequest');
export const eventCancelResponse = encoder('EventCancelResponse');
export const errorResponse = encoder('ErrorResponse');
export const beacon = encoder('Beacon');
export const repeaterRegisterRequest = encoder('RepeaterRegisterRequest');
export const repeaterConfirmResponse = encoder('RepeaterConfirmResponse');

export const eventsOffRequest = (): Buffer => encodeMessage('EventsOffRequest', {});
export const eventsOnRequest = (): Buffer => encodeMessage('EventsOnRequest', {});
export const echoRequest = (): Buffer => encodeMessage('EchoRequest', {});
export const echoResponse = (): Buffer => encodeMessage('EchoResponse', {});
export const readSyncRequest = (): Buffer => encodeMessage('ReadSyncRequest', {});
export const readSyncResponse = (): Buffer => encodeMessage('ReadSyncResponse', {});
