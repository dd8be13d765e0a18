import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from '../../src/cli/units.js';

describe('parseDuration', () => {
  it.each([
    ['300ms', 0.3],
    ['250us', 250e-6],
    ['250µs', 250e-6],
    ['2s', 2],
    ['1.5s', 1.5],
    ['1m', 60],
    ['2min', 120],
    ['1h', 3600],
    ['40ns', 40e-9],
    ['60', 60],
    ['.5', 0.5],
    [' 10 ms ', 0.01],
  ])('%s is %d s', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds, 12);
  });

  it('gives milliseconds as the decimal they are written as (1400ms is 1.4 s exactly)', () => {
    expect(['1400ms', '300ms', '700us', '1100ms'].map((v) => parseDuration(v))).toEqual([1.4, 0.3, 0.0007, 1.1]);
  });

  it('refuses what is no duration, and a bare number where a unit is required', () => {
    for (const bad of ['', 'soon', '-1s', '2 weeks', '1e3s', 'ms']) expect(() => parseDuration(bad)).toThrow(InvalidArgumentError);
    expect(() => parseDuration('300', { unitRequired: true })).toThrow("'300' has no unit: write 300ms or 300s");
    expect(parseDuration('300ms', { unitRequired: true })).toBeCloseTo(0.3, 12);
  });
});

describe('parseSize', () => {
  it.each([
    ['4096', 4096],
    ['64MiB', 64 * 2 ** 20],
    ['1MB', 1e6],
    ['1mb', 1e6],
    ['512KiB', 512 * 1024],
    ['1GB', 1e9],
    ['2e6', 2e6],
    ['100B', 100],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it('refuses what is no size', () => {
    for (const bad of ['', 'big', '-1MB', '1TBx', '1 MiBs']) expect(() => parseSize(bad)).toThrow(InvalidArgumentError);
  });
});
