// Small captures built in a test with the project's own writer.

import { CaptureWriter, timestampFromSeconds, type CaptureWriterOptions } from '../../src/synth/capture-writer.js';
import { IP_PROTO_UDP, ipv4Packet, linkFrame, udpDatagram, type Endpoint, type LinkFrameOptions } from '../../src/synth/frames.js';
import { TcpSession, type TcpSessionOptions } from '../../src/synth/tcp-session.js';

export const EPOCH = 1_700_000_000;

export class CaptureBuilder {
  private readonly writer: CaptureWriter;
  private readonly linkType: number;

  constructor(
    opts: Partial<CaptureWriterOptions> = {},
    private readonly link: LinkFrameOptions = {},
  ) {
    this.linkType = opts.linkType ?? 1;
    this.writer = new CaptureWriter({ format: 'pcap', ...opts, linkType: this.linkType });
  }

  /** Writes one IPv4 packet at `t` seconds after EPOCH. */
  ip(t: number, packet: Uint8Array): void {
    const { sec, nsec } = timestampFromSeconds(t);
    this.writer.writePacket(EPOCH + sec, nsec, linkFrame(this.linkType, packet, this.link));
  }

  /** One UDP datagram carrying the given CA messages. */
  udp(t: number, src: Endpoint, dst: Endpoint, ...messages: Buffer[]): void {
    this.ip(t, ipv4Packet(src.ip, dst.ip, IP_PROTO_UDP, udpDatagram(src, dst, Buffer.concat(messages))));
  }

  /** A TCP connection whose packets go into this capture. */
  tcp(client: Endpoint, server: Endpoint, opts: Partial<TcpSessionOptions> = {}): TcpSession {
    return new TcpSession({ client, server, epochSec: EPOCH, ...opts }, (sec, nsec, packet) => {
      this.writer.writePacket(sec, nsec, linkFrame(this.linkType, packet, this.link));
    });
  }

  bytes(): Buffer {
    return this.writer.toBuffer();
  }
}
