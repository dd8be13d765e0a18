// The README's library example type-checks under `tsc --strict` against the built
// package's types (needs the build: npm test runs it first), and the narrowing it
// relies on is real: without the `type` test, `ev.command.data` is an error.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libraryExample, typeErrors } from '../helpers/readme-example.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the README library example', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cawire-types-'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules/cawire'), 'dir');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles under tsc --strict with the package imported by name', () => {
    const example = libraryExample();
    expect(example).toContain("ev.type === 'ReadNotifyResponse'");
    expect(typeErrors(dir, 'example.ts', example)).toBe('');
  }, 60_000);

  it('needs its type test: without it, data is not on every message', () => {
    const unnarrowed = libraryExample().replace("if (ev.type === 'ReadNotifyResponse') ", '');
    expect(typeErrors(dir, 'unnarrowed.ts', unnarrowed)).toMatch(/error TS2339: Property 'data' does not exist on type/);
  }, 60_000);

  it('narrows each message class by its type name, and only that class', () => {
    const errors = typeErrors(
      dir,
      'classes.ts',
      `import { dissect, type CaEventOf, type CaMessageOf } from 'cawire';
const beacon = (ev: CaEventOf<'Beacon'>): string => ev.command.address;
const search = (m: CaMessageOf<'SearchRequest'>): string => m.name;
for await (const ev of dissect('x.pcap')) {
  if (ev.type === 'Beacon') console.log(beacon(ev));
  if (ev.command.type === 'SearchRequest') console.log(search(ev.command));
  if (ev.type === 'ErrorResponse') console.log(ev.command.request?.command_name, ev.command.message);
  if (ev.type === 'EventAddRequest') console.log(ev.command.mask);
  if (ev.type === 'SnapshotRequest') console.log(ev.command.parameter1);
  if (ev.type === 'CreateChanRequest') console.log(ev.command.status);
}
`,
    );
    // only the last test is wrong: CreateChanRequest has no status
    expect(errors.trim().split('\n')).toEqual([expect.stringMatching(/classes\.ts\(10,.*error TS2339: Property 'status' does not exist on type 'CreateChanRequest'/)]);
  }, 60_000);
});
