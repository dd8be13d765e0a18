// The package installs as users install CLIs: `npm pack` ships what `bin`, `main`
// and `types` need, and `npm install -g` of the tarball gives a working `cawire`.
// npm reads the dependencies from its cache (CI's `npm ci` filled it) or the registry.
// The README's library example type-checks against the installed package's types.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { libraryExample, typeErrors } from '../helpers/readme-example.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEMO = join(ROOT, 'fixtures/demo.pcap');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; types: string; bin: Record<string, string> };

function run(cmd: string, args: string[], cwd = ROOT) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

describe('npm pack and a global install', () => {
  it('ships bin, main and types, and the installed cawire runs a report as the checkout does', () => {
    const dest = mkdtempSync(join(tmpdir(), 'cawire-pack-'));
    // The build is fresh (npm test builds first): pack what is there, without building again.
    const pack = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest]);
    expect(pack.code, pack.err).toBe(0);
    const [info] = JSON.parse(pack.out) as [{ filename: string; files: { path: string }[] }];
    const shipped = new Set(info.files.map((f) => f.path));
    for (const path of [pkg.main.replace(/^\.\//, ''), pkg.types.replace(/^\.\//, ''), ...Object.values(pkg.bin), 'dist/cli/main.js', 'dist/cli/worker.js']) {
      expect(shipped.has(path), `${path} is in the tarball`).toBe(true);
    }
    // Tests, sources and the bench stay out.
    expect([...shipped].filter((p) => p.startsWith('test/') || p.startsWith('src/') || p.startsWith('dist/bench/'))).toEqual([]);

    const prefix = mkdtempSync(join(tmpdir(), 'cawire-prefix-'));
    const install = run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dest, info.filename)]);
    expect(install.code, install.err).toBe(0);
    const bin = join(prefix, 'bin/cawire');
    expect(existsSync(bin)).toBe(true);

    const help = run(bin, ['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: cawire \[options\] \[command\]/);
    const installed = run(bin, ['latency', '--json', DEMO]);
    const local = run(process.execPath, [join(ROOT, 'bin/cawire.js'), 'latency', '--json', DEMO]);
    expect(installed.code).toBe(0);
    expect(installed.out).toBe(local.out);
    expect(JSON.parse(installed.out.split('\n')[0]!)).toHaveProperty('server');
    // The library entry and its types are in place for `import ... from 'cawire'`.
    const lib = join(prefix, 'lib/node_modules/cawire');
    expect(readdirSync(join(lib, 'dist/src')).filter((f) => f === 'index.js' || f === 'index.d.ts')).toEqual(['index.d.ts', 'index.js']);
    // The README's library example type-checks against the installed types, as in a user's project.
    const project = mkdtempSync(join(tmpdir(), 'cawire-user-'));
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }');
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(lib, join(project, 'node_modules/cawire'), 'dir');
    expect(typeErrors(project, 'example.ts', libraryExample())).toBe('');
  }, 300_000);
});
