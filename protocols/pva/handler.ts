// A pvAccess handler stub (src/dissect/protocol.ts): claims pvAccess traffic (TCP
// 5075, UDP 5075/5076, or content that frames as pvAccess on other ports), frames
// it into messages and counts them by kind and command. No events: cawire decodes
// CA; the counts let the end-of-run note say pvAccess was there.

import type { Half, TcpCircuit } from '../../src/dissect/circuits.js';
import type { HandlerContext, ProtocolHandler, Role, StreamHandler } from '../../src/dissect/protocol.js';
import type { ProtocolCounts } from '../../src/dissect/stats.js';
import {
  FLAG_CONTROL,
  FLAG_FROM_SERVER,
  PVA_HEADER_SIZE,
  PvaStreamFramer,
  framePvaDatagram,
  newPvaHeader,
  plausiblePvaHeader,
  readPvaHeader,
  type PvaHeader,
  type PvaSink,
} from './framing.js';

/** EPICS_PVA_SERVER_PORT and EPICS_PVA_BROADCAST_PORT defaults (pva-framing-notes: Ports). */
export const PVA_SERVER_PORT = 5075;
export const PVA_BROADCAST_PORT = 5076;

/** Largest payload the content heuristic believes (a random 32-bit size word rarely passes it). */
const HEURISTIC_MAX_PAYLOAD = 16 * 1024 * 1024;

/**
 * Whether a payload is pvAccess messages back to back from its first byte to its last (the heuristic: a
 * random payload passes it almost never, as every header must be plausible and the sizes must add up); reads `h`.
 */
function framesAsPva(buf: Buffer, off: number, len: number, h: PvaHeader): boolean {
  const end = off + len;
  if (len < PVA_HEADER_SIZE) return false;
  while (end - off >= PVA_HEADER_SIZE) {
    if (!plausiblePvaHeader(buf, off)) return false;
    readPvaHeader(buf, off, h);
    if (h.payloadSize > HEURISTIC_MAX_PAYLOAD) return false;
    off += PVA_HEADER_SIZE + h.payloadSize;
  }
  return off === end;
}

export class PvaHandler implements ProtocolHandler, PvaSink {
  readonly name = 'pva';
  readonly heuristic = true;
  readonly counts: ProtocolCounts;
  /** messages by (control ? 256 : 0) + command */
  private readonly byCode = new Float64Array(512);
  private readonly h = newPvaHeader();

  constructor(ctx: HandlerContext) {
    this.counts = ctx.stats.protocols.pva = { label: 'pvAccess', ports: 'TCP 5075, UDP 5075/5076', messages: 0, byCommand: {}, malformed: 0 };
  }

  isServerEndpoint(_ip: number, port: number): boolean {
    return port === PVA_SERVER_PORT;
  }

  /**
   * The first header's direction flag says who sent it, once the payload frames as pvAccess (a segment
   * ending inside a message does not tell: a later one of the circuit, ending on a message, will).
   */
  senderRole(buf: Buffer, off: number, len: number): Role | undefined {
    if (!framesAsPva(buf, off, len, this.h)) return undefined;
    return buf[off + 2]! & FLAG_FROM_SERVER ? 'server' : 'client';
  }

  circuitState(_c: TcpCircuit): object {
    return {};
  }

  stream(_half: Half): StreamHandler {
    return new PvaStreamFramer(this);
  }

  datagram(_srcIp: number, sport: number, _dstIp: number, dport: number, buf: Buffer, off: number, len: number): boolean {
    const onPorts = dport === PVA_BROADCAST_PORT || dport === PVA_SERVER_PORT || sport === PVA_BROADCAST_PORT || sport === PVA_SERVER_PORT;
    if (!onPorts && !framesAsPva(buf, off, len, this.h)) return false;
    framePvaDatagram(this, buf, off, len, this.h);
    return true;
  }

  // PvaSink: what the framers found.
  message(h: PvaHeader): void {
    this.counts.messages++;
    this.byCode[(h.flags & FLAG_CONTROL ? 256 : 0) + h.command]++;
  }
  malformed(bytes: number): void {
    this.counts.malformed += bytes;
  }

  finish(): void {
    const by: Record<string, number> = {};
    for (let i = 0; i < this.byCode.length; i++) if (this.byCode[i]) by[`${i >= 256 ? 'ctrl' : 'app'} ${i & 255}`] = this.byCode[i]!;
    this.counts.byCommand = by;
  }
}

export const pvaProtocol = (ctx: HandlerContext): PvaHandler => new PvaHandler(ctx);
