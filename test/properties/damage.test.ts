// Damage stays local: flipping bytes in, or truncating, a real capture never
// throws (beyond "this is not a capture"), never hangs, and every packet the
// damage did not touch decodes as before.
//
// What "touched" means:
// - bytes of a CA payload (TCP or UDP): a flipped byte in a TCP payload may
//   change every later message of that circuit (until the framer resyncs, and the
//   circuit's id tables), and one in a datagram changes that datagram's messages.
//   Every other circuit and datagram must decode exactly as before, except
//   traffic on ports that are CA only because the dissector learned them from
//   datagrams (client sockets from searches, server ports from replies and
//   beacons): any damaged datagram may have been what taught it.
// - bytes anywhere (file header, record headers, link/IP/TCP headers) or a cut:
//   a record length can shift every record after it, so only the messages
//   completed before the first damaged record must be exactly as before.
// PV names are left out of the comparison: a damaged search request elsewhere
// may leave a later search reply without its name, which is right.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv4Offset } from '../../src/capture/link.js';
import { CaptureParser } from '../../src/capture/reader.js';
import { CaptureError } from '../../src/capture/types.js';
import type { CaEvent } from '../../src/dissect/event.js';
import { PROTO_TCP, PROTO_UDP, newIpv4View, parseIpv4 } from '../../src/net/ipv4.js';
import { formatCommand } from '../../src/output/values.js';
import { HAVE_SHARED, REAL } from '../helpers/shared.js';
import { PROPERTY_TIMEOUT, budget, decodeCapture } from './arbitraries.js';

interface Frame {
  frame: number;
  /** file offsets: the record (header included) and the transport payload */
  recordStart: number;
  recordEnd: number;
  payloadStart: number;
  payloadEnd: number;
  /** the circuit (TCP, both directions) or the datagram (UDP) this frame's messages belong to */
  unit: string;
  udp: boolean;
  /** neither port is 5064/5065: CA only because the dissector learned the endpoint */
  learned: boolean;
}

const endpoint = (ip: number, port: number) => `${ip}:${port}`;
const circuitUnit = (a: string, b: string) => `tcp ${a < b ? `${a} ${b}` : `${b} ${a}`}`;

/** Where every frame of an undamaged capture lies in the file, and what it carries. */
function frameTable(file: Buffer): Frame[] {
  const frames: Frame[] = [];
  const ip = newIpv4View();
  const parser = new CaptureParser({
    packet(frame, linkType, _s, _n, data, offset, capLen) {
      expect(data).toBe(file); // one chunk: offsets are file offsets
      const f: Frame = { frame, recordStart: offset - 16, recordEnd: offset + capLen, payloadStart: 0, payloadEnd: 0, unit: `frame ${frame}`, udp: false, learned: false };
      frames.push(f);
      const at = ipv4Offset(linkType, data, offset, capLen);
      if (at < 0 || !parseIpv4(data, at, offset + capLen, ip) || ip.moreFragments || ip.fragmentOffset > 0) return;
      const t = ip.payloadOffset;
      const [sport, dport] = [data.readUInt16BE(t), data.readUInt16BE(t + 2)];
      const src = endpoint(ip.src, sport);
      const dst = endpoint(ip.dst, dport);
      f.learned = ![sport, dport].some((p) => p === 5064 || p === 5065);
      if (ip.protocol === PROTO_TCP) {
        f.unit = circuitUnit(src, dst);
        f.payloadStart = t + (data[t + 12]! >> 4) * 4;
      } else if (ip.protocol === PROTO_UDP) {
        f.unit = `udp frame ${frame}`;
        f.udp = true;
        f.payloadStart = t + 8;
      } else return;
      f.payloadEnd = ip.payloadOffset + ip.payloadLength;
    },
  });
  parser.push(file);
  parser.end();
  return frames;
}

function unitOf(ev: CaEvent): string {
  return ev.transport === 'tcp' ? circuitUnit(endpoint(ev.srcIp, ev.sport), endpoint(ev.dstIp, ev.dport)) : `udp frame ${ev.frame}`;
}

