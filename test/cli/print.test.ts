import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeDbr } from '../../protocols/ca/dbr.js';
import * as enc from '../../src/synth/ca-encode.js';
import { CaptureBuilder } from '../helpers/build.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cawire-print-'));

function capture(): string {
  const b = new CaptureBuilder();
  b.udp(0, { ip: '10.0.0.9', port: 50000 }, { ip: '10.0.0.255', port: 5064 }, enc.versionRequest({ version: 13, seq: 1 }), enc.searchRequest({ name: 'TEST:ai', cid: 1, version: 13 }));
  b.udp(0.001, { ip: '10.0.0.1', port: 5064 }, { ip: '10.0.0.9', port: 50000 }, enc.versionResponse({ version: 13, seq: 1 }), enc.searchResponse({ port: 5064, cid: 1, version: 13 }));
  const s = b.tcp({ ip: '10.0.0.9', port: 50001 }, { ip: '10.0.0.1', port: 5064 });
  s.handshake(0.01);
  s.send('client', 0.02, Buffer.concat([enc.versionRequest({ version: 13, priority: 0 }), enc.createChanRequest({ name: 'TEST:ai', cid: 1, version: 13 })]));
  s.send('server', 0.03, Buffer.concat([enc.accessRightsResponse({ cid: 1, access_rights: 3 }), enc.createChanResponse({ data_type: 6, data_count: 1, cid: 1, sid: 4 })]));
  s.send('client', 0.04, enc.readNotifyRequest({ data_type: 20, data_count: 1, sid: 4, ioid: 1 }));
  s.send('server', 0.05, enc.readNotifyResponse({ data_type: 20, data_count: 1, status: 1, ioid: 1, payload: encodeDbr(20, [2.5], { secPastEpoch: 1000, nsec: 5 }) }));
  b.udp(0.06, { ip: '10.0.0.7', port: 123 }, { ip: '10.0.0.8', port: 123 }, Buffer.from('ntp-ish'));
  const file = join(dir, 'small.pcap');
  writeFileSync(file, b.bytes());
  return file;
}

const FILE = capture();

