import { spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LineWriter } from '../../src/output/sink.js';

const SINK = fileURLToPath(new URL('../../dist/src/output/sink.js', import.meta.url));

/** A stream that records each write as it is handed over. */
function recorder(): { stream: Writable; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk);
      cb();
    },
  });
  return { stream, writes };
}

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i} ${'x'.repeat(i % 50)} é`);

describe('LineWriter', () => {
  it('writes lines whole and in order across many batches; a stream that keeps its chunks keeps them intact', async () => {
    const through = new PassThrough();
    const chunks: Buffer[] = [];
    // Read only after everything is written: the PassThrough holds every chunk meanwhile.
    through.pause();
    const out = new LineWriter(through, 4096);
    const lines = numbered(5000);
    for (const [i, l] of lines.entries()) {
      out.line(l);
      // Let the writes complete now and then: a writer that reused its buffers now would overwrite held chunks.
      if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    out.flush();
    through.on('data', (c: Buffer) => chunks.push(c));
    through.resume();
    await out.end();
    through.end();
    await new Promise((resolve) => through.on('end', resolve));
    expect(chunks.length).toBeGreaterThan(40);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(lines.map((l) => `${l}\n`).join(''));
  });

  it('lines written as bytes into its buffer come out intact when they cross buffers or outgrow one', async () => {
    const through = new PassThrough();
    const chunks: Buffer[] = [];
    through.on('data', (c: Buffer) => chunks.push(c));
    const out = new LineWriter(through, 64);
    const expected: string[] = [];
    for (let i = 0; i < 300; i++) {
      // 0 to 199 characters: most lines cross a 64-byte buffer's end, some are longer than a buffer.
      const l = `${i}:${'é·x'.repeat((i * 7) % 67)}`;
      expected.push(l);
      if (i % 5 === 0) out.line(l);
      else {
        out.text.str(`${i}:`);
        for (let k = 0; k < (i * 7) % 67; k++) out.text.str('é·x');
        out.text.char(10);
        out.endLine();
      }
    }
    await out.end();
    through.end();
    await new Promise((resolve) => through.on('end', resolve));
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected.map((l) => `${l}\n`).join(''));
  });

  it('a line longer than its buffer goes out in pieces as it is written; the buffer never grows', async () => {
    const { stream, writes } = recorder();
    const out = new LineWriter(stream, 64);
    out.text.str('short');
    out.text.char(10);
    out.endLine();
    const sizes = new Set<number>();
    for (let i = 0; i < 100; i++) {
      out.text.str(`${i % 10}`.repeat(10));
      sizes.add(out.text.buf.length);
    }
    out.text.char(10);
    out.endLine();
    out.text.str('after');
    out.text.char(10);
    out.endLine();
    await out.end();
    expect([...sizes]).toEqual([64]);
    expect(writes.length).toBeGreaterThan(15);
    expect(Buffer.concat(writes).toString()).toBe(`short\n${Array.from({ length: 100 }, (_, i) => `${i % 10}`.repeat(10)).join('')}\nafter\n`);
  });

  it('flushSoon() writes once, on the next turn of the event loop, however often it is asked', async () => {
    const { stream, writes } = recorder();
    const out = new LineWriter(stream);
    out.line('a');
    out.flushSoon();
    out.line('b');
    out.flushSoon();
    expect(writes).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.map(String)).toEqual(['a\nb\n']);
    out.line('c');
    await out.end();
    expect(writes.map(String)).toEqual(['a\nb\n', 'c\n']);
  });

  it('reuses its buffers on stdout only after they are written: a slow pipe reader gets every byte', async () => {
    // A child writes 200,000 lines (about 6 MB, some 50 batches) to a pipe read slowly.
    const script = `
      import { LineWriter } from ${JSON.stringify(SINK)};
      const out = new LineWriter();
      for (let i = 0; i < 200000; i++) { out.line('line ' + i + ' ' + 'y'.repeat(i % 40)); if (i % 5000 === 0) await out.ready(); }
      await out.end();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    for await (const c of child.stdout) {
      chunks.push(c as Buffer);
      if (chunks.length % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(200000);
    const wrong = lines.findIndex((l, i) => l !== `line ${i} ${'y'.repeat(i % 40)}`);
    expect(wrong).toBe(-1);
  }, 30_000);
});
