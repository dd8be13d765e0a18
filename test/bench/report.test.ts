import { describe, expect, it } from 'vitest';
import { markdownTable, median, replaceSection, rows, type BenchCase } from '../../bench/report.js';

const floor: BenchCase = { name: 'floor', command: 'PIN cat FILE > /dev/null', readsCapture: true };
const print: BenchCase = { name: 'print', command: 'cawire print FILE > /dev/null', readsCapture: true, bar: { kind: 'messagesPerSec', min: 2e6 } };
const latency: BenchCase = { name: 'latency', command: 'cawire latency FILE > /dev/null', readsCapture: true, bar: { kind: 'floorFraction', min: 0.1 } };
const stdin: BenchCase = { name: 'stdin', command: 'cat FILE | cawire print > /dev/null', readsCapture: true };
const help: BenchCase = { name: '--help', command: 'cawire --help > /dev/null', readsCapture: false, bar: { kind: 'seconds', max: 0.15 } };

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('rows', () => {
  // 1 GB, 5M messages; cat reads it in 0.2 s (5000 MB/s)
  const table = rows(
    [
      { c: floor, t: { seconds: [0.3, 0.2, 0.2], rssBytes: [undefined, undefined, undefined] } },
      { c: print, t: { seconds: [2.5, 2, 3], rssBytes: [100 * 2 ** 20, 120 * 2 ** 20, 110 * 2 ** 20] } },
      { c: latency, t: { seconds: [1.6], rssBytes: [250 * 2 ** 20] } },
      { c: help, t: { seconds: [0.1, 0.12, 0.2], rssBytes: [50 * 2 ** 20, 50 * 2 ** 20, 50 * 2 ** 20] } },
    ],
    1e9,
    5e6,
    0.2,
  );

  it('gives median seconds, MB/s, messages/s, peak RSS and the ratio to the floor', () => {
    expect(table.map((r) => [r.name, r.medianSec, r.mbPerSec, r.messagesPerSec, r.peakRssMb, r.vsFloor])).toEqual([
      ['floor', 0.2, 5000, 25e6, undefined, 1],
      ['print', 2.5, 400, 2e6, 120, 12.5],
      ['latency', 1.6, 625, 3125000, 250, 8],
      ['--help', 0.12, undefined, undefined, 50, undefined],
    ]);
  });

  it('checks each bar: messages/s, a tenth of the floor, seconds, and RSS under 200 MB', () => {
    expect(table.map((r) => r.verdict)).toEqual([
      '',
      'ok ≥ 2M msg/s, ok RSS < 200 MB',
      'ok ≥ 500 MB/s, MISS RSS < 200 MB',
      'ok < 150 ms, ok RSS < 200 MB',
    ]);
  });
});

describe('rows of several captures at once', () => {
  it('counts every read of the capture in MB/s and messages/s', () => {
    const twice: BenchCase = { name: 'latency ×2', command: 'cawire latency --jobs 2 FILE FILE > /dev/null', readsCapture: true, reads: 2, allCores: true };
    const [row] = rows([{ c: twice, t: { seconds: [4], rssBytes: [150 * 2 ** 20] } }], 1e9, 5e6, 0.2);
    expect([row!.mbPerSec, row!.messagesPerSec, row!.vsFloor, row!.verdict]).toEqual([500, 2.5e6, 20, 'ok RSS < 200 MB']);
  });
});

describe('markdownTable', () => {
  it('writes one row per command, without the pinning token and with pipes escaped', () => {
    const table = rows([{ c: stdin, t: { seconds: [4], rssBytes: [64 * 2 ** 20] } }, { c: floor, t: { seconds: [0.25], rssBytes: [undefined] } }], 1e9, 8e5, 0.25);
    expect(markdownTable(table).split('\n')).toEqual([
      '| command | median s | MB/s | CA msg/s | peak RSS MB | × floor | bar |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
      '| `cat FILE \\| cawire print > /dev/null` | 4.000 | 250 | 200k | 64 | 16.0 | ok RSS < 200 MB |',
      '| `cat FILE > /dev/null` | 0.250 | 4000 | 3.20M | – | 1.0 | – |',
    ]);
  });
});

describe('replaceSection', () => {
  it('appends a marked section to a document without one', () => {
    expect(replaceSection('# Benchmarks\n', 'table\n')).toBe('# Benchmarks\n\n<!-- bench:start -->\ntable\n<!-- bench:end -->\n');
  });

  it('replaces only the marked section, keeping what others wrote around it', () => {
    const doc = '# B\n\nintro\n\n<!-- bench:start -->\nold\n<!-- bench:end -->\n\n## latency notes\n';
    expect(replaceSection(doc, 'new')).toBe('# B\n\nintro\n\n<!-- bench:start -->\nnew\n<!-- bench:end -->\n\n## latency notes\n');
  });
});