function run(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

describe('cawire print', () => {
  it('prints one caproto-style line per message, and what it skipped on stderr', () => {
    const r = run([FILE]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n').slice(0, 6)).toEqual([
      '1700000000.0 10.0.0.9:50000->10.0.0.255:5064 VersionRequest(version=13, sequence=1)',
      "1700000000.0 10.0.0.9:50000->10.0.0.255:5064 SearchRequest(name='TEST:ai', cid=1, version=13, reply=5)",
      '1700000000.001 10.0.0.1:5064->10.0.0.9:50000 VersionResponse(version=13, sequence=1)',
      "1700000000.001 10.0.0.1:5064->10.0.0.9:50000 SearchResponse(port=5064, ip='255.255.255.255', cid=1, version=13)",
      '1700000000.02 10.0.0.9:50001->10.0.0.1:5064 VersionRequest(priority=0, version=13)',
      "1700000000.02 10.0.0.9:50001->10.0.0.1:5064 CreateChanRequest(name='TEST:ai', cid=1, version=13)",
    ]);
    expect(r.out.trim().split('\n')).toHaveLength(10);
    expect(r.err).toBe('cawire: not decoded: 1 packet on other ports\n');
  });

  it('is the default command, reads stdin, and -q silences the note', () => {
    const viaStdin = spawnSync(process.execPath, [CLI, '-q'], { input: readFileSync(FILE), encoding: 'utf8' });
    expect(viaStdin.status).toBe(0);
    expect(viaStdin.stdout).toBe(run(['print', FILE]).out);
    expect(viaStdin.stderr).toBe('');
  });

  it('reads stdin redirected from a file, a FIFO given by path, and a pipe given as /dev/stdin alike', () => {
    const expected = run(['print', FILE]).out;
    const fd = openSync(FILE, 'r');
    try {
      // `cawire print - < file`: descriptor 0 is a regular file, read as a named one.
      const redirected = spawnSync(process.execPath, [CLI, 'print', '-q', '-'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
      expect(redirected.stdout).toBe(expected);
    } finally {
      closeSync(fd);
    }
    // `cawire print /dev/stdin` behind a pipe, as `cawire print <(tcpdump -w - …)` gives a pipe's path.
    const piped = spawnSync('/bin/sh', ['-c', `cat "$0" | "$1" "$2" print -q /dev/stdin`, FILE, process.execPath, CLI], { encoding: 'utf8' });
    expect(piped.stdout).toBe(expected);
    const fifoDir = mkdtempSync(join(tmpdir(), 'cawire-fifo-'));
    try {
      const fifo = join(fifoDir, 'capture.fifo');
      if (spawnSync('mkfifo', [fifo]).status !== 0) return; // no mkfifo here: the pipe above covers the reading
      const fromFifo = spawnSync('/bin/sh', ['-c', `cat "$0" > "$1" & "$2" "$3" print -q "$1"`, FILE, fifo, process.execPath, CLI], { encoding: 'utf8' });
      expect(fromFifo.stdout).toBe(expected);
      expect(fromFifo.status).toBe(0);
    } finally {
      rmSync(fifoDir, { recursive: true, force: true });
    }
  });

  it('--format and filters select and shape the lines', () => {
    const r = run(['print', FILE, '-q', '--format', '{frame} {pv} {type} {command.status} {command.data}', '--pv', 'TEST:*', '--command', 'ReadNotifyResponse,CreateChanResponse']);
    expect(r.out).toBe('8 TEST:ai CreateChanResponse  \n12 TEST:ai ReadNotifyResponse ECA_NORMAL [2.5]\n');
    expect(run(['print', FILE, '-q', '--format', '{type}', '--host', '10.0.0.255']).out).toBe('VersionRequest\nSearchRequest\n');
    expect(run(['print', FILE, '-q', '--format', '{type}', '--port', '50000', '--command', 'searchresponse']).out).toBe('SearchResponse\n');
  });

  it('--json writes one object per message', () => {
    const lines = run(['print', FILE, '-q', '--json']).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(10);
    expect(lines[9]).toMatchObject({ frame: 12, pv: 'TEST:ai', type: 'ReadNotifyResponse', fields: { data: [2.5], ioid: 1, status_name: 'ECA_NORMAL' } });
    expect(lines[9].fields.metadata).toMatchObject({ sec_past_epoch: 1000, nsec: 5, time: '1990-01-01T00:16:40.000000005Z' });
    // snake_case keys only (caproto's names: upper_disp_limit), and the message type under the name of the {type} token
    for (const l of lines) expect(JSON.stringify(l)).not.toMatch(/"[a-z]+[A-Z]\w*":/);
    expect(lines[9]).not.toHaveProperty('command');
  });

  it('refuses bad arguments with exit status 2 and one line, before any output', () => {
    const badToken = run(['print', FILE, '--format', '{nope}']);
    expect(badToken).toMatchObject({ code: 2, out: '' });
    expect(badToken.err.trim().split('\n')).toHaveLength(1);
    expect(run(['print', FILE, '--command', 'NoSuchThing'])).toMatchObject({ code: 2, out: '' });
    expect(run(['print', FILE, '--host', 'not-an-ip'])).toMatchObject({ code: 2, out: '' });
    expect(run(['print', FILE, '--port', 'abc'])).toMatchObject({ code: 2, out: '' });
    expect(run(['print', FILE, '--no-such-option'])).toMatchObject({ code: 2, out: '' });
    expect(run(['print', join(dir, 'missing.pcap')])).toMatchObject({ code: 2, out: '', err: `cawire: cannot open ${join(dir, 'missing.pcap')}: no such file\n` });
  });

  it('--json with --format is a usage error (exit 2, one line), in either order and as the default command', () => {
    const err = 'cawire: --json writes whole JSON objects: it does not combine with --format\n';
    expect(run(['print', FILE, '--json', '--format', '{pv}'])).toEqual({ code: 2, out: '', err });
    expect(run(['-f', '{frame}', '--json', FILE])).toEqual({ code: 2, out: '', err });
    expect(run(['print', FILE, '--json', '--format', '{timestamp} {src}:{sport}->{dst}:{dport} {command}'])).toEqual({ code: 2, out: '', err }); // the default template, given
  });

  it('prints each message as soon as its packet arrives on a live pipe', async () => {
    const bytes = readFileSync(FILE);
    const child = spawn(process.execPath, [CLI, '-q', '--format', '{frame} {type}'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const seen = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => (out.includes(text) ? resolve() : undefined);
        child.stdout.on('data', (d) => {
          out += d;
          check();
        });
        check();
      });
    // pcap header + the first two packets (24 + 2 x (16 + frame)); the pipe stays open
    const firstTwo = 24 + (16 + bytes.readUInt32LE(24 + 8)) + (16 + bytes.readUInt32LE(24 + 16 + bytes.readUInt32LE(24 + 8) + 8));
    child.stdin.write(bytes.subarray(0, firstTwo));
    await seen('2 SearchResponse');
    expect(out).toBe('1 VersionRequest\n1 SearchRequest\n2 VersionResponse\n2 SearchResponse\n');
    child.stdin.end(bytes.subarray(firstTwo));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(10);
  });
});

describe('start-up', () => {
  it('`cawire --help` lists the commands and the format tokens without loading the decoder', () => {
    const help = spawnSync(process.execPath, [CLI, 'print', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('{timestamp} {time} {frame} {src} {dst} {sport} {dport} {transport} {direction} {pv} {type}');
    expect(spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout).toMatch(/print \[options\] \[files\.\.\.\][\s\S]*latency/);
    // What the bundled CLI loads before it runs a command: main.js and its static imports, transitively.
    const dist = fileURLToPath(new URL('../../dist/cli/', import.meta.url));
    const loaded = new Set<string>();
    const visit = (file: string): void => {
      if (loaded.has(file)) return;
      loaded.add(file);
      const code = readFileSync(join(dist, file), 'utf8');
      for (const m of code.matchAll(/^(?:import|export)\s[^;]*?["']\.\/([\w.-]+\.js)["']/gm)) visit(m[1]!);
    };
    visit('main.js');
    const code = [...loaded].map((f) => readFileSync(join(dist, f), 'utf8')).join('\n');
    expect(code).toContain('registerLazyCommands');
    expect(code).not.toMatch(/function runDissection|class Dissector\b|function decodeDbr/);
  });
});
