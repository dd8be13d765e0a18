// TCP virtual circuits: the two directions of a connection, who is client and
// server, and the facts the reports need (handshake, bytes, how it ended).

import { CircuitState } from '../../protocols/ca/circuit.js';
import { StreamFramer } from '../../protocols/ca/framing.js';
import { ipToString } from '../../protocols/ca/ip.js';
import { TcpStream, type StreamConsumer } from '../net/tcp.js';

export type Closer = 'client' | 'server';

/** One direction of a circuit: reassembly feeding CA framing. */
export class Half implements StreamConsumer {
  stream!: TcpStream;
  framer!: StreamFramer<Half>;
  /** CA bytes framed into messages, and messages */
  caMessages = 0;
  /** bytes on the wire (frames) and TCP payload bytes in this direction */
  wireBytes = 0;
  fin = false;

  constructor(
    readonly circuit: TcpCircuit,
    readonly fromClient: boolean,
  ) {}

  data(buf: Buffer, off: number, len: number): void {
    this.framer.push(buf, off, len);
  }
  gap(): void {
    this.framer.gap();
  }
}

export class TcpCircuit {
  readonly ca: CircuitState;
  readonly toServer: Half;
  readonly toClient: Half;
  /** capture times (Unix seconds, float) */
  firstSeen: number;
  lastSeen: number;
  synTime?: number;
  synAckTime?: number;
  synFrame?: number;
  synAckFrame?: number;
  endTime?: number;
  /** frame of the RST, or of the FIN that completed the close */
  endFrame?: number;
  /** how the circuit ended; undefined while open */
  endedBy?: 'fin' | 'rst';
  closer?: Closer;
  rstBy?: Closer;
  /** how the client/server roles were decided */
  roleEvidence: 'syn' | 'server-port' | 'content' | 'port-order';

  constructor(
    readonly id: number,
    readonly clientIp: number,
    readonly clientPort: number,
    readonly serverIp: number,
    readonly serverPort: number,
    now: number,
    roleEvidence: TcpCircuit['roleEvidence'],
    ca: CircuitState,
  ) {
    this.firstSeen = now;
    this.lastSeen = now;
    this.roleEvidence = roleEvidence;
    this.ca = ca;
    this.toServer = new Half(this, true);
    this.toClient = new Half(this, false);
  }

  get client(): string {
    return `${ipToString(this.clientIp)}:${this.clientPort}`;
  }
  get server(): string {
    return `${ipToString(this.serverIp)}:${this.serverPort}`;
  }
  get closed(): boolean {
    return this.endedBy === 'rst' || (this.toServer.fin && this.toClient.fin);
  }
  /** SYN -> SYN-ACK round trip in seconds, when both were captured */
  get handshakeRtt(): number | undefined {
    return this.synTime !== undefined && this.synAckTime !== undefined ? this.synAckTime - this.synTime : undefined;
  }
}

/** Numeric key of an endpoint: ip * 65536 + port (exact in a double). */
export function endpointKey(ip: number, port: number): number {
  return ip * 65536 + port;
}
