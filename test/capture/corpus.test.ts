import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipv4Offset } from '../../src/capture/link.js';
import { CaptureParser } from '../../src/capture/reader.js';
import { readCapture } from '../../src/capture/source.js';
import type { CaptureStats, PacketSink } from '../../src/capture/types.js';

const shared = fileURLToPath(new URL('../../../shared/', import.meta.url));
const corpus = join(shared, 'corpus');

interface Expected {
  format: CaptureStats['format'];
  linkType: number;
  precision: CaptureStats['precision'];
  packets: number;
}

/** From corpus/real/README.md + NAME.txt and corpus/public/README.md (capinfos). */
const EXPECTED: Record<string, Expected> = {
  'real/big_waveform.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 120 },
  'real/caget_basic.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 231 },
  'real/caget_basic.nano.pcap': { format: 'pcap', linkType: 1, precision: 'ns', packets: 231 },
  'real/caget_basic.tshark.pcapng': { format: 'pcapng', linkType: 1, precision: 'us', packets: 231 },
  'real/camonitor_fast.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 1570 },
  'real/caput.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 390 },
  'real/echo_idle.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 32 },
  'real/monitor_cancel.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 516 },
  'real/multi_ioc.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 1006 },
  'real/multi_ioc.any_sll.pcap': { format: 'pcap', linkType: 113, precision: 'us', packets: 1006 },
  'real/search_notfound.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 65 },
  'public/ca-search-3.13.pcapng': { format: 'pcapng', linkType: 1, precision: 'us', packets: 22 },
  'public/ca_all_dbr.pcapng': { format: 'pcapng', linkType: 1, precision: 'ns', packets: 772 },
  'public/ca_arrays.pcapng': { format: 'pcapng', linkType: 1, precision: 'ns', packets: 83 },
  'public/ca_enum.pcapng': { format: 'pcapng', linkType: 113, precision: 'ns', packets: 46 },
  'public/ca_monitor.pcapng': { format: 'pcapng', linkType: 113, precision: 'ns', packets: 20 },
  'public/ca_monitor2.pcapng': { format: 'pcapng', linkType: 113, precision: 'ns', packets: 29 },
  'public/cabeacon.cap': { format: 'pcapng', linkType: 113, precision: 'us', packets: 8 },
  'public/catest.pcap': { format: 'pcapng', linkType: 1, precision: 'us', packets: 167 },
  'public/example_tcp_data.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 45 },
  'public/example_udp_data.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 8 },
  'public/derived/catest.mss1448.pcap': { format: 'pcap', linkType: 1, precision: 'us', packets: 182 },
};

interface Summary {
  stats: CaptureStats;
  frames: number[];
  linkTypes: Set<number>;
  ipv4Packets: number;
  /** [sec, nsec, capLen, origLen] per packet */
  times: [number, number, number, number][];
  /** SHA-256 over every packet's bytes */
  digest: string;
}

function summarizingSink(): PacketSink & Omit<Summary, 'stats' | 'digest'> & { hash: ReturnType<typeof createHash> } {
  const sink = {
    frames: [] as number[],
    linkTypes: new Set<number>(),
    ipv4Packets: 0,
    times: [] as [number, number, number, number][],
    hash: createHash('sha256'),
    packet(frame: number, linkType: number, sec: number, nsec: number, data: Buffer, offset: number, capLen: number, origLen: number) {
      sink.frames.push(frame);
      sink.linkTypes.add(linkType);
      sink.times.push([sec, nsec, capLen, origLen]);
      sink.hash.update(data.subarray(offset, offset + capLen));
      const ip = ipv4Offset(linkType, data, offset, capLen);
      if (ip >= 0 && data[ip] === 0x45) sink.ipv4Packets++;
    },
  };
  return sink;
}

async function summarize(path: string): Promise<Summary> {
  const sink = summarizingSink();
  const stats = await readCapture(path, sink);
  return { ...sink, stats, digest: sink.hash.digest('hex') };
}

