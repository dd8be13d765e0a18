// One decoded CA message with where and when it was seen.

import { ipToString } from '../../protocols/ca/ip.js';
import type { CaMessage, CaMessageBase, CaMessageOf, Direction, MessageType } from '../../protocols/ca/messages.js';
import { unixSeconds } from '../capture/types.js';
import type { TcpCircuit } from './circuits.js';

export type Transport = 'tcp' | 'udp';

/** An event carrying a message of class M; `CaEvent` is the union of these over the classes. */
export class CaEventBase<M extends CaMessageBase = CaMessage> {
  constructor(
    /** capture time: Unix seconds and nanoseconds */
    readonly tsSec: number,
    readonly tsNsec: number,
    /** 1-based frame number of the packet that completed the message */
    readonly frame: number,
    readonly srcIp: number,
    readonly sport: number,
    readonly dstIp: number,
    readonly dport: number,
    readonly transport: Transport,
    /** the message (its bytes stay valid as long as it: see CaMessageBase) */
    readonly command: M,
    /** PV name the message concerns, learned from the circuit's CreateChan or the client's search */
    readonly pv: string | undefined,
    /** the TCP virtual circuit, for TCP messages */
    readonly circuit: TcpCircuit | undefined,
  ) {}

  /** the protocol the message is of (a getter on the prototype: no per-event cost) */
  get protocol(): 'ca' {
    return 'ca';
  }
  /** Unix seconds as a float (microsecond-exact for captures made today) */
  get timestamp(): number {
    return unixSeconds(this.tsSec, this.tsNsec);
  }
  get src(): string {
    return ipToString(this.srcIp);
  }
  get dst(): string {
    return ipToString(this.dstIp);
  }
  get direction(): Direction {
    return this.command.direction;
  }
  /** caproto class name of the message: narrows the event (`if (ev.type === 'ReadNotifyResponse') ev.command.data`) */
  get type(): M['type'] {
    return this.command.type;
  }
}

type EventOfEach<M> = M extends CaMessageBase ? CaEventBase<M> : never;

/**
 * One CA message with where and when it was seen: a union over the message
 * classes, which narrows by `type`: `if (ev.type === 'ReadNotifyResponse')
 * ev.command.data`. The message's bytes stay valid as long as it (CaMessageBase).
 */
export type CaEvent = EventOfEach<CaMessage>;

/** The event of one message type: `CaEventOf<'ReadNotifyResponse'>` has `command: ReadNotifyResponse`. */
export type CaEventOf<T extends MessageType> = EventOfEach<CaMessageOf<T>>;

/** The events' class (for `new` and `instanceof`): it makes a `CaEvent`. */
export const CaEvent = CaEventBase as {
  new (
    tsSec: number,
    tsNsec: number,
    frame: number,
    srcIp: number,
    sport: number,
    dstIp: number,
    dport: number,
    transport: Transport,
    command: CaMessage,
    pv: string | undefined,
    circuit: TcpCircuit | undefined,
  ): CaEvent;
  readonly prototype: CaEventBase;
};
