// `--ports 5066,5067` at a site whose servers listen on 5066 and whose caRepeater on 5067: the repeater
// traffic on the listed port must decode as it does with EPICS_CA_REPEATER_PORT=5067.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as enc from '../../src/synth/ca-encode.js';
import { skippedSummary } from '../../src/dissect/stats.js';
import { decodeCapture } from '../properties/arbitraries.js';
import { CaptureBuilder } from '../helpers/build.js';
import { HAVE_SHARED, REAL, SKIP_REASON } from '../helpers/shared.js';

const LISTED = { ports: [5066, 5067] };
const REPEATER_ENV = { ports: [5066], env: { EPICS_CA_REPEATER_PORT: '5067' } };

/** frame, endpoints and message type of an eventLine. */
const brief = (line: string): string => line.replace(/^(\d+) .* udp (\S+) \w+ pv=\S+ (\w+)\(.*$/, '$1 $2 $3');

/** Decoded lines and the end-of-run note, for comparing two runs. */
function decode(file: Buffer, options: typeof LISTED | typeof REPEATER_ENV) {
  const d = decodeCapture(file, options);
  return { lines: d.lines, skipped: skippedSummary(d.stats) };
}

/**
 * The repeater traffic of one libca client at a 5066/5067 site, built by hand:
 * the client's empty registration to 5067, the repeater's confirm and a beacon
 * it relays, both from the repeater's socket for that client (an ephemeral
 * port, as caRepeater sends them), and the IOC's beacon to 5067 itself.
 */
function repeaterCapture(): Buffer {
  const b = new CaptureBuilder();
  const client = { ip: '10.0.0.9', port: 40000 };
  const repeater = { ip: '10.0.0.9', port: 5067 };
  const relay = { ip: '10.0.0.9', port: 45000 };
  b.udp(0, client, repeater); // REPEATER_REGISTER: a zero-length datagram
  b.udp(0.001, relay, client, enc.repeaterConfirmResponse({ repeater_address: '10.0.0.9' }));
  b.udp(1, { ip: '10.0.0.1', port: 41000 }, { ip: '10.0.255.255', port: 5067 }, enc.beacon({ version: 13, server_port: 5066, beacon_id: 7 }));
  b.udp(1.001, relay, client, enc.beacon({ version: 13, server_port: 5066, beacon_id: 7, address: '10.0.0.1' }));
  return b.bytes();
}

/** A classic little-endian pcap of Ethernet/IPv4 frames with its UDP and TCP ports renamed (checksums are not read). */
function renamePorts(pcap: Buffer, rename: ReadonlyMap<number, number>): Buffer {
  const out = Buffer.from(pcap);
  expect(out.readUInt32LE(0)).toBe(0xa1b2c3d4);
  for (let at = 24; at + 16 <= out.length; ) {
    const capLen = out.readUInt32LE(at + 8);
    const frame = at + 16;
    const ip = frame + 14;
    if (out.readUInt16BE(frame + 12) === 0x0800 && [6, 17].includes(out[ip + 9]!)) {
      const l4 = ip + (out[ip]! & 0x0f) * 4;
      for (const p of [l4, l4 + 2]) out.writeUInt16BE(rename.get(out.readUInt16BE(p)) ?? out.readUInt16BE(p), p);
    }
    at = frame + capLen;
  }
  return out;
}

describe('--ports and repeater traffic', () => {
  it('an empty datagram, a confirm and relayed beacons on a listed port decode as with EPICS_CA_REPEATER_PORT', () => {
    const file = repeaterCapture();
    const listed = decode(file, LISTED);
    expect(listed).toEqual(decode(file, REPEATER_ENV));
    expect(listed.lines.map(brief)).toEqual([
      '1 10.0.0.9:40000>10.0.0.9:5067 RepeaterRegisterRequest',
      '2 10.0.0.9:45000>10.0.0.9:40000 RepeaterConfirmResponse',
      '3 10.0.0.1:41000>10.0.255.255:5067 Beacon',
      '4 10.0.0.9:45000>10.0.0.9:40000 Beacon',
    ]);
    expect(listed.skipped).toBe('');
  });

  it('a listed port that is a server port still decodes as one', () => {
    const b = new CaptureBuilder();
    b.udp(0, { ip: '10.0.0.9', port: 40000 }, { ip: '10.0.255.255', port: 5066 }, enc.versionRequest({ version: 13, priority: 0 }), enc.searchRequest({ name: 'A:b', cid: 1, version: 13 }));
    expect(decode(b.bytes(), LISTED).lines.map(brief)).toEqual(['1 10.0.0.9:40000>10.0.255.255:5066 VersionRequest', '1 10.0.0.9:40000>10.0.255.255:5066 SearchRequest']);
  });

  it.skipIf(!HAVE_SHARED)('search_notfound with its ports moved to 5066/5067: the same messages either way, its registration among them', () => {
    if (!HAVE_SHARED) return console.warn(SKIP_REASON);
    const moved = renamePorts(
      readFileSync(join(REAL, 'search_notfound.pcap')),
      new Map([
        [5064, 5066],
        [5065, 5067],
      ]),
    );
    const listed = decode(moved, LISTED);
    const withEnv = decode(moved, REPEATER_ENV);
    expect(listed).toEqual(withEnv);
    // search_notfound.txt: "one zero-length datagram to 5065 plus a REPEATER_CONFIRM", 4 beacons to the
    // repeater and one it forwarded.
    const count = (type: string) => listed.lines.filter((l) => l.includes(` ${type}(`)).length;
    expect([count('RepeaterRegisterRequest'), count('RepeaterConfirmResponse'), count('Beacon')]).toEqual([1, 1, 5]);
    // tshark -Y udp.length==8: frame 60, 127.0.0.1:57164 -> 5065, Len=0.
    expect(listed.lines.map(brief).filter((l) => l.endsWith('RepeaterRegisterRequest'))).toEqual(['60 127.0.0.1:57164>127.0.0.1:5067 RepeaterRegisterRequest']);
  });
});
