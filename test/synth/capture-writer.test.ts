import { describe, expect, it } from 'vitest';
import { CaptureWriter, timestampFromSeconds } from '../../src/synth/capture-writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// 2026-11-23 08:54:20.564423 UTC, the first packet of the real caget_basic.pcap
const SEC = 1795424060;

describe('CaptureWriter pcap', () => {
  it('writes a little-endian microsecond file like tcpdump', () => {
    const w = new CaptureWriter({ format: 'pcap' });
    w.writePacket(SEC, 564423000, hex('deadbeef'));
    // the global header is byte-identical to caget_basic.pcap's
    expect(w.toBuffer()).toEqual(
      hex(`d4c3b2a1 0200 0400 00000000 00000000 00000400 01000000
           3cff036b c79c0800 04000000 04000000 deadbeef`),
    );
  });

  it('writes a big-endian nanosecond file with the ns magic, snaplen and link type', () => {
    const w = new CaptureWriter({ format: 'pcap', byteOrder: 'be', precision: 'ns', linkType: 113, snaplen: 65535 });
    w.writePacket(SEC, 564423123, hex('0102030405'), 60);
    expect(w.toBuffer()).toEqual(
      hex(`a1b23c4d 0002 0004 00000000 00000000 0000ffff 00000071
           6b03ff3c 21a469d3 00000005 0000003c 0102030405`),
    );
  });

  it('rounds nanoseconds to the nearest microsecond, carrying into seconds', () => {
    const w = new CaptureWriter({ format: 'pcap' });
    w.writePacket(SEC, 564422501, hex('00')); // float-derived times sit just below the µs
    w.writePacket(SEC, 999999600, hex('00'));
    const out = w.toBuffer();
    expect(out.readUInt32LE(24)).toBe(SEC);
    expect(out.readUInt32LE(28)).toBe(564423);
    expect(out.readUInt32LE(24 + 17)).toBe(SEC + 1);
    expect(out.readUInt32LE(24 + 17 + 4)).toBe(0);
  });

  it('truncates frames to the snaplen but keeps the original length', () => {
    const w = new CaptureWriter({ format: 'pcap', snaplen: 3 });
    w.writePacket(1, 0, hex('0a0b0c0d0e'));
    expect(w.toBuffer().subarray(24)).toEqual(hex('01000000 00000000 03000000 05000000 0a0b0c'));
  });
});

describe('CaptureWriter pcapng', () => {
  it('writes a little-endian microsecond file: SHB, IDB without options, padded EPB', () => {
    const w = new CaptureWriter({ format: 'pcapng' });
    w.writePacket(SEC, 564423000, hex('0102030405'));
    // same SHB magic/IDB layout and timestamp words as caget_basic.tshark.pcapng
    expect(w.toBuffer()).toEqual(
      hex(`0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000
           01000000 14000000 0100 0000 00000400 14000000
           06000000 28000000 00000000 ed600600 c7e359bd 05000000 05000000 0102030405 000000 28000000`),
    );
  });

  it('writes a big-endian nanosecond file with if_tsresol = 9', () => {
    const w = new CaptureWriter({ format: 'pcapng', byteOrder: 'be', precision: 'ns', linkType: 276 });
    w.writePacket(SEC, 564423123, hex('aabbccdd'), 1500);
    expect(w.toBuffer()).toEqual(
      hex(`0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffff ffffffff 0000001c
           00000001 00000020 0114 0000 00040000 0009 0001 09000000 00000000 00000020
           00000006 00000024 00000000 18eaa0ab a721c1d3 00000004 000005dc aabbccdd 00000024`),
    );
  });
});

describe('CaptureWriter streaming', () => {
  const frame = (i: number, size: number): Buffer => Buffer.alloc(size, i & 0xff);

  it('hands out chunks of at most 1 MiB whose concatenation equals the in-memory file', () => {
    const chunks: Buffer[] = [];
    const streamed = new CaptureWriter({ format: 'pcapng' }, (c) => chunks.push(c));
    const inMemory = new CaptureWriter({ format: 'pcapng' });
    for (let i = 0; i < 3000; i++) {
      streamed.writePacket(i, i * 1000, frame(i, 1000));
      inMemory.writePacket(i, i * 1000, frame(i, 1000));
    }
    expect(chunks.length).toBe(2); // batched, nothing flushed per packet
    streamed.flush();
    expect(chunks.length).toBe(3);
    expect(chunks.map((c) => c.length <= 1 << 20)).toEqual([true, true, true]);
    const whole = Buffer.concat(chunks);
    expect(whole.length).toBe(28 + 20 + 3000 * (32 + 1000));
    expect(whole.equals(inMemory.toBuffer())).toBe(true); // toEqual walks 3 MB byte by byte
  });

  it('writes a record larger than a chunk in one piece', () => {
    const chunks: Buffer[] = [];
    const w = new CaptureWriter({ format: 'pcap', snaplen: 4 << 20 }, (c) => chunks.push(c));
    w.writePacket(0, 0, frame(7, 2 << 20));
    w.flush();
    expect(chunks.map((c) => c.length)).toEqual([24, 16 + (2 << 20)]);
    expect(chunks[1]!.readUInt32LE(8)).toBe(2 << 20);
    expect(chunks[1]![16 + (2 << 20) - 1]).toBe(7);
  });

  it('refuses toBuffer() when writing to a callback', () => {
    const w = new CaptureWriter({ format: 'pcap' }, () => undefined);
    expect(() => w.toBuffer()).toThrow(/without an output callback/);
  });
});

describe('timestampFromSeconds', () => {
  it('splits float seconds into integer seconds and rounded nanoseconds', () => {
    expect(timestampFromSeconds(12.25)).toEqual({ sec: 12, nsec: 250000000 });
    // a Unix-era float keeps ~0.24 µs resolution: the nearest ns of the stored value
    expect(timestampFromSeconds(1795424060.564423)).toEqual({ sec: SEC, nsec: 564423084 });
    expect(timestampFromSeconds(4.9999999999)).toEqual({ sec: 5, nsec: 0 });
  });
});
