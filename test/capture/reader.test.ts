import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CaptureParser } from '../../src/capture/reader.js';
import { CaptureError } from '../../src/capture/types.js';
import {
  block,
  collectingSink,
  enhancedPacket,
  ethernetIpv4,
  interfaceDescription,
  obsoletePacket,
  parseInChunks,
  pcapFile,
  sectionHeader,
  simplePacket,
} from './build-capture.js';

const frameA = ethernetIpv4(0xa1);
const frameB = ethernetIpv4(0xb2, 100);
const frameC = ethernetIpv4(0xc3, 3);

describe('classic pcap', () => {
  for (const le of [true, false]) {
    it(`reads microsecond records (${le ? 'little' : 'big'}-endian)`, () => {
      const file = pcapFile({ le }, [
        { sec: 1763888060, frac: 564423, data: frameA },
        { sec: 1763888061, frac: 999999, data: frameB, origLen: 1500 },
      ]);
      const { packets, stats } = parseInChunks(file);
      expect(stats).toMatchObject({ format: 'pcap', precision: 'us', packets: 2, bytes: file.length, gzip: false });
      expect(stats.truncated).toBeUndefined();
      expect(packets.map((p) => [p.frame, p.linkType, p.sec, p.nsec, p.origLen])).toEqual([
        [1, 1, 1763888060, 564423000, frameA.length],
        [2, 1, 1763888061, 999999000, 1500],
      ]);
      expect(packets[0]!.bytes.equals(frameA)).toBe(true);
      expect(packets[1]!.bytes.equals(frameB)).toBe(true);
    });

    it(`reads nanosecond records (${le ? 'little' : 'big'}-endian)`, () => {
      const file = pcapFile({ le, nano: true }, [{ sec: 1763888060, frac: 564423987, data: frameC }]);
      const { packets, stats } = parseInChunks(file);
      expect(stats.precision).toBe('ns');
      expect(packets.map((p) => [p.sec, p.nsec])).toEqual([[1763888060, 564423987]]);
      expect(packets[0]!.bytes.equals(frameC)).toBe(true);
    });
  }

  it('carries an out-of-range fraction into the seconds', () => {
    const us = parseInChunks(pcapFile({}, [{ sec: 10, frac: 2_500_000, data: frameA }])).packets[0]!;
    expect([us.sec, us.nsec]).toEqual([12, 500_000_000]);
    const ns = parseInChunks(pcapFile({ nano: true }, [{ sec: 10, frac: 3_000_000_001, data: frameA }])).packets[0]!;
    expect([ns.sec, ns.nsec]).toEqual([13, 1]);
  });

  it('rejects an unsupported link type, naming it', () => {
    const file = pcapFile({ linkType: 147 }, [{ sec: 1, frac: 0, data: frameA }]);
    expect(() => parseInChunks(file)).toThrowError(
      new CaptureError(
        'unsupported link type 147 (USER0): cawire decodes Ethernet, Linux cooked v1/v2, BSD loopback and raw IPv4',
      ),
    );
  });

  it('hands the link type of the file to the sink', () => {
    const sll = Buffer.concat([Buffer.alloc(14), Buffer.from([0x08, 0x00]), frameA.subarray(14)]);
    const { packets } = parseInChunks(pcapFile({ linkType: 113 }, [{ sec: 1, frac: 0, data: sll }]));
    expect(packets[0]!.linkType).toBe(113);
  });
});

/** Two sections (little- then big-endian), interfaces of several link types and resolutions. */
function twoSectionPcapng(): Buffer {
  return Buffer.concat([
    sectionHeader(true),
    interfaceDescription(true, 1), // default 10^-6
    interfaceDescription(true, 113, { tsresol: 9, snaplen: 65535 }), // ns
    block(true, 0x0bad, Buffer.from('unknown block body')),
    enhancedPacket(true, 0, 1763888060_564423n, frameA),
    enhancedPacket(true, 1, 1763888060_123456789n, frameB, 1514),
    block(true, 5, Buffer.alloc(20)), // interface statistics block
    sectionHeader(false),
    interfaceDescription(false, 1, { tsresol: 0x80 | 20, snaplen: 60 }), // 2^-20 s
    interfaceDescription(false, 1, { tsresol: 3, tsoffset: 1000n }), // ms, +1000 s
    enhancedPacket(false, 0, (1763888061n << 20n) | 524288n, frameC),
    obsoletePacket(false, 1, 1763888062_250n, frameA),
    simplePacket(false, frameB), // interface 0, snaplen 60
  ]);
}

