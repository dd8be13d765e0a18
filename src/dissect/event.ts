// One decoded CA message with where and when it was seen.

import { ipToString } from '../../protocols/ca/ip.js';
import type { CaMessage, Direction } from '../../protocols/ca/messages.js';
import { unixSeconds } from '../capture/types.js';
import type { TcpCircuit } from './circuits.js';

export type Transport = 'tcp' | 'udp';

export class CaEvent {
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
    readonly command: CaMessage,
    /** PV name the message concerns, learned from the circuit's CreateChan or the client's search */
    readonly pv: string | undefined,
    /** the TCP virtual circuit, for TCP messages */
    readonly circuit: TcpCircuit | undefined,
  ) {}

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
  /** caproto class name of the message */
  get type(): string {
    return this.command.type;
  }
}
