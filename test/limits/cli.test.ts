// The command line facing hostile input: every exit path has its documented
// status (0 done, 1 internal error, 2 unusable input or arguments) and one line
// on stderr, and strings from the wire (PV, host and user names) print safely:
// control characters escaped in text, JSON still valid, prototype names harmless.
// Spawns `node bin/cawire.js`, so it needs the build (`npm test` runs tsc first).

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDbr } from '../../protocols/ca/dbr.js';
import * as enc from '../../src/synth/ca-encode.js';
import { CaptureWriter } from '../../src/synth/capture-writer.js';
import { dissect } from '../../src/dissect/run.js';
import { CA_PORT, CLIENT_HOST, Clock, REPEATER_PORT, SERVER_HOST, plainPlan, tcpFlowPackets, udpPacket, writeCapture } from '../properties/arbitraries.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cawire-limits-'));
/** per test: a few node start-ups, on a loaded CI machine */
const SPAWNS = 60_000;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: build first (npx tsc -p tsconfig.json; npm test does)`);
});

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function cawire(args: string[], opts: { stdout?: number } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'] });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr };
}

const server = { ip: SERVER_HOST, port: CA_PORT };
const client = { ip: CLIENT_HOST, port: 40000 };

/** A few plain messages: what the exit-status tests read. */
const small = writeCapture([
  udpPacket(client, server, Buffer.concat([enc.versionRequest({ version: 13, seq: 1 }), enc.searchRequest({ name: 'A:B', cid: 1, version: 13 })]), { sec: 1_700_000_000, nsec: 0 }),
  udpPacket(server, client, enc.searchResponse({ port: CA_PORT, cid: 1, version: 13 }), { sec: 1_700_000_000, nsec: 1000 }),
  udpPacket(client, { ...server, port: REPEATER_PORT }, enc.beacon({ version: 13, server_port: CA_PORT, beacon_id: 1 }), { sec: 1_700_000_000, nsec: 2000 }),
]);

describe('exit statuses', { timeout: SPAWNS }, () => {
  it('not a capture: 2, one line on stderr, nothing on stdout', () => {
    const r = cawire([file('text.pcap', Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n'))]);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toMatch(/^cawire: not a pcap or pcapng capture \(starts with 47 45 54 20\)\n$/);
  });

  it('an empty file: 2, one line', () => {
    expect(cawire([file('empty.pcap', Buffer.alloc(0))])).toEqual({ code: 2, out: '', err: 'cawire: empty file: no capture header\n' });
  });

  it('an unknown link type: 2, naming it', () => {
    const w = new CaptureWriter({ format: 'pcap', linkType: 147 });
    w.writePacket(1_700_000_000, 0, Buffer.from('not ip at all'));
    const r = cawire([file('user0.pcap', w.toBuffer())]);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err.split('\n')).toEqual([expect.stringMatching(/^cawire: unsupported link type 147 \(USER0\)/), '']);
  });

  it('a truncated capture: 0, everything before the cut decoded, and a note naming where it ended', () => {
    const records: number[] = []; // where each packet record starts
    for (let at = 24; at < small.length; at += 16 + small.readUInt32LE(at + 8)) records.push(at);
    const cut = small.subarray(0, small.length - 10); // inside the third record
    const r = cawire([file('cut.pcap', cut)]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(3); // VERSION + SEARCH, and the reply
    const have = cut.length - records[2]!;
    const want = small.length - records[2]!;
    expect(r.err).toBe(
      `cawire: capture ends early at byte ${records[2]} after frame 2 (file ends after ${have} of the ${want} bytes of a packet record); decoded everything before it\n`,
    );
  });

  it('an unknown --format token: 2 before any output', () => {
    const r = cawire(['print', file('small.pcap', small), '--format', '{timestamp} {evil}']);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it.skipIf(!existsSync('/dev/full'))('an internal error (stdout on a full disk): 1, one line saying where to report it', () => {
    const fd = openSync('/dev/full', 'w');
    const r = cawire([file('small.pcap', small)], { stdout: fd });
    closeSync(fd);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^cawire: internal error: ENOSPC[^\n]*--debug[^\n]*report it at [^\n]+\n$/);
  });

  it('`cawire print big | head -1` ends quietly: status 0, nothing on stderr', async () => {
    const clock = new Clock(1_700_000_000);
    const beacons = Buffer.concat(Array.from({ length: 20 }, (_, i) => enc.beacon({ version: 13, server_port: CA_PORT, beacon_id: i })));
    const big = file('big.pcap', writeCapture((function* () {
      for (let i = 0; i < 20_000; i++) yield udpPacket(client, { ...server, port: REPEATER_PORT }, beacons, clock.next());
    })()));
    const child = spawn(process.execPath, [CLI, 'print', big], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const first = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) {
          child.stdout.destroy(); // what `head -1` does once it has its line
          resolve(out.slice(0, out.indexOf('\n')));
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(first).toMatch(/Beacon\(version=13, server_port=5064, beacon_id=0/);
    expect({ code, err }).toEqual({ code: 0, err: '' });
  });
});

/** Names a hostile IOC or client could put on the wire. */
const NAMES = [
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'toString',
  '\x1b[2J\x1b[31mEVIL\x1b[0m',
  'line\r\nbreak\ttab\x07bell\x7fdel\x9bcsi',
  '{command}{{x}}',
  "quote'back\\slash",
];
const HOST = '\x1b]0;owned\x07host';
const USER = 'user\x1b[1m';

function hostileCapture(): Buffer {
  const clock = new Clock(1_700_000_000);
  const search = udpPacket(client, server, Buffer.concat([enc.versionRequest({ version: 13, seq: 1 }), ...NAMES.map((name, i) => enc.searchRequest({ name, cid: i + 1, version: 13 }))]), clock.next());
  const found = udpPacket(server, client, Buffer.concat(NAMES.map((_, i) => enc.searchResponse({ port: CA_PORT, cid: i + 1, version: 13 }))), clock.next());
  // Two rounds: connect the channels (client segment, then server segment), then read them.
  const connect = Buffer.concat([
    enc.versionRequest({ version: 13, priority: 0 }),
    enc.hostNameRequest({ name: HOST }),
    enc.clientNameRequest({ name: USER }),
    ...NAMES.map((name, i) => enc.createChanRequest({ name, cid: i + 1, version: 13 })),
  ]);
  const read = Buffer.concat(NAMES.map((_, i) => enc.readNotifyRequest({ data_type: 0, data_count: 1, sid: 100 + i, ioid: i })));
  const connected = Buffer.concat([enc.versionResponse({ version: 13 }), ...NAMES.map((_, i) => enc.createChanResponse({ data_type: 0, data_count: 1, cid: i + 1, sid: 100 + i }))]);
  const values = Buffer.concat(NAMES.map((name, i) => enc.readNotifyResponse({ data_type: 0, data_count: 1, status: 1, ioid: i, payload: encodeDbr(0, [name.slice(0, 39)]) })));
  const plan = plainPlan(40001);
  plan.client = { ...plan.client, cuts: [connect.length] };
  plan.server = { ...plan.server, cuts: [connected.length] };
  return writeCapture([search, found, ...tcpFlowPackets(Buffer.concat([connect, read]), Buffer.concat([connected, values]), plan, clock)]);
}

/** What the decoder makes of a name the encoder wrote (UTF-8 on the wire, read back as latin1). */
const onWire = (name: string) => Buffer.from(name, 'utf8').toString('latin1');
/** A control character left raw in text output (newlines end lines); C1 controls as code points (output is UTF-8). */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

describe('strings from the wire', { timeout: SPAWNS }, () => {
  const capture = file('hostile.pcap', hostileCapture());

  it('PV names that are prototype keys or carry control characters are tracked like any other', async () => {
    const pvs = new Map<string, string[]>();
    for await (const ev of dissect(capture, { env: {} })) {
      if (ev.direction === 'response') pvs.set(ev.type, [...(pvs.get(ev.type) ?? []), ev.pv ?? '(none)']);
    }
    const names = NAMES.map(onWire);
    expect(pvs.get('SearchResponse')).toEqual(names);
    expect(pvs.get('CreateChanResponse')).toEqual(names);
    expect(pvs.get('ReadNotifyResponse')).toEqual(names);
  });

  it('text output escapes every control character, in names, host names and values', () => {
    const r = cawire(['print', '-q', capture]);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(RAW_CONTROL);
    expect(r.out).toContain("CreateChanRequest(name='__proto__', cid=1, version=13)");
    expect(r.out).toContain("HostNameRequest(name='\\x1b]0;owned\\x07host')");
    expect(r.out).toContain("name='\\x1b[2J\\x1b[31mEVIL\\x1b[0m'");
    expect(r.out).toContain("name='quote\\'back\\\\slash'");
    const tokens = cawire(['print', '-q', capture, '--format', '{pv}|{command.name}|{command.data}']);
    expect(tokens.out).not.toMatch(RAW_CONTROL);
    // A name that looks like a template is printed, never expanded.
    expect(tokens.out.split('\n')).toContain('{command}{{x}}|{command}{{x}}|');
  });

  it('JSON output stays valid and carries the names exactly', () => {
    const r = cawire(['print', '-q', '--json', capture]);
    expect(r.code).toBe(0);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; pv: string | null; fields: { name?: string } });
    expect(rows.filter((x) => x.type === 'CreateChanRequest').map((x) => x.fields.name)).toEqual(NAMES.map(onWire));
    expect(rows.find((x) => x.type === 'HostNameRequest')!.fields.name).toBe(HOST);
    expect(rows.find((x) => x.type === 'ClientNameRequest')!.fields.name).toBe(USER);
    expect(r.out).not.toMatch(/[\x00-\x09\x0b-\x1f]/); // JSON escapes C0 controls (C1 ones are valid JSON as they are)
  });

  it('--pv selects a prototype-key name like any other', () => {
    for (const name of ['__proto__', 'constructor']) {
      const r = cawire(['print', '-q', capture, '--pv', name, '--format', '{pv} {type}']);
      expect(r.code).toBe(0);
      expect(r.out.trim().split('\n')).toEqual([
        `${name} SearchRequest`,
        `${name} SearchResponse`,
        `${name} CreateChanRequest`,
        `${name} CreateChanResponse`,
        `${name} ReadNotifyRequest`,
        `${name} ReadNotifyResponse`,
      ]);
    }
  });
});