describe('pcapng', () => {
  it('reads sections, interfaces, packet block kinds and resolutions', () => {
    const file = twoSectionPcapng();
    const { packets, stats } = parseInChunks(file);
    expect(stats).toMatchObject({ format: 'pcapng', precision: 'us', packets: 5, bytes: file.length, skippedBlocks: 2 });
    expect(stats.truncated).toBeUndefined();
    expect(packets.map((p) => [p.frame, p.linkType, p.sec, p.nsec, p.bytes.length, p.origLen])).toEqual([
      [1, 1, 1763888060, 564423000, frameA.length, frameA.length],
      [2, 113, 1763888060, 123456789, frameB.length, 1514],
      [3, 1, 1763888061, 500000000, frameC.length, frameC.length],
      [4, 1, 1763888062 + 1000, 250000000, frameA.length, frameA.length],
      [5, 1, 0, 0, 60, frameB.length],
    ]);
    expect(packets[1]!.bytes.equals(frameB)).toBe(true);
    expect(packets[4]!.bytes.equals(frameB.subarray(0, 60))).toBe(true);
  });

  it('reports the first interface resolution as the precision', () => {
    const file = Buffer.concat([sectionHeader(false), interfaceDescription(false, 1, { tsresol: 9 })]);
    expect(parseInChunks(file).stats.precision).toBe('ns');
  });

  it('caps a simple packet at its original length and at the block body', () => {
    const file = Buffer.concat([
      sectionHeader(true),
      interfaceDescription(true, 1),
      simplePacket(true, frameB, 50), // origLen below the bytes present
      simplePacket(true, frameA.subarray(0, 30), 1000), // a truncated packet
    ]);
    const { packets } = parseInChunks(file);
    expect(packets.map((p) => [p.bytes.length, p.origLen])).toEqual([
      [50, 50],
      [32, 1000], // block body padded from 30 to 32 bytes
    ]);
  });

  it('skips packets on unsupported interfaces but keeps counting frames', () => {
    const file = Buffer.concat([
      sectionHeader(true),
      interfaceDescription(true, 189), // USB_LINUX
      interfaceDescription(true, 1),
      enhancedPacket(true, 0, 1n, Buffer.alloc(48)),
      enhancedPacket(true, 1, 2n, frameA),
      enhancedPacket(true, 0, 3n, Buffer.alloc(48)),
    ]);
    const { packets, stats } = parseInChunks(file);
    expect(packets.map((p) => p.frame)).toEqual([2]);
    expect(stats.packets).toBe(3);
    expect([...stats.unsupportedLink]).toEqual([[189, 2]]);
  });

  it('throws at end when no packet is on a supported interface', () => {
    const file = Buffer.concat([
      sectionHeader(true),
      interfaceDescription(true, 189),
      interfaceDescription(true, 147),
      enhancedPacket(true, 0, 1n, Buffer.alloc(48)),
      enhancedPacket(true, 1, 1n, Buffer.alloc(48)),
    ]);
    expect(() => parseInChunks(file)).toThrowError(
      'unsupported link types 189 (USB_LINUX), 147 (USER0): cawire decodes Ethernet, Linux cooked v1/v2, BSD loopback and raw IPv4',
    );
  });

  it('rejects a first section header with a bad byte-order magic', () => {
    const file = sectionHeader(true);
    file.writeUInt32LE(0x12345678, 8);
    expect(() => parseInChunks(file)).toThrowError('not a pcapng capture: byte-order magic is 78 56 34 12');
  });
});