/** A message without its PV name, and whether it was emitted before the end-of-capture flush. */
const render = (ev: CaEvent) => ({ unit: unitOf(ev), frame: ev.frame, line: `${ev.frame} ${ev.tsSec}.${ev.tsNsec} ${ev.src}:${ev.sport}>${ev.dst}:${ev.dport} ${ev.direction} ${formatCommand(ev.command)}` });
type Rendered = ReturnType<typeof render>;

function byUnit(lines: Rendered[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of lines) {
    const list = out.get(l.unit) ?? [];
    list.push(l.line);
    out.set(l.unit, list);
  }
  return out;
}

/** Decodes a damaged file; the only error allowed is "not a capture" (exit status 2). */
function decodeDamaged(file: Buffer) {
  try {
    return decodeCapture(file, {}, render);
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureError);
    return undefined;
  }
}

const flip = fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) });

describe.skipIf(!HAVE_SHARED)('damage to a real capture stays local', () => {
  const captures = HAVE_SHARED
    ? ['caget_basic.pcap', 'camonitor_fast.pcap'].map((name) => {
        const file = readFileSync(join(REAL, name));
        const frames = frameTable(file);
        const original = decodeCapture(file, {}, render);
        return { name, file, frames, original, payloadFrames: frames.filter((f) => f.payloadEnd > f.payloadStart) };
      })
    : [];
  const capture = fc.integer({ min: 0, max: Math.max(0, captures.length - 1) }); // an index into `captures`

  it(
    'flipped bytes in CA payloads change only their own circuit or datagram',
    () => {
      fc.assert(
        fc.property(capture, fc.array(fc.record({ frame: fc.nat(), byte: fc.nat(), xor: flip }), { minLength: 1, maxLength: 8 }), (ci, flips) => {
          const c = captures[ci]!;
          const file = Buffer.from(c.file);
          const touched = new Set<string>();
          for (const f of flips) {
            const fr = c.payloadFrames[f.frame % c.payloadFrames.length]!;
            file[fr.payloadStart + (f.byte % (fr.payloadEnd - fr.payloadStart))]! ^= f.xor.xor;
            touched.add(fr.unit);
            if (fr.udp) for (const l of c.frames) if (l.learned) touched.add(l.unit);
          }
          const damaged = decodeCapture(file, {}, render);
          const before = byUnit(c.original.lines);
          const after = byUnit(damaged.lines);
          for (const [unit, lines] of before) if (!touched.has(unit)) expect(after.get(unit), unit).toEqual(lines);
          for (const unit of after.keys()) expect(before.has(unit) || touched.has(unit), unit).toBe(true);
          expect(damaged.capture.packets).toBe(c.frames.length);
        }),
        budget(60),
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'flipped bytes anywhere, or a cut anywhere, leave every message completed before the damage as it was',
    () => {
      fc.assert(
        fc.property(capture, fc.oneof(fc.array(flip, { minLength: 1, maxLength: 8 }), fc.nat().map((cut) => ({ cut }))), (ci, damage) => {
          const c = captures[ci]!;
          let file: Buffer;
          let first: number; // first damaged byte
          if ('cut' in damage) {
            first = damage.cut % c.file.length;
            file = c.file.subarray(0, first);
          } else {
            file = Buffer.from(c.file);
            for (const f of damage) file[f.at % file.length]! ^= f.xor;
            first = Math.min(...damage.map((f) => f.at % file.length));
          }
          const damaged = decodeDamaged(file);
          const hit = c.frames.find((f) => f.recordEnd > first);
          if (!damaged || !hit) return;
          const prefix = (d: typeof damaged) => d.lines.slice(0, d.beforeFinish).filter((l) => l.frame < hit.frame).map((l) => l.line);
          expect(prefix(damaged)).toEqual(prefix(c.original));
          if ('cut' in damage && first > hit.recordStart) {
            // A cut inside a record is reported with where it happened.
            expect(damaged.capture.truncated).toMatchObject({ atByte: hit.recordStart, frame: hit.frame });
            expect(damaged.capture.packets).toBe(hit.frame - 1);
          }
        }),
        budget(120),
      );
    },
    PROPERTY_TIMEOUT,
  );
});
