import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Pairer, type PairRecord } from '../../src/analysis/pairing.js';
import { buildProgram } from '../../src/cli/main.js';
import type { CaEvent } from '../../src/dissect/event.js';
import { runDissection, type DissectResult } from '../../src/dissect/run.js';
import { Beacon } from '../../protocols/ca/messages.js';
import { SynthCapture, type SynthCaptureOptions, type SynthTruth } from '../../src/synth/capture-stream.js';
import { FIXTURES } from '../../src/synth/fixtures.js';
import type { ScenarioOptions } from '../../src/synth/scenario.js';
import { formatTruth } from '../../src/synth/truth.js';

const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const SEC = 1e9;

async function generate(opts: SynthCaptureOptions): Promise<{ bytes: Buffer; truth: SynthTruth }> {
  const capture = new SynthCapture(opts);
  const chunks: Buffer[] = [];
  for await (const chunk of capture) chunks.push(chunk as Buffer);
  return { bytes: Buffer.concat(chunks), truth: capture.truth() };
}

const pcap = (scenario: Partial<ScenarioOptions>): SynthCaptureOptions => ({ scenario, format: 'pcap' });

interface Decoded {
  events: CaEvent[];
  byType: Record<string, number>;
  result: DissectResult;
  pairs: PairRecord[];
}

/** Everything cawire sees in a capture: events by type, the dissector's statistics, and the pairer's pairs. */
async function decode(bytes: Buffer): Promise<Decoded> {
  const events: CaEvent[] = [];
  const byType: Record<string, number> = {};
  const pairs: PairRecord[] = [];
  const pairer = new Pairer({}, (r) => pairs.push(r));
  const result = await runDissection(
    bytes,
    {},
    (ev) => {
      events.push(ev);
      byType[ev.type] = (byType[ev.type] ?? 0) + 1;
      pairer.event(ev);
    },
    { listener: { circuitEnded: (c) => pairer.circuitEnded(c) } },
  );
  pairer.finish();
  return { events, byType, result, pairs };
}

const hash = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The kinds of pair both the truth and cawire's pairer know. */
const PAIRED_KINDS = new Set(['search', 'create', 'read', 'write', 'subscribe', 'echo']);

/** truth pairs and pairer records, each keyed by kind, client address, PV and request time (µs after the start). */
function pairKeys(truth: SynthTruth, pairs: PairRecord[]) {
  const clientIp = new Map(truth.clients.map((c) => [c.name, c.ip]));
  const key = (kind: string, ip: string, pv: string | undefined, us: number) => `${kind} ${ip} ${pv ?? '-'} ${us}`;
  const expected = new Map(
    truth.pairs.filter((p) => PAIRED_KINDS.has(p.kind)).map((p) => [key(p.kind, clientIp.get(p.client)!, p.pv, p.requestUs), p.latencyUs]),
  );
  const seen = new Map(
    pairs
      .filter((p) => PAIRED_KINDS.has(p.kind))
      .map((p) => [key(p.kind, p.client.split(':')[0]!, p.pv, Math.round((p.requestTime - truth.startTime) * 1e6)), Math.round(p.latency * 1e6)]),
  );
  return { expected, seen };
}

describe('synthetic scenario: determinism', () => {
  const small = pcap({ seed: 7, durationNs: 5 * SEC, rate: 200 });

  it('writes the same bytes and truth for the same seed', async () => {
    const a = await generate(small);
    const b = await generate(small);
    expect(a.bytes.length).toBeGreaterThan(10_000);
    expect(hash(a.bytes)).toBe(hash(b.bytes));
    expect(formatTruth(a.truth)).toBe(formatTruth(b.truth));
  });

  it('writes other bytes for another seed', async () => {
    const a = await generate(small);
    const b = await generate(pcap({ seed: 8, durationNs: 5 * SEC, rate: 200 }));
    expect(hash(a.bytes)).not.toBe(hash(b.bytes));
  });
});