describe('chunking', () => {
  const pcap = pcapFile({ le: false, nano: true }, [
    { sec: 1, frac: 2, data: frameA },
    { sec: 3, frac: 4, data: frameB },
    { sec: 5, frac: 6, data: frameC },
  ]);
  const pcapng = twoSectionPcapng();

  for (const [name, file] of [['pcap', pcap], ['pcapng', pcapng]] as const) {
    it(`gives the same packets for every chunk size (${name})`, () => {
      const whole = parseInChunks(file);
      expect(whole.packets.length).toBeGreaterThanOrEqual(3);
      for (let size = 1; size <= file.length; size++) {
        const chunked = parseInChunks(file, size);
        expect(chunked.packets, `chunk size ${size}`).toEqual(whole.packets);
        expect(chunked.stats).toEqual(whole.stats);
      }
    });

    it(`gives the same packets for arbitrary splits (${name})`, () => {
      const whole = parseInChunks(file).packets;
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 1, max: file.length - 1 }), { maxLength: 40 }), (cuts) => {
          const sink = collectingSink();
          const parser = new CaptureParser(sink);
          let last = 0;
          for (const cut of [...cuts].sort((a, b) => a - b)) {
            parser.push(file.subarray(last, cut));
            last = cut;
          }
          parser.push(file.subarray(last));
          expect(parser.end().packets).toBe(whole.length);
          expect(sink.packets).toEqual(whole);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('hands packets inside a chunk as views of that chunk', () => {
    const views: [Buffer, number][] = [];
    const parser = new CaptureParser({ packet: (_f, _l, _s, _n, data, offset) => views.push([data, offset]) });
    parser.push(pcap);
    parser.end();
    expect(views.map(([data, offset]) => [data === pcap, offset])).toEqual([
      [true, 24 + 16],
      [true, 24 + 16 + frameA.length + 16],
      [true, 24 + 16 + frameA.length + 16 + frameB.length + 16],
    ]);
  });
});

describe('truncation and corruption', () => {
  const file = pcapFile({}, [
    { sec: 1, frac: 0, data: frameA },
    { sec: 2, frac: 0, data: frameB },
  ]);
  const lastRecord = 24 + 16 + frameA.length;

  it('reports a file that ends inside the last record, at every cut', () => {
    for (let cut = lastRecord + 1; cut < file.length; cut++) {
      for (const chunk of [1, 7, file.length]) {
        const { packets, stats } = parseInChunks(file.subarray(0, cut), chunk);
        expect(packets.map((p) => p.frame)).toEqual([1]);
        expect(stats.packets).toBe(1);
        expect(stats.truncated).toEqual({
          atByte: lastRecord,
          frame: 2,
          reason:
            cut - lastRecord < 16
              ? `file ends ${cut - lastRecord} bytes into a packet record`
              : `file ends after ${cut - lastRecord} of the ${16 + frameB.length} bytes of a packet record`,
        });
      }
    }
  });

  it('rejects a file that ends inside the pcap file header: it holds no packets', () => {
    for (const chunk of [1, 7, 10]) {
      expect(() => parseInChunks(file.subarray(0, 10), chunk)).toThrowError(new CaptureError('file ends 10 bytes into its pcap file header: no packets in it'));
    }
  });

  it('rejects a file that ends inside its first pcapng section header block', () => {
    const ng = twoSectionPcapng();
    expect(() => parseInChunks(ng.subarray(0, 20), 3)).toThrowError(new CaptureError('file ends 20 bytes into its pcapng section header block: no packets in it'));
  });

  it('a read stopped on purpose mid-record: the partial record is dropped, the stop recorded, no truncation', () => {
    const sink = collectingSink();
    const parser = new CaptureParser(sink);
    parser.push(file.subarray(0, lastRecord + 5));
    const stats = parser.end('SIGINT');
    expect(sink.packets.map((p) => p.frame)).toEqual([1]);
    expect(stats.truncated).toBeUndefined();
    expect(stats.stoppedBy).toBe('SIGINT');
  });

  it('a read stopped on purpose before the file header is complete: nothing to read', () => {
    for (const cut of [0, 3, 10]) {
      const parser = new CaptureParser(collectingSink());
      parser.push(file.subarray(0, cut));
      expect(() => parser.end('SIGTERM')).toThrowError(new CaptureError(`no complete capture header in the ${cut} bytes read before SIGTERM`));
    }
  });

  it('reads a whole pcap file header without packets as an empty capture', () => {
    const { packets, stats } = parseInChunks(file.subarray(0, 24));
    expect(packets).toEqual([]);
    expect(stats).toMatchObject({ format: 'pcap', packets: 0 });
    expect(stats.truncated).toBeUndefined();
  });

  it('reports a file that ends inside a pcapng block', () => {
    const ng = twoSectionPcapng();
    const { packets, stats } = parseInChunks(ng.subarray(0, ng.length - 3), 5);
    expect(packets.length).toBe(4);
    expect(stats.truncated).toMatchObject({ frame: 5, atByte: ng.length - simplePacket(false, frameB).length });
  });

  it('stops at a pcap record claiming an implausible length, without allocating it', () => {
    const bad = Buffer.from(file);
    bad.writeUInt32LE(0xfffffff0, lastRecord + 8);
    for (const chunk of [3, bad.length]) {
      const { packets, stats } = parseInChunks(Buffer.concat([bad, file]), chunk);
      expect(packets.length).toBe(1);
      expect(stats.truncated).toEqual({ atByte: lastRecord, frame: 2, reason: 'packet record claims 4294967280 captured bytes (snaplen 262144)' });
      expect(stats.bytes).toBe(bad.length + file.length);
    }
  });

  it('stops at a record longer than twice the snaplen', () => {
    const small = pcapFile({ snaplen: 16 }, [{ sec: 1, frac: 0, data: Buffer.alloc(70000) }]);
    expect(parseInChunks(small).stats.truncated?.reason).toBe('packet record claims 70000 captured bytes (snaplen 16)');
  });

  const ngHead = Buffer.concat([sectionHeader(true), interfaceDescription(true, 1)]);
  const goodEpb = enhancedPacket(true, 0, 5n, frameA);
  const corruptions: [string, (b: Buffer) => void, string][] = [
    ['a length not a multiple of 4', (b) => b.writeUInt32LE(goodEpb.length + 2, 4), `block claims a length of ${goodEpb.length + 2} bytes`],
    ['a length below 12', (b) => b.writeUInt32LE(8, 4), 'block claims a length of 8 bytes'],
    ['a length above 256 MiB', (b) => b.writeUInt32LE(0x10000004, 4), 'block claims a length of 268435460 bytes'],
    ['a trailer mismatch', (b) => b.writeUInt32LE(goodEpb.length + 4, goodEpb.length - 4), `block of ${goodEpb.length} bytes ends with length ${goodEpb.length + 4}`],
    ['an unknown interface', (b) => b.writeUInt32LE(3, 8), 'packet block names interface 3 but the section defines 1'],
    ['a caplen beyond the block', (b) => b.writeUInt32LE(200, 20), `packet block claims 200 captured bytes but holds ${goodEpb.length - 32}`],
  ];
  for (const [what, spoil, reason] of corruptions) {
    it(`stops at a pcapng block with ${what}`, () => {
      const bad = Buffer.from(goodEpb);
      spoil(bad);
      const ng = Buffer.concat([ngHead, goodEpb, bad, goodEpb]);
      for (const chunk of [1, 13, ng.length]) {
        const { packets, stats } = parseInChunks(ng, chunk);
        expect(packets.length).toBe(1);
        expect(stats.truncated).toEqual({ atByte: ngHead.length + goodEpb.length, frame: 2, reason });
      }
    });
  }
});

describe('inputs that are not captures', () => {
  it('names the first bytes of something else', () => {
    expect(() => parseInChunks(Buffer.from('<!DOCTYPE html>'))).toThrowError(
      new CaptureError('not a pcap or pcapng capture (starts with 3c 21 44 4f)'),
    );
  });

  it('detects the format across 1-byte chunks', () => {
    expect(() => parseInChunks(Buffer.from('GIF89a'), 1)).toThrowError('not a pcap or pcapng capture (starts with 47 49 46 38)');
  });

  it('rejects an empty input', () => {
    expect(() => parseInChunks(Buffer.alloc(0))).toThrowError(new CaptureError('empty file: no capture header'));
  });

  it('rejects an input shorter than a magic number', () => {
    expect(() => parseInChunks(Buffer.from([0xd4, 0xc3]))).toThrowError('not a pcap or pcapng capture (only 2 bytes)');
  });
});
