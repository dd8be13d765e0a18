// The CA message classes, one per command and sender, with caproto's class and
// field names. They are generated (messages.generated.ts) from the table in
// commands.ts; this module adds their union type and decodeMessage.

import { CMD, EXTENDED_HEADER_SIZE } from './constants.js';
import { CaMessageBase } from './message-base.js';
import {
  CLASSES_BY_COMMAND,
  OBSOLETE_NAMES,
  ObsoleteMessage,
  RepeaterRegisterRequest,
  type MessageClasses,
  type MessageType,
  type ObsoleteType,
  type VersionRequest,
  type VersionResponse,
} from './messages.generated.js';
import { u16be, u32be } from '../bytes.js';

export { CaMessageBase, DataMessage, cString, type Direction, type EmbeddedHeader } from './message-base.js';
export * from './messages.generated.js';

/**
 * The message class of a type name: `CaMessageOf<'ReadNotifyResponse'>` is
 * ReadNotifyResponse; an obsolete command's name is ObsoleteMessage.
 */
export type CaMessageOf<T extends MessageType> = T extends keyof MessageClasses ? MessageClasses[T] : ObsoleteMessage;

/**
 * Any CA message: the union of the message classes, which narrows by `type`
 * (`if (m.type === 'ReadNotifyResponse') m.data`). Its bytes stay valid as long
 * as the message (CaMessageBase says how). As a value, `CaMessage` is the classes'
 * base class (for `instanceof`).
 */
export type CaMessage = MessageClasses[keyof MessageClasses] | ObsoleteMessage;
export const CaMessage = CaMessageBase;

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
  const classes = CLASSES_BY_COMMAND[command];
  if (!classes) {
    const type = ((OBSOLETE_NAMES[command] ?? `Command${command}`) + (fromClient ? 'Request' : 'Response')) as ObsoleteType;
    return new ObsoleteMessage(type, command, payloadSize, dt, dc, p1, p2, buf, po, headerSize);
  }
  // A server's empty message may be another class: the empty EVENT_ADD reply confirms a cancel (EventCancelResponse).
  const cls = fromClient ? classes[0] : payloadSize === 0 ? classes[2] : classes[1];
  const m = new cls(command, payloadSize, dt, dc, p1, p2, buf, po, headerSize) as CaMessage;
  if (udp && command === CMD.VERSION) (m as VersionRequest | VersionResponse).udp = true;
  return m;
}

const EMPTY = Buffer.alloc(0);

/** The zero-length datagram libca sends to the repeater port to register. */
export function emptyRegistration(): RepeaterRegisterRequest {
  return new RepeaterRegisterRequest(CMD.REPEATER_REGISTER, 0, 0, 0, 0, 0, EMPTY, 0, 0);
}