describe('synthetic scenario: the truth file against what cawire decodes', () => {
  it('every message written is decoded, type by type, with no malformed bytes', async () => {
    const { bytes, truth } = await generate(pcap({ seed: 3, durationNs: 30 * SEC, rate: 300, restarts: 2, missedBeacons: 0.2 }));
    const { byType, result } = await decode(bytes);
    expect(truth.messages.total).toBeGreaterThan(5000);
    expect(byType).toEqual(truth.messages.byType);
    expect(result.stats.caMessages).toBe(truth.messages.total);
    expect(result.stats.circuits).toBe(truth.tcp.circuits);
    expect(result.capture.packets).toBe(truth.capture.packets);
    expect(Object.values(result.stats.malformed).map((m) => m.count)).toEqual([0, 0, 0, 0, 0]);
    expect([result.stats.gaps, result.stats.retransmissions, result.stats.outOfOrder]).toEqual([0, 0, 0]);
    // every command kind the generator writes
    expect(Object.keys(truth.messages.byType).sort()).toEqual([
      'AccessRightsResponse', 'Beacon', 'ClearChannelRequest', 'ClearChannelResponse', 'ClientNameRequest',
      'CreateChFailResponse', 'CreateChanRequest', 'CreateChanResponse', 'EchoRequest', 'EchoResponse',
      'EventAddRequest', 'EventAddResponse', 'EventCancelRequest', 'EventCancelResponse', 'HostNameRequest',
      'ReadNotifyRequest', 'ReadNotifyResponse', 'SearchRequest', 'SearchResponse', 'ServerDisconnResponse',
      'VersionRequest', 'VersionResponse', 'WriteNotifyRequest', 'WriteNotifyResponse',
    ]);
  });

  it('injected loss shows as capture gaps, retransmissions and reordering as counted', async () => {
    const { bytes, truth } = await generate(pcap({ seed: 4, durationNs: 20 * SEC, rate: 500, loss: 0.02, reorder: 0.2, retransmit: 0.02 }));
    const { byType, result } = await decode(bytes);
    const s = result.stats;
    expect(truth.tcp.gaps).toBeGreaterThan(20);
    expect(truth.tcp.retransmissions).toBeGreaterThan(20);
    expect(truth.tcp.outOfOrder).toBeGreaterThan(0);
    expect(truth.lostMessages.total).toBeGreaterThanOrEqual(truth.tcp.gaps);
    expect([s.gaps, s.gapBytes, s.retransmissions]).toEqual([truth.tcp.gaps, truth.tcp.gapBytes, truth.tcp.retransmissions]);
    // a reordered pair: the segment sent late is out of order (Wireshark's rule: it came within 3 ms, here the
    // handshake's round trip, of the one sent early, which came after a hole); the truth counts the early ones
    expect(s.outOfOrder).toBe(truth.tcp.outOfOrder);
    // what the gaps swallowed is not decoded; everything else is
    expect(byType).toEqual(truth.messages.byType);
    expect(s.malformed['bad-header'].count + s.malformed.resync.count).toBe(0);
  });

  it('the pairer measures exactly the latencies written, pair by pair', async () => {
    const latency = { ioc1: { kind: 'fixed', medianNs: 2e6 }, ioc2: { kind: 'lognormal', medianNs: 40e6, sigma: 1 } } as const;
    const { bytes, truth } = await generate(pcap({ seed: 5, durationNs: 40 * SEC, rate: 300, latency, restarts: 1, missedBeacons: 0.3 }));
    const { pairs } = await decode(bytes);
    const { expected, seen } = pairKeys(truth, pairs);
    expect(expected.size).toBeGreaterThan(300);
    expect(new Set(truth.pairs.map((p) => p.kind))).toEqual(new Set(['search', 'create', 'read', 'write', 'subscribe', 'echo', 'cancel', 'clear']));
    expect(seen).toEqual(expected);
    // ioc1's server waited its fixed 2 ms every time; for a reply in one segment the wire adds
    // only the flush delay and packet spacing (searches are timed from the first try, waveforms span segments)
    const ioc1 = truth.pairs.filter((p) => p.ioc === 'ioc1' && p.kind !== 'search' && !p.pv?.includes(':wf'));
    expect(ioc1.length).toBeGreaterThan(50);
    expect(ioc1.filter((p) => !(p.injectedUs === 2000 && p.latencyUs >= 2000 && p.latencyUs < 2100))).toEqual([]);
    expect(truth.latency.ioc2!.create!.minUs).toBeGreaterThan(1000);
  });

  it('unanswered names are searched and never answered', async () => {
    const { bytes, truth } = await generate(pcap({ seed: 6, durationNs: 20 * SEC, rate: 100, unfound: 4 }));
    const { events } = await decode(bytes);
    const asked = new Set<string>();
    const answered = new Set<string>();
    for (const ev of events) {
      if (ev.type === 'SearchRequest') asked.add(ev.pv!);
      if (ev.type === 'SearchResponse') answered.add(ev.pv!);
    }
    const never = [...asked].filter((n) => !answered.has(n)).sort();
    expect(never.length).toBeGreaterThan(1);
    expect(never.every((name) => name.startsWith('RETIRED:'))).toBe(true);
    expect(truth.search.unanswered.map((u) => u.name)).toEqual(never);
    for (const { name, requests } of truth.search.unanswered) {
      expect(events.filter((ev) => ev.type === 'SearchRequest' && ev.pv === name).length).toBe(requests);
    }
  });

  it('an IOC restart shows in its beacons: a pause, then ids 0, 0, 1, 2 … 20 ms apart and doubling; missed ones absent', async () => {
    const { bytes, truth } = await generate(pcap({ seed: 9, iocs: 2, durationNs: 60 * SEC, rate: 50, restarts: 1, missedBeacons: 0.2 }));
    const { events } = await decode(bytes);
    expect(truth.beacons.restarts).toHaveLength(1);
    const restart = truth.beacons.restarts[0]!;
    expect(restart).toMatchObject({ ioc: 'ioc1', downUs: 30e6, portBefore: 5064, portAfter: 5064 });
    const us = (ev: CaEvent) => Math.round((ev.timestamp - truth.startTime) * 1e6);
    // ioc1 and ioc2 share a host: ioc1's beacons are the ones announcing TCP port 5064
    const ioc1 = events.filter((ev) => ev.command instanceof Beacon && ev.command.server_port === 5064);
    expect(ioc1.some((ev) => us(ev) > restart.downUs && us(ev) < restart.upUs)).toBe(false);
    // written and missed beacons after the restart, in time order, make up RSRV's sequence
    const sent = [
      ...ioc1.filter((ev) => us(ev) >= restart.upUs).map((ev) => ({ atUs: us(ev), id: (ev.command as Beacon).beacon_id, missed: false })),
      ...truth.beacons.missed.filter((m) => m.ioc === 'ioc1' && m.atUs >= restart.upUs).map((m) => ({ atUs: m.atUs, id: m.beaconId, missed: true })),
    ].sort((a, b) => a.atUs - b.atUs);
    expect(sent.some((b) => b.missed)).toBe(true);
    expect(sent[0]!.atUs).toBe(restart.upUs);
    expect(sent.slice(0, 8).map((b) => b.id)).toEqual([0, 0, 1, 2, 3, 4, 5, 6]);
    expect(sent.slice(0, 8).map((b) => b.atUs - restart.upUs)).toEqual([0, 20e3, 60e3, 140e3, 300e3, 620e3, 1260e3, 2540e3]);
    expect(truth.beacons.written).toBe(events.filter((ev) => ev.command instanceof Beacon).length);
    // the truth's frames: the first beacon written after the restart, and each client host's next circuit (its first CA message follows the SYN)
    expect(restart.upFrame).toBe(ioc1.find((ev) => us(ev) >= restart.upUs)!.frame);
    const ip = (name: string) => truth.clients.find((c) => c.name === name)!.ip;
    expect(restart.clients.length).toBeGreaterThan(0);
    for (const c of restart.clients) {
      const next = events.find((ev) => ev.src === ip(c.client) && ev.dport === 5064 && ev.transport === 'tcp' && us(ev) > restart.downUs);
      expect(next!.frame).toBeGreaterThan(c.backFrame!);
      expect(us(next!)).toBeGreaterThanOrEqual(c.backUs!);
    }
  });
});

