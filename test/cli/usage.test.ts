// Usage errors: every one starts with `cawire:` (commander's own too) and exits 2; a
// mistyped command is named as such instead of being opened as a capture file.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { meantCommand } from '../../src/cli/main.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const DEMO = fileURLToPath(new URL('../../fixtures/demo.pcap', import.meta.url));

function cawire(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

describe('usage errors', () => {
  it.each([
    [['lat'], "cawire: unknown command 'lat' (did you mean latency?); a capture file of that name does not exist"],
    [['summry', DEMO], "cawire: unknown command 'summry' (did you mean summary?); a capture file of that name does not exist"],
    [['circuts'], "cawire: unknown command 'circuts' (did you mean circuits?); a capture file of that name does not exist"],
    [['latency', '--bogus', DEMO], "cawire: unknown option '--bogus'"],
    [['latency', '--kind', 'foo', DEMO], "cawire: option '--kind <kind>' argument 'foo' is invalid. Allowed choices are search, handshake, create, read, write, subscribe, echo, connect, all."],
    [['no-such-capture.pcap'], 'cawire: cannot open no-such-capture.pcap: no such file'],
  ])('%j', (args, line) => {
    const r = cawire(...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')[0]).toBe(line);
  });

  it('suggests a command only for a word that is no file and is near one command', () => {
    const none = () => false;
    expect(meantCommand('lat', none)).toBe('latency');
    expect(meantCommand('sum', none)).toBe('summary');
    expect(meantCommand('s', none)).toBeUndefined(); // too short to tell searches, summary, synth apart
    expect(meantCommand('se', none)).toBe('searches'); // the one command that starts so
    expect(meantCommand('beacon', none)).toBe('beacons');
    expect(meantCommand('capture.pcap', none)).toBeUndefined();
    expect(meantCommand('lat', () => true)).toBeUndefined(); // a file named lat is printed
    expect(meantCommand('latency', none)).toBeUndefined();
    expect(meantCommand('--json', none)).toBeUndefined();
  });
});
