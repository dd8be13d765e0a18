// JSON keys are snake_case in every report and in print --json, and a report's CSV header names the same keys.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HAVE_SHARED, REAL } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));

function run(...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args, '-q'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** Every key of every object in `v`, nested ones included. */
function keys(v: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(v)) for (const x of v) keys(x, into);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      into.add(k);
      keys(x, into);
    }
  }
  return into;
}

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

const REPORTS: readonly (readonly string[])[] = [
  ['summary'],
  ...['server', 'client', 'pv', 'circuit'].map((by) => ['latency', '--kind', 'all', '--by', by]),
  ['latency', '--kind', 'all', '--raw'],
  ['latency', '--kind', 'all', '--unanswered'],
  ['searches'],
  ['searches', '--unanswered'],
  ['searches', '--duplicates'],
  ['searches', '--clients'],
  ['searches', '--storm', '1'],
  ['beacons'],
  ['beacons', '--timeline'],
  ['circuits'],
  ['circuits', '--ended-by-rst'],
];

describe.skipIf(!HAVE_SHARED)('JSON keys', { timeout: 180_000 }, () => {
  for (const capture of ['caput.pcap', 'multi_ioc.pcap', 'search_notfound.pcap', 'monitor_cancel.pcap', 'caget_basic.pcap']) {
    it(`${capture}: every key of every report's JSON is snake_case, and its CSV header names the same keys`, () => {
      const path = join(REAL, capture);
      let seen = 0;
      for (const args of REPORTS) {
        const rows = run(...args, '--json', path).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
        const all = keys(rows, new Set());
        for (const k of all) expect(k, `${args.join(' ')}: ${k}`).toMatch(SNAKE);
        seen += all.size;
        const header = run(...args, '--csv', path).split('\n')[0]!.split(',');
        for (const k of header) expect(k, `${args.join(' ')} CSV: ${k}`).toMatch(SNAKE);
        if (rows.length) expect(Object.keys(rows[0]!), args.join(' ')).toEqual(header);
      }
      expect(seen).toBeGreaterThan(50);
      // print --json: the message's keys, its fields' and its DBR metadata's (upper_disp_limit, as caproto names them)
      const printed = keys(run('print', '--json', path).split('\n').filter(Boolean).map((l) => JSON.parse(l)), new Set());
      for (const k of printed) expect(k, `print --json: ${k}`).toMatch(SNAKE);
    });
  }

  it('caget_basic print --json: the DBR_CTRL metadata of TEST:ao with caproto\'s limit names', () => {
    // caget_basic.txt: caget -d DBR_CTRL_DOUBLE TEST:ao; ioc/test.db: TEST:ao has EGU V, PREC 4, HOPR 100, LOPR -100, HIHI 90, HIGH 50, LOW -50, LOLO -90, DRVH 100, DRVL -100
    const rows = run('print', '--json', '--pv', 'TEST:ao', '--command', 'ReadNotifyResponse', join(REAL, 'caget_basic.pcap'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const ctrl = rows.find((r) => r.fields.data_type_name === 'DBR_CTRL_DOUBLE');
    expect(ctrl.type).toBe('ReadNotifyResponse');
    expect(ctrl.fields.metadata).toMatchObject({ units: 'V', precision: 4, upper_disp_limit: 100, lower_disp_limit: -100, upper_alarm_limit: 90, upper_warning_limit: 50, lower_warning_limit: -50, lower_alarm_limit: -90, upper_ctrl_limit: 100, lower_ctrl_limit: -100 });
  });
});