describe('fixtures', () => {
  it.each(FIXTURES.map((f) => [f.file, f] as const))('%s regenerates byte for byte', async (_name, fixture) => {
    const { bytes, truth } = await generate(fixture.options);
    expect(hash(bytes)).toBe(hash(readFileSync(join(FIXTURE_DIR, fixture.file))));
    if (fixture.truth) expect(formatTruth(truth)).toBe(readFileSync(join(FIXTURE_DIR, fixture.truth), 'utf8'));
  });

  it('every format of the demo decodes to the same messages', async () => {
    const render = (events: CaEvent[]) => events.map((ev) => `${ev.tsSec}.${ev.tsNsec} ${ev.src}:${ev.sport} ${ev.dst}:${ev.dport} ${JSON.stringify(ev.command)}`);
    const outputs = await Promise.all(FIXTURES.map(async (f) => render((await decode(readFileSync(join(FIXTURE_DIR, f.file)))).events)));
    expect(outputs[0]!.length).toBe(JSON.parse(readFileSync(join(FIXTURE_DIR, 'demo.truth.json'), 'utf8')).messages.total);
    for (const out of outputs.slice(1)) expect(out).toEqual(outputs[0]);
  });

  describe('cawire synth', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cawire-synth-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('the command documented in fixtures.ts writes demo.pcap and its truth file', async () => {
      const out = join(dir, 'demo.pcap');
      const args = '--seed 665 --iocs 3 --clients 3 --pvs 12 --unfound 1 --duration 15s --rate 8 --restarts 1 --missed-beacons 0.3 -q'.split(' ');
      const argv = ['node', 'cawire', 'synth', out, ...args];
      await (await buildProgram(argv.slice(2))).parseAsync(argv);
      expect(hash(readFileSync(out))).toBe(hash(readFileSync(join(FIXTURE_DIR, 'demo.pcap'))));
      expect(readFileSync(join(dir, 'demo.truth.json'), 'utf8')).toBe(readFileSync(join(FIXTURE_DIR, 'demo.truth.json'), 'utf8'));
    });
  });
});

