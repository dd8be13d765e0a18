// Encoders for Channel Access messages, filling the header fields the way libca
// (client side) and RSRV (server side) do (ca-protocol-notes.md §4.1). One
// helper per command, named after caproto's message classes and using their
// field names. Typed data is passed in already encoded (DBR bytes).

import { ANY_ADDRESS, CMD, DONT_REPLY, DO_REPLY } from '../../protocols/ca/constants.js';
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

// ---- VERSION (0) --------------------------------------------------------------

/**
 * TCP form `(priority, minor, 0, 0)`; with `seq` the UDP form libca puts first
 * in every search datagram: `(1 = "seq valid", minor, seq, 0)`.
 */
export function versionRequest(f: { version: number; priority?: number; seq?: number }): Buffer {
  if (f.seq !== undefined) {
    if (f.priority !== undefined) throw new TypeError('VERSION over UDP carries a seq, not a priority');
    return caMessage(CMD.VERSION, 1, f.version, f.seq, 0);
  }
  return caMessage(CMD.VERSION, f.priority ?? 0, f.version, 0, 0);
}

/** TCP `(0, minor, 0, 0)`; with `seq` RSRV's UDP form `(1, minor, seq copied from the request, 0)`. */
export function versionResponse(f: { version: number; seq?: number }): Buffer {
  return f.seq !== undefined
    ? caMessage(CMD.VERSION, 1, f.version, f.seq, 0)
    : caMessage(CMD.VERSION, 0, f.version, 0, 0);
}

// ---- name resolution ----------------------------------------------------------

/** `(reply flag, client minor, cid, cid | name)`; libca always sends DONT_REPLY. */
export function searchRequest(f: { name: string; cid: number; version: number; reply?: number }): Buffer {
  return caMessage(CMD.SEARCH, f.reply ?? DONT_REPLY, f.version, f.cid, f.cid, nulTerminated(f.name));
}

/** UDP reply `(server port, 0, server ip, cid | u16 server minor + 6 zero bytes)`. */
export function searchResponse(f: { port: number; ip?: string | number; cid: number; version: number }): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt16BE(f.version, 0);
  const ip = f.ip === undefined ? SEARCH_REPLY_SOURCE_ADDRESS : ipOf(f.ip);
  return caMessage(CMD.SEARCH, f.port, 0, ip, f.cid, payload);
}

/** RSRV echoes the DO_REPLY search header: `(10, client minor, cid, cid)`. */
export function notFoundResponse(f: { version: number; cid: number }): Buffer {
  return caMessage(CMD.NOT_FOUND, DO_REPLY, f.version, f.cid, f.cid);
}

// ---- circuit setup ------------------------------------------------------------

/** `(0, 0, cid, client minor | name)`. */
export function createChanRequest(f: { name: string; cid: number; version: number }): Buffer {
  return caMessage(CMD.CREATE_CHAN, 0, 0, f.cid, f.version, nulTerminated(f.name));
}

/** `(native type, native count, cid, sid)`. */
export function createChanResponse(f: { data_type: number; data_count: number; cid: number; sid: number }): Buffer {
  return caMessage(CMD.CREATE_CHAN, f.data_type, f.data_count, f.cid, f.sid);
}

export function createChFailResponse(f: { cid: number }): Buffer {
  return caMessage(CMD.CREATE_CH_FAIL, 0, 0, f.cid, 0);
}

/** `(0, 0, cid, rights)`: bit 0 read, bit 1 write. */
export function accessRightsResponse(f: { cid: number; access_rights: number }): Buffer {
  return caMessage(CMD.ACCESS_RIGHTS, 0, 0, f.cid, f.access_rights);
}

export function clientNameRequest(f: { name: string }): Buffer {
  return caMessage(CMD.CLIENT_NAME, 0, 0, 0, 0, nulTerminated(f.name));
}

export function hostNameRequest(f: { name: string }): Buffer {
  return caMessage(CMD.HOST_NAME, 0, 0, 0, 0, nulTerminated(f.name));
}

/** `(0, 0, sid, cid)`. */
export function clearChannelRequest(f: { sid: number; cid: number }): Buffer {
  return caMessage(CMD.CLEAR_CHANNEL, 0, 0, f.sid, f.cid);
}

/** RSRV echoes the request header. */
export function clearChannelResponse(f: { sid: number; cid: number }): Buffer {
  return caMessage(CMD.CLEAR_CHANNEL, 0, 0, f.sid, f.cid);
}

/** PCAS only: `(0, 0, cid, 0)`. */
export function serverDisconnResponse(f: { cid: number }): Buffer {
  return caMessage(CMD.SERVER_DISCONN, 0, 0, f.cid, 0);
}

// ---- get / put ----------------------------------------------------------------

interface TypedFields {
  data_type: number;
  data_count: number;
}

/** `(type, count, sid, ioid)`. */
export function readNotifyRequest(f: TypedFields & { sid: number; ioid: number }): Buffer {
  return caMessage(CMD.READ_NOTIFY, f.data_type, f.data_count, f.sid, f.ioid);
}

/** `(type, count, ECA status, ioid | data)`. */
export function readNotifyResponse(
  f: TypedFields & { status: number; ioid: number; payload: Uint8Array },
): Buffer {
  return caMessage(CMD.READ_NOTIFY, f.data_type, f.data_count, f.status, f.ioid, f.payload);
}

