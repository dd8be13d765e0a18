// The README's library example type-checks under `tsc --strict` against the built
// package's types (needs the build: npm test runs it first), and the narrowing it
// relies on is real: without the `type` test, `ev.command.data` is an error.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The ```ts block of the README's "## Library" section. */
function libraryExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Library'));
  const block = /```ts\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf('\n## ', 1)));
  if (!block) throw new Error('README: no ```ts block in ## Library');
  return block[1]!;
}

/** tsc's diagnostics for one file that imports 'cawire' as a user's project would ('' when it compiles). */
function typeErrors(dir: string, name: string, source: string): string {
  writeFileSync(join(dir, name), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2023', lib: ['es2023'], module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')], skipLibCheck: true },
      files: [name],
    }),
  );
  try {
    execFileSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    return (err as { stdout: string }).stdout;
  }
}

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
