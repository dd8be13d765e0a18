// Golden output: `cawire print` on the project's own fixtures, byte for byte. Every
// format variant of the demo traffic (pcap, pcapng, nanosecond, big-endian, Linux
// cooked) must print exactly the same lines. After a deliberate change of the print
// format, regenerate with: UPDATE_GOLDEN=1 npx vitest run test/cli/golden.test.ts

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const GOLDEN = `${FIXTURES}demo.print.txt`;

function print(file: string): { out: string; err: string; code: number | null } {
  const r = spawnSync(process.execPath, [CLI, 'print', `${FIXTURES}${file}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, print('demo.pcap').out);

describe('golden print output of fixtures/', () => {
  const golden = readFileSync(GOLDEN, 'utf8');

  it.each(['demo.pcap', 'demo.pcapng', 'demo.nano.pcap', 'demo.be.pcap', 'demo.sll.pcap'])('%s prints fixtures/demo.print.txt exactly', (file) => {
    const r = print(file);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toBe(golden);
  });

  it('the golden file holds every kind of message the demo was made with', () => {
    const truth = JSON.parse(readFileSync(`${FIXTURES}demo.truth.json`, 'utf8')) as { messages: { total: number; byType: Record<string, number> } };
    const types = new Map<string, number>();
    for (const line of golden.trim().split('\n')) {
      const type = /^\S+ \S+ (\w+)\(/.exec(line)![1]!;
      types.set(type, (types.get(type) ?? 0) + 1);
    }
    expect(golden.trim().split('\n')).toHaveLength(truth.messages.total);
    expect(Object.fromEntries(types)).toEqual(truth.messages.byType);
  });
});