function summarizeInChunks(path: string, chunkSize: number): Summary {
  const sink = summarizingSink();
  const parser = new CaptureParser(sink);
  const file = readFileSync(path);
  for (let i = 0; i < file.length; i += chunkSize) parser.push(file.subarray(i, i + chunkSize));
  const stats = parser.end();
  return { ...sink, stats, digest: sink.hash.digest('hex') };
}

function captureFilesUnder(dir: string): string[] {
  return readdirSync(join(corpus, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(pcap|pcapng|cap)$/.test(name) && statSync(join(corpus, dir, name)).isFile())
    .map((name) => `${dir}/${name}`);
}

describe.skipIf(!existsSync(corpus))('shared capture corpus (../shared/corpus, skipped when absent)', () => {
  it('has an expectation for every capture file', () => {
    const found = [...captureFilesUnder('real'), ...captureFilesUnder('public')].sort();
    expect(found).toEqual(Object.keys(EXPECTED).sort());
  });

  it('agrees with the capinfos counts in the sidecar files', () => {
    for (const [name, expected] of Object.entries(EXPECTED)) {
      if (name.startsWith('real/')) {
        const txt = readFileSync(join(corpus, name.replace(/\.(pcap|pcapng)$/, '.txt')), 'utf8');
        expect(txt.match(/packets \(capinfos\): (\d+)/)?.[1], name).toBe(String(expected.packets));
      } else if (!name.startsWith('public/derived/')) {
        const readme = readFileSync(join(corpus, 'public/README.md'), 'utf8');
        const row = readme.split('\n').find((line) => line.startsWith(`| ${name.slice('public/'.length)} |`));
        expect(row?.split('|')[5]?.trim(), name).toBe(String(expected.packets));
      }
    }
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`reads ${name}: ${expected.packets} packets, every one IPv4`, async () => {
      const path = join(corpus, name);
      const { stats, frames, linkTypes, ipv4Packets } = await summarize(path);
      expect(stats).toMatchObject({
        format: expected.format,
        precision: expected.precision,
        packets: expected.packets,
        bytes: statSync(path).size,
        gzip: false,
      });
      expect(stats.truncated).toBeUndefined();
      expect(stats.unsupportedLink.size).toBe(0);
      expect(frames).toEqual(Array.from({ length: expected.packets }, (_, i) => i + 1));
      expect([...linkTypes]).toEqual([expected.linkType]);
      expect(ipv4Packets).toBe(expected.packets);
    });
  }

  it('gives identical packets for caget_basic as pcap, nanosecond pcap and pcapng', async () => {
    const [pcap, nano, pcapng] = await Promise.all(
      ['caget_basic.pcap', 'caget_basic.nano.pcap', 'caget_basic.tshark.pcapng'].map((f) => summarize(join(corpus, 'real', f))),
    );
    expect(pcap!.times.length).toBe(231);
    expect(pcap!.times[0]).toEqual([1795424060, 564423000, 58, 58]); // 2026-11-23 08:54:20.564423, 58-byte frame
    expect(nano!.times).toEqual(pcap!.times);
    expect(pcapng!.times).toEqual(pcap!.times);
    expect(nano!.digest).toBe(pcap!.digest);
    expect(pcapng!.digest).toBe(pcap!.digest);
  });

  for (const name of ['real/big_waveform.pcap', 'public/catest.pcap', 'public/ca_all_dbr.pcapng']) {
    it(`gives the same packets for ${name} in chunks of 1 KiB + 3, 64 KiB + 1 and whole`, () => {
      const path = join(corpus, name);
      const whole = summarizeInChunks(path, statSync(path).size);
      for (const size of [1027, 65537]) {
        const chunked = summarizeInChunks(path, size);
        expect(chunked.times).toEqual(whole.times);
        expect(chunked.digest).toBe(whole.digest);
        expect(chunked.stats).toEqual(whole.stats);
      }
    });
  }
});
