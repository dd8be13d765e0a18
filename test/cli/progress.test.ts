// The progress line (src/cli/progress.ts): drawn by cli-progress on a terminal
// stream as the runner reports chunks; none when stderr is not a terminal.

import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { ProgressLine, showProgress, totalBytes } from '../../src/cli/progress.js';
import { runAnalysis } from '../../src/analysis/runner.js';
import { buildAnalysis } from '../../src/analysis/registry.js';
import { setReadProgress } from '../../src/dissect/read-progress.js';
import { runCompare } from '../../src/compare/run.js';
// The pool runs its workers from dist/ (worker.js beside pool.js): it and the display it reports to come from there.
import { analyseFiles } from '../../dist/src/parallel/pool.js';
import { showProgress as showBuiltProgress } from '../../dist/src/cli/progress.js';
import { setReadProgress as setBuiltReadProgress } from '../../dist/src/dissect/read-progress.js';
import { HAVE_SHARED, REAL } from '../helpers/shared.js';

const CLI = fileURLToPath(new URL('../../bin/cawire.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'cawire-progress-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A terminal-like stream that keeps what is drawn on it. */
function fakeTerminal(): NodeJS.WritableStream & { text: string } {
  const t = { isTTY: true, columns: 200, text: '', write: (s: string) => ((t.text += s), true), on: () => t, once: () => t, removeListener: () => t };
  return t as unknown as NodeJS.WritableStream & { text: string };
}

describe.skipIf(!HAVE_SHARED)('progress while reading', () => {
  const file = join(REAL, 'camonitor_fast.pcap');

  it('a run through the one runner draws bytes of the total and the messages decoded, then clears its line', async () => {
    const term = fakeTerminal();
    showProgress(term);
    try {
      const r = await runAnalysis([file], await buildAnalysis('circuits', {}), {});
      const size = statSync(file).size;
      // the last state is drawn when the bar stops: all of the file, every message
      expect(term.text).toContain(`${(size / 1048576).toFixed(1)} of ${(size / 1048576).toFixed(1)} MB`);
      expect(term.text).toContain(`${r.result.stats.caMessages} messages`);
      expect(term.text).toContain('100%');
      expect(term.text.endsWith('\x1b[2K') || term.text.includes('\x1b[2K')).toBe(true);
    } finally {
      setReadProgress(undefined);
    }
  });

  it('several files on worker threads: one line over all of them, their bytes and messages added up', async () => {
    const other = join(REAL, 'caget_basic.pcap');
    const term = fakeTerminal();
    showBuiltProgress(term);
    try {
      const parts = await analyseFiles([file, other], { name: 'circuits', options: {} }, 2);
      const mb = ((statSync(file).size + statSync(other).size) / 1048576).toFixed(1);
      expect(term.text).toContain(`${mb} of ${mb} MB`);
      expect(term.text).toContain(`${parts[0]!.result.stats.caMessages + parts[1]!.result.stats.caMessages} messages`);
      expect(term.text).toContain('100%');
    } finally {
      setBuiltReadProgress(undefined);
    }
  }, 30_000);

  it('compare: its matching pass over both captures is one line, their bytes added up', async () => {
    const dir = join(REAL, '..', 'scenarios');
    const paths: [string, string] = [join(dir, 'slow_consumer.client.pcap'), join(dir, 'slow_consumer.server.pcap')];
    const term = fakeTerminal();
    showProgress(term);
    try {
      await runCompare(paths, { filter: { serverPorts: new Set([5064]), repeaterPort: 5065, nat: false }, clockOffset: 0 });
      const mb = ((statSync(paths[0]).size + statSync(paths[1]).size) / 1048576).toFixed(1);
      expect(term.text).toContain(`${mb} of ${mb} MB`);
      expect(term.text).toContain('100%');
    } finally {
      setReadProgress(undefined);
    }
  });

  it('stdin and gzip have no total: bytes and rate only', () => {
    const gz = join(tmp, 'c.pcap.gz');
    writeFileSync(gz, gzipSync(Buffer.from('not even a capture')));
    expect(totalBytes(['-'])).toBeUndefined();
    expect(totalBytes([gz])).toBeUndefined();
    expect(totalBytes([file, file])).toBe(2 * statSync(file).size);
    const term = fakeTerminal();
    const p = new ProgressLine(term);
    p.begin(['-']);
    p.read(3 * 1048576, 42);
    p.end();
    expect(term.text).toContain('reading 3.0 MB | 42 messages');
    expect(term.text).not.toContain('left');
  });

  it('nothing on stderr when it is not a terminal', () => {
    const r = spawnSync(process.execPath, [CLI, 'circuits', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('reading');
    expect(r.stderr).not.toContain('\x1b');
  });
});