describe('streaming at scale', () => {
  // Decoding ~100 MB generated on the fly (the stdin path: a stream, never a whole
  // file in memory) keeps the heap of generator + dissector under 64 MB; measured
  // at about 25 MB, the same in the first and second half of the run.
  const HEAP_BOUND = 64 * 1024 * 1024;

  it('keeps heapUsed under 64 MB while ~100 MB stream through runDissection', { timeout: 120_000 }, async () => {
    const capture = new SynthCapture({
      scenario: { seed: 11, iocs: 10, clients: 6, pvs: 400, rate: 20_000, durationNs: undefined },
      format: 'pcap',
      maxBytes: 100e6,
    });
    const heap: number[] = [];
    let messages = 0;
    const result = await runDissection(capture, {}, () => messages++, { afterChunk: () => void heap.push(process.memoryUsage().heapUsed) });
    const truth = capture.truth();
    expect(truth.file.bytes).toBeGreaterThanOrEqual(100e6);
    expect(truth.file.bytes).toBeLessThan(100e6 + 2 ** 20);
    expect(messages).toBe(truth.messages.total);
    expect(result.stats.caMessages).toBe(truth.messages.total);
    expect(heap.length).toBeGreaterThan(90);
    expect(Math.max(...heap)).toBeLessThan(HEAP_BOUND);
  });
});
