// The one runner: a capture read whole, and the same capture cut by records into
// rotated files and read with --join, give the same reports, frame numbers included.

import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAnalysis, type AnalysisName, type OptionsOf } from '../../src/analysis/registry.js';
import { runAnalysis } from '../../src/analysis/runner.js';
import { HAVE_SHARED, REAL, SHARED } from '../helpers/shared.js';

const SCENARIOS = join(SHARED, 'corpus/scenarios');
const dir = mkdtempSync(join(tmpdir(), 'cawire-runner-'));

/** A classic pcap cut by records into `n` files of about equal record counts (tcpdump -C style pieces), named in reverse so the runner must order them. */
function splitPcap(path: string, n: number): string[] {
  const bytes = readFileSync(path);
  const header = bytes.subarray(0, 24);
  const little = bytes.readUInt32LE(0) === 0xa1b2c3d4 || bytes.readUInt32LE(0) === 0xa1b23c4d;
  const records: Buffer[] = [];
  for (let off = 24; off + 16 <= bytes.length; ) {
    const capLen = little ? bytes.readUInt32LE(off + 8) : bytes.readUInt32BE(off + 8);
    records.push(bytes.subarray(off, off + 16 + capLen));
    off += 16 + capLen;
  }
  const per = Math.ceil(records.length / n);
  return Array.from({ length: n }, (_, i) => {
    const piece = join(dir, `${path.split('/').pop()}.${n - i}`);
    writeFileSync(piece, Buffer.concat([header, ...records.slice(i * per, (i + 1) * per)]));
    return piece;
  }).reverse();
}

async function part<N extends AnalysisName>(name: N, options: OptionsOf<N>, sources: string[]) {
  return (await runAnalysis(sources, await buildAnalysis(name, options))).part;
}

describe.skipIf(!HAVE_SHARED)('runner: --join of a capture cut in pieces', () => {
  const cases = [join(REAL, 'multi_ioc.pcap'), join(SCENARIOS, 'twopoint_lossy.client.pcap'), join(SCENARIOS, 'slow_consumer.server.pcap')];
  for (const capture of cases) {
    it(`${capture.split('/').pop()}: summary, circuits, latency and searches equal the unsplit capture's`, async () => {
      const pieces = splitPcap(capture, 3);
      expect(await part('summary', {}, pieces)).toEqual(await part('summary', {}, [capture]));
      expect(await part('circuits', {}, pieces)).toEqual(await part('circuits', {}, [capture]));
      const kinds = ['search', 'handshake', 'create', 'read', 'write', 'subscribe', 'echo', 'connect'] as const;
      const latency = { kinds: [...kinds], listSlowerThan: -Infinity };
      const joined = await part('latency', latency, pieces);
      const whole = await part('latency', latency, [capture]);
      expect(joined.records).toEqual(whole.records);
      expect(joined.distributions).toEqual(whole.distributions);
      expect(joined.unanswered).toEqual(whole.unanswered);
      expect(joined.counts).toEqual(whole.counts);
      expect(await part('searches', { storm: 5 }, pieces)).toEqual(await part('searches', { storm: 5 }, [capture]));
    });
  }

  it('numbers frames on across the files and says where each file went', async () => {
    const capture = join(REAL, 'multi_ioc.pcap');
    const pieces = splitPcap(capture, 3);
    const r = await runAnalysis(pieces, await buildAnalysis('circuits', {}));
    // multi_ioc.txt: 1006 packets (capinfos); 336 records per piece, the last 334
    expect(r.result.capture.packets).toBe(1006);
    expect(r.joined!.map((f) => [f.path, f.firstFrame, f.lastFrame])).toEqual([
      [pieces[2], 1, 336],
      [pieces[1], 337, 672],
      [pieces[0], 673, 1006],
    ]);
  });
});

describe.skipIf(!HAVE_SHARED)('runner: filters and grouping on multi_ioc.pcap', () => {
  const capture = join(REAL, 'multi_ioc.pcap');
  const run = async <N extends AnalysisName>(name: N, options: OptionsOf<N>, filter = {}) => runAnalysis([capture], await buildAnalysis(name, options), { filter });

  // multi_ioc.txt: 20 circuits and 40 CreateChan pairs per server (IOC2 on TCP 41233); 20 searches for each of 6 names.
  it('--port 41233: the 20 circuits of IOC2 and its 40 channel creations', async () => {
    expect((await run('circuits', {}, { port: [41233] })).part).toHaveLength(20);
    const lat = await run('latency', { kinds: ['create'] }, { port: [41233] });
    expect(lat.part.counts.pairs.create).toBe(40);
  });

  it("--pv 'IOC1:*': 2 names searched 20 times each, 20 circuits, 40 creations", async () => {
    const s = (await run('searches', {}, { pv: ['IOC1:*'] })).part;
    expect(s.names.map((n) => [n.name, n.searches])).toEqual([
      ['IOC1:ai', 20],
      ['IOC1:mbbi', 20],
    ]);
    expect((await run('circuits', {}, { pv: ['IOC1:*'] })).part).toHaveLength(20);
    expect((await run('latency', { kinds: ['create'] }, { pv: ['IOC1:*'] })).part.counts.pairs.create).toBe(40);
  });

  it('--host: a CIDR block holding the host keeps all 60 circuits, another keeps none', async () => {
    expect((await run('circuits', {}, { host: ['127.0.0.0/8'] })).part).toHaveLength(60);
    expect((await run('circuits', {}, { host: ['10.0.0.0/8'] })).part).toHaveLength(0);
  });

  it('--duration 5s: only the packets of the first 5 s are read', async () => {
    // the first 5 s of capture time hold 404 records (read from the pcap's record headers); the read stops in the chunk that passes it
    const r = await run('summary', {}, { duration: 5 });
    expect(r.part.packets).toBeGreaterThanOrEqual(404);
    const s = await run('searches', {}, { duration: 5 });
    // rounds start at 08:59:52.71 (2.44 s after the first packet), about 0.34 s apart: rounds 1-8 begin before 5 s
    expect(s.part.names[0]!.searches).toBe(8);
  });

  it('--by user: every client sent user root on host vm (the CLIENT_NAME and HOST_NAME payloads)', async () => {
    const lat = await run('latency', { kinds: ['create'], by: 'user' });
    expect(lat.part.distributions.map((d) => [d.group, d.values.length])).toEqual([['root@vm', 120]]);
    const s = await run('searches', { by: 'user' });
    expect(s.part.clients.map((c) => [c.client, c.searches])).toEqual([['root@vm', 120]]);
    const h = await run('searches', { by: 'host' });
    expect(h.part.clients.map((c) => [c.client, c.searches])).toEqual([['127.0.0.1', 120]]);
  });
});
