// Every duration and size option goes through units.ts: units everywhere, a bare number only where it is seconds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { putFailCapture, restartCapture } from '../analysis/report-captures.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cawire-units-'));
const PUTS = join(dir, 'puts.pcap');
writeFileSync(PUTS, putFailCapture());
const BEACONS = join(dir, 'beacons.pcap');
writeFileSync(BEACONS, restartCapture());

function cawire(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

const invalid = (option: string, arg: string, why: string) => ({ out: '', err: `cawire: option '${option}' argument '${arg}' is invalid. ${why}\n`, code: 2 });

describe('duration and size options', { timeout: 60_000 }, () => {
  it('summary --slow takes 2s, 1500ms and a bare number of seconds alike', () => {
    const bare = cawire('summary', '--csv', '-q', '--slow', '2', PUTS);
    expect(bare.code).toBe(0);
    expect(bare.out).toContain(`problems,responses slower than 2 s,0,,cawire latency --kind all --slower-than 2s ${PUTS},`);
    expect(cawire('summary', '--csv', '-q', '--slow', '2s', PUTS).out).toBe(bare.out);
    // putFailCapture's one slow write takes 1.5 s (frames 12->14): slower than 1400ms, not than 1500ms
    expect(cawire('summary', '--csv', '-q', '--slow', '1400ms', PUTS).out).toContain('problems,responses slower than 1.4 s,1,');
    expect(cawire('summary', '--csv', '-q', '--slow', '1500ms', PUTS).out).toContain('problems,responses slower than 1.5 s,0,');
    expect(cawire('summary', '--slow', '0s', PUTS)).toEqual(invalid('--slow <duration>', '0s', 'wants a duration above 0'));
    expect(cawire('summary', '--slow', 'soon', PUTS)).toEqual(invalid('--slow <duration>', 'soon', 'want a duration such as 300ms, 250us, 2s or 1m'));
  });

  it('beacons --silence takes 70, 70s and 70000ms alike', () => {
    const bare = cawire('beacons', '--json', '-q', '--silence', '70', BEACONS);
    expect(JSON.parse(bare.out.split('\n')[0]!)).toMatchObject({ silences: 1, longest_silence_s: 75 });
    expect(cawire('beacons', '--json', '-q', '--silence', '70s', BEACONS).out).toBe(bare.out);
    expect(cawire('beacons', '--json', '-q', '--silence', '70000ms', BEACONS).out).toBe(bare.out);
    expect(JSON.parse(cawire('beacons', '--json', '-q', '--silence', '2m', BEACONS).out.split('\n')[0]!)).toMatchObject({ silences: 0 });
  });

  it('latency --timeout takes 60, 60s and 1m alike; --slower-than refuses a bare number', () => {
    const bare = cawire('latency', '--csv', '-q', '--timeout', '60', PUTS);
    expect(bare.code).toBe(0);
    expect(cawire('latency', '--csv', '-q', '--timeout', '60s', PUTS).out).toBe(bare.out);
    expect(cawire('latency', '--csv', '-q', '--timeout', '1m', PUTS).out).toBe(bare.out);
    expect(cawire('latency', '--timeout', '0', PUTS)).toEqual(invalid('--timeout <duration>', '0', 'wants a duration above 0'));
    expect(cawire('latency', '--slower-than', '300', PUTS)).toEqual(invalid('--slower-than <duration>', '300', "'300' has no unit: write 300ms or 300s"));
    const slow = cawire('latency', '--kind', 'write', '--csv', '-q', '--slower-than', '1s', PUTS);
    expect(slow.out.trimEnd().split('\n')).toHaveLength(2); // the header and the 1.5 s write
    expect(cawire('latency', '--kind', 'write', '--csv', '-q', '--slower-than', '1000ms', PUTS).out).toBe(slow.out);
  });

  it('--max-message is a size (64KiB, 1MB, bytes) of 1 KiB or more', () => {
    const plain = cawire('summary', '--csv', '-q', PUTS).out;
    expect(cawire('summary', '--csv', '-q', '--max-message', '64KiB', PUTS).out).toBe(plain);
    expect(cawire('summary', '--csv', '-q', '--max-message', '1MB', PUTS).out).toBe(plain);
    expect(cawire('summary', '--csv', '-q', '--max-message', '65536', PUTS).out).toBe(plain);
    expect(cawire('summary', '--max-message', '1000', PUTS)).toEqual(invalid('--max-message <size>', '1000', "wants a size of 1KiB (1024 bytes) or more, not '1000'"));
  });

  it('synth --duration takes 2s and 2; a --latency median refuses a bare number', () => {
    const two = cawire('synth', '--seed', '3', '--duration', '2s', '--no-truth', '-q', join(dir, 'a.pcap'));
    expect(two.code).toBe(0);
    expect(cawire('synth', '--seed', '3', '--duration', '2', '--no-truth', join(dir, 'b.pcap')).err).toContain(' s of traffic');
    expect(cawire('synth', '--latency', '2', join(dir, 'c.pcap'))).toEqual(invalid('--latency <spec>', '2', "'2' has no unit: write 2ms or 2s"));
    expect(cawire('synth', '--size', 'huge', join(dir, 'd.pcap'))).toEqual(invalid('--size <size>', 'huge', 'want a size such as 64MiB, 100MB or 4096'));
  });
});
