// Contracts between the capture stage and the stages after it.

/** A packet's capture time (tsSec, tsNsec) as float Unix seconds (microsecond-exact for captures made today). */
export function unixSeconds(tsSec: number, tsNsec: number): number {
  return tsSec + tsNsec / 1e9;
}

/**
 * Receives every captured packet, in file order. `data` is a view into the
 * reader's current chunk: it is valid only during the call; a consumer that
 * keeps bytes must copy them.
 */
export interface PacketSink {
  packet(
    frame: number, // 1-based frame number, as Wireshark counts
    linkType: number, // LINKTYPE_* of the packet's interface
    tsSec: number, // Unix seconds (integer)
    tsNsec: number, // nanoseconds 0..999,999,999 (integer)
    data: Buffer,
    offset: number, // first byte of the link-layer frame in `data`
    capLen: number, // bytes captured
    origLen: number, // length on the wire
  ): void;
}

/** Input that cannot be read as a capture at all (exit status 2 in the CLI). */
export class CaptureError extends Error {
  override name = 'CaptureError';
}

export interface CaptureStats {
  format: 'pcap' | 'pcapng' | 'unknown';
  gzip: boolean;
  /** pcap: 'us' or 'ns'; pcapng: resolution of the first interface */
  precision: 'us' | 'ns' | 'other';
  /** fraction digits of its timestamps: pcap 6 (µs) or 9 (ns); pcapng the finest of its interfaces' if_tsresol (at most 9) */
  timeDigits?: number;
  packets: number;
  bytes: number; // capture bytes consumed (after gunzip)
  /**
   * Set when the file ends in the middle of a record, or a corrupt record ends
   * the reading: the record at `atByte` is not read; it would have been frame
   * `frame`, so the last frame read is frame - 1.
   */
  truncated?: { atByte: number; frame: number; reason: string };
  /** set when the read was stopped on purpose before the input's end (the CLI: by a signal): what stopped it, e.g. 'SIGINT' */
  stoppedBy?: string;
  /** the read was ended where its window ended (`--duration`, `--until`: stoppedBy names it), not by a signal */
  stoppedAtWindow?: boolean;
  /** pcapng blocks skipped because their type is unknown or unused */
  skippedBlocks: number;
  /** packets on interfaces whose link type cannot be decoded, by link type */
  unsupportedLink: Map<number, number>;
}