/** Legacy READ `(type, count, sid, ioid)`. */
export function readRequest(f: TypedFields & { sid: number; ioid: number }): Buffer {
  return caMessage(CMD.READ, f.data_type, f.data_count, f.sid, f.ioid);
}

/** Legacy READ reply: RSRV puts the channel's CID in p1. */
export function readResponse(f: TypedFields & { cid: number; ioid: number; payload: Uint8Array }): Buffer {
  return caMessage(CMD.READ, f.data_type, f.data_count, f.cid, f.ioid, f.payload);
}

/** `(type, count, sid, cid | data)`: libca puts the CID, not an ioid, in p2. */
export function writeRequest(f: TypedFields & { sid: number; cid: number; payload: Uint8Array }): Buffer {
  return caMessage(CMD.WRITE, f.data_type, f.data_count, f.sid, f.cid, f.payload);
}

/** `(type, count, sid, ioid | data)`. */
export function writeNotifyRequest(f: TypedFields & { sid: number; ioid: number; payload: Uint8Array }): Buffer {
  return caMessage(CMD.WRITE_NOTIFY, f.data_type, f.data_count, f.sid, f.ioid, f.payload);
}

/** `(type, count, ECA status, ioid)`, no payload. */
export function writeNotifyResponse(f: TypedFields & { status: number; ioid: number }): Buffer {
  return caMessage(CMD.WRITE_NOTIFY, f.data_type, f.data_count, f.status, f.ioid);
}

// ---- subscriptions ------------------------------------------------------------

/** `(type, count, sid, subid | f32 low, high, to (all 0), u16 mask, u16 pad)`. */
export function eventAddRequest(
  f: TypedFields & { sid: number; subscriptionid: number; mask: number },
): Buffer {
  const payload = Buffer.alloc(16);
  payload.writeUInt16BE(f.mask, 12);
  return caMessage(CMD.EVENT_ADD, f.data_type, f.data_count, f.sid, f.subscriptionid, payload);
}

/** An update: `(type, count, ECA status, subid | data)`. */
export function eventAddResponse(
  f: TypedFields & { status: number; subscriptionid: number; payload: Uint8Array },
): Buffer {
  return caMessage(CMD.EVENT_ADD, f.data_type, f.data_count, f.status, f.subscriptionid, f.payload);
}

/** `(type, count, sid, subid)`, copies of the EVENT_ADD. */
export function eventCancelRequest(f: TypedFields & { sid: number; subscriptionid: number }): Buffer {
  return caMessage(CMD.EVENT_CANCEL, f.data_type, f.data_count, f.sid, f.subscriptionid);
}

/** The cancel-confirm is command 1 (EVENT_ADD) with no payload; RSRV keeps type, count and SID. */
export function eventCancelResponse(f: TypedFields & { sid: number; subscriptionid: number }): Buffer {
  return caMessage(CMD.EVENT_ADD, f.data_type, f.data_count, f.sid, f.subscriptionid);
}

export function eventsOffRequest(): Buffer {
  return caMessage(CMD.EVENTS_OFF, 0, 0, 0, 0);
}

export function eventsOnRequest(): Buffer {
  return caMessage(CMD.EVENTS_ON, 0, 0, 0, 0);
}

// ---- liveness and errors ------------------------------------------------------

export function echoRequest(): Buffer {
  return caMessage(CMD.ECHO, 0, 0, 0, 0);
}

export function echoResponse(): Buffer {
  return caMessage(CMD.ECHO, 0, 0, 0, 0);
}

export function readSyncRequest(): Buffer {
  return caMessage(CMD.READ_SYNC, 0, 0, 0, 0);
}

/**
 * `(0, 0, cid, ECA status | offending header + message + NUL)`. `request` may be
 * the whole offending message: only its header (16 or 24 bytes) is embedded.
 */
export function errorResponse(f: { cid: number; status: number; request: Uint8Array; message: string }): Buffer {
  const request = Buffer.from(f.request.buffer, f.request.byteOffset, f.request.byteLength);
  if (request.length < HEADER_LEN) throw new RangeError('ERROR must embed a complete CA header');
  const isExtended =
    request.length >= EXTENDED_HEADER_LEN && request.readUInt16BE(2) === EXTENDED_MARK && request.readUInt16BE(6) === 0;
  const header = request.subarray(0, isExtended ? EXTENDED_HEADER_LEN : HEADER_LEN);
  const text = nulTerminated(f.message);
  const payload = Buffer.alloc(header.length + text.length);
  header.copy(payload, 0);
  text.copy(payload, header.length);
  return caMessage(CMD.ERROR, 0, 0, f.cid, f.status, payload);
}

// ---- UDP: beacons and the repeater --------------------------------------------

/** `(server minor, server TCP port, beacon id, address)`; current RSRV sends address 0. */
export function beacon(f: { version: number; server_port: number; beacon_id: number; address?: string | number }): Buffer {
  return caMessage(CMD.RSRV_IS_UP, f.version, f.server_port, f.beacon_id, ipOf(f.address ?? 0));
}

/** `(0, 0, 0, client address)` (libca usually sends an empty datagram instead). */
export function repeaterRegisterRequest(f: { client_address: string | number }): Buffer {
  return caMessage(CMD.REPEATER_REGISTER, 0, 0, 0, ipOf(f.client_address));
}

/** `(0, 0, 0, address the repeater saw the client at)`. */
export function repeaterConfirmResponse(f: { repeater_address: string | number }): Buffer {
  return caMessage(CMD.REPEATER_CONFIRM, 0, 0, 0, ipOf(f.repeater_address));
}
