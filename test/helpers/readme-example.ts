// The README's library example, and tsc's verdict on a file that imports 'cawire'
// as a user's project would (test/types/readme.test.ts against the checkout,
// test/cli/package.test.ts against the installed tarball).

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The ```ts block of the README's "## Library" section. */
export function libraryExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Library'));
  const block = /```ts\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf('\n## ', 1)));
  if (!block) throw new Error('README: no ```ts block in ## Library');
  return block[1]!;
}

/** tsc's diagnostics for one file that imports 'cawire' as a user's project would ('' when it compiles). */
export function typeErrors(dir: string, name: string, source: string): string {
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
