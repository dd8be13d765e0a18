// Report tables fit the terminal (COLUMNS, else 120 when piped), with a rule under the head only; --wide shows all.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { HAVE_SHARED, REAL, SKIP_REASON } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));

function cawire(columns: string | undefined, ...args: string[]) {
  const env = { ...process.env };
  delete env.COLUMNS;
  if (columns !== undefined) env.COLUMNS = columns;
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

const lines = (text: string) => text.trimEnd().split('\n');

/** Every report's table view (CSV and JSON are not laid out). */
const REPORTS: readonly (readonly string[])[] = [
  ['summary'],
  ['latency'],
  ['latency', '--kind', 'all'],
  ['latency', '--kind', 'all', '--raw'],
  ['latency', '--kind', 'all', '--unanswered'],
  ['searches'],
  ['searches', '--unanswered'],
  ['searches', '--clients'],
  ['beacons'],
  ['circuits'],
];

describe.skipIf(!HAVE_SHARED)('tables fit the terminal', { timeout: 120_000 }, () => {
  if (!HAVE_SHARED) console.warn(SKIP_REASON);
  const caput = join(REAL, 'caput.pcap');

  it('caput latency per server: boxed at 120 columns, columns two apart at 80 (the box would take 82)', () => {
    // caput.txt: 18 CreateChan pairs on 127.0.0.1:5064
    const boxed = lines(cawire('120', 'latency', '-q', caput).out);
    expect(boxed).toHaveLength(1 + 5);
    expect(boxed[1]).toBe('┌────────────────┬───────┬───────┬───────┬───────┬───────┬───────┬───────┬───────┐');
    expect(boxed[2]).toBe('│ server         │ count │  mean │   std │   min │   25% │   50% │   75% │   max │');
    expect(boxed[3]).toBe('├────────────────┼───────┼───────┼───────┼───────┼───────┼───────┼───────┼───────┤');
    expect(boxed[4]).toMatch(/^│ 127\.0\.0\.1:5064 │    18 │( +\d+\.\d{3} │){7}$/);
    expect(boxed[5]).toBe('└────────────────┴───────┴───────┴───────┴───────┴───────┴───────┴───────┴───────┘');
    const narrow = lines(cawire('80', 'latency', '-q', caput).out);
    expect(narrow.slice(1, 3)).toEqual(['server          count   mean    std    min    25%    50%    75%    max', '──────────────  ─────  ─────  ─────  ─────  ─────  ─────  ─────  ─────']);
    expect(narrow[3]).toMatch(/^127\.0\.0\.1:5064     18( +\d+\.\d{3}){7}$/);
    // the same numbers either way
    expect(narrow[3]!.split(/ +/)).toEqual(boxed[4]!.split(/[ │]+/).slice(1, -1));
  });

  it('piped without COLUMNS: 120 columns', () => {
    expect(cawire(undefined, 'latency', '--kind', 'all', '-q', caput).out).toBe(cawire('120', 'latency', '--kind', 'all', '-q', caput).out);
  });

  it('a table too wide even at its narrowest: one block of lines per row, every value there', () => {
    const out = lines(cawire('80', 'latency', '--kind', 'all', '-q', caput).out);
    expect(out[0]).toBe('2 requests were unanswered (search 1, connect 1)');
    // caput.txt: searches, handshakes, CreateChan, reads, writes, connects: six kinds, one server
    expect(out.filter((l) => /^─ \d of 6 ─+$/.test(l))).toHaveLength(6);
    expect(out.filter((l) => l.startsWith('kind '))).toEqual(['search', 'handshake', 'create', 'read', 'write', 'connect'].map((k) => `kind    ${k}`));
    expect(out.filter((l) => l.startsWith('count '))).toEqual(['18', '18', '18', '37', '6', '18'].map((n) => `count   ${n}`));
  });

  for (const capture of ['caput.pcap', 'multi_ioc.pcap', 'search_notfound.pcap', 'monitor_cancel.pcap']) {
    it(`${capture}: no line of any report wider than COLUMNS (80, 120); --wide as wide as its widest cell, one line per row`, () => {
      const path = join(REAL, capture);
      for (const args of REPORTS) {
        for (const columns of [80, 120]) {
          const r = cawire(String(columns), ...args, '-q', path);
          expect(r.code, `${args.join(' ')} at ${columns}`).toBe(0);
          for (const l of lines(r.out)) {
            // the summary's 'details:' lines are commands to copy, not table text
            if (l.startsWith('  cawire ')) continue;
            expect(stringWidth(l), `${args.join(' ')} at ${columns}: ${l}`).toBeLessThanOrEqual(columns);
          }
        }
        const wide = lines(cawire('80', ...args, '--wide', '-q', path).out).filter((l) => l.startsWith('│'));
        // no rule between rows: the rule under the head is the only ├ line
        expect(lines(cawire('80', ...args, '--wide', '-q', path).out).filter((l) => l.startsWith('├')).length).toBe(args[0] === 'summary' ? 2 : wide.length > 0 ? 1 : 0);
      }
    });
  }
});
