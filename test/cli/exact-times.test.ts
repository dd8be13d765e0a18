// Times print with the capture's own precision, exact: a nanosecond capture's
// digits survive into every report's time columns (not rounded through float seconds).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureWriter } from '../../src/synth/capture-writer.js';
import { HAVE_SHARED, REAL, SKIP_REASON } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cawire-times-'));

function cawire(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '-q'], { encoding: 'utf8' });
  return { out: r.stdout, code: r.status };
}

/** A classic µs pcap rewritten as a nanosecond pcap, every packet `extraNs` later than its µs time. */
function nanosecondCopy(path: string, extraNs: number): string {
  const bytes = readFileSync(path);
  const w = new CaptureWriter({ format: 'pcap', precision: 'ns' });
  for (let off = 24; off < bytes.length; ) {
    const len = bytes.readUInt32LE(off + 8);
    w.writePacket(bytes.readUInt32LE(off), bytes.readUInt32LE(off + 4) * 1000 + extraNs, bytes.subarray(off + 16, off + 16 + len), bytes.readUInt32LE(off + 12));
    off += 16 + len;
  }
  const out = join(dir, 'nano.pcap');
  writeFileSync(out, w.toBuffer());
  return out;
}

if (!HAVE_SHARED) console.warn(SKIP_REASON);

describe.skipIf(!HAVE_SHARED)('exact capture times', () => {
  const original = join(REAL, 'caget_basic.pcap');

  it('latency --raw and circuits: the µs capture\'s times with the nanoseconds added, to the digit', () => {
    const nano = nanosecondCopy(original, 123);
    for (const args of [['latency', '--kind', 'all', '--raw', '--csv'], ['circuits', '--csv']]) {
      const us = cawire([...args, original]);
      const ns = cawire([...args, nano]);
      expect([us.code, ns.code]).toEqual([0, 0]);
      // every ISO time gains the three digits; nothing else changes (latencies are differences: the same)
      const expected = us.out.replace(/(T\d\d:\d\d:\d\d\.\d{6})Z/g, '$1123Z');
      expect(ns.out).toBe(expected);
      expect(ns.out).toMatch(/\.\d{6}123Z/);
    }
  });
});
