import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BeaconAnalysis } from '../../src/analysis/beacons.js';
import { CircuitAnalysis, type CircuitSummary } from '../../src/analysis/circuits.js';
import { findRestarts, refusedConnections, serverClosed, type IocRestart } from '../../src/analysis/restarts.js';
import type { CaptureSource } from '../../src/capture/source.js';
import { runDissection } from '../../src/dissect/run.js';
import { SynthCapture, type SynthCaptureOptions, type SynthTruth } from '../../src/synth/capture-stream.js';
import { HAVE_SHARED, SHARED } from '../helpers/shared.js';
import { circuitCapture, serverCloseCapture } from './report-captures.js';

/** The beacon and circuit reports of a capture, and the restarts found in them. */
async function analyse(source: CaptureSource): Promise<{ circuits: CircuitSummary[]; restarts: IocRestart[] }> {
  const beacons = new BeaconAnalysis();
  const circuitAnalysis = new CircuitAnalysis();
  await runDissection(
    source,
    {},
    (ev) => {
      beacons.event(ev);
      circuitAnalysis.event(ev);
    },
    { listener: { circuitEnded: (c) => circuitAnalysis.circuitEnded(c) } },
  );
  const circuits = circuitAnalysis.finish();
  return { circuits, restarts: findRestarts(beacons.finish(), circuits) };
}

async function generate(opts: SynthCaptureOptions): Promise<{ bytes: Buffer; truth: SynthTruth }> {
  const capture = new SynthCapture(opts);
  const chunks: Buffer[] = [];
  for await (const chunk of capture) chunks.push(chunk as Buffer);
  return { bytes: Buffer.concat(chunks), truth: capture.truth() };
}

/**
 * Per restart: server before and after, the frame of the IOC's first FIN/RST and of
 * its first beacon after, and per client host its SYN's frame and µs after the down.
 */
type RestartFacts = [string, string, number | undefined, number | undefined, [string, number | null, number | null][]];

function truthFacts(truth: SynthTruth): RestartFacts[] {
  const iocIp = new Map(truth.iocs.map((i) => [i.name, i.ip]));
  const clientIp = new Map(truth.clients.map((c) => [c.name, c.ip]));
  return truth.beacons.restarts.map((r) => {
    const ip = iocIp.get(r.ioc)!;
    const clients = r.clients.map((c): [string, number | null, number | null] => [clientIp.get(c.client)!, c.backFrame ?? null, c.backUs === undefined ? null : c.backUs - r.downUs]);
    return [`${ip}:${r.portBefore}`, `${ip}:${r.portAfter}`, r.downFrame, r.upFrame, clients.sort()];
  });
}

function foundFacts(restarts: IocRestart[]): RestartFacts[] {
  return restarts.map((r) => {
    const clients = r.clients.map((c): [string, number | null, number | null] => [c.host, c.back?.startFrame ?? null, c.seconds === undefined ? null : Math.round(c.seconds * 1e6)]);
    return [r.server, r.serverAfter, r.closed[0]?.closeFrame, r.beaconAfter?.at.frame, clients.sort()];
  });
}

describe('IOC restarts', () => {
  it.each([
    // the scenario of `cawire synth out.pcap --seed 7 --iocs 3 --clients 4 --pvs 40 --duration 60s --restarts 3`
    ['seed 7, three restarts', { seed: 7, iocs: 3, clients: 4, pvs: 40, durationNs: 60e9, restarts: 3 }, []],
    // 30% of the beacons missed; the caget host client3 never reconnects to ioc2
    ['seed 25, missed beacons', { seed: 25, iocs: 3, clients: 4, pvs: 40, durationNs: 30e9, rate: 100, restarts: 2, missedBeacons: 0.3 }, ['ioc2 client3']],
  ])('%s: when each IOC went down and came back, and when each client host had a circuit again, as the synth truth says', async (_, scenario, notBack) => {
    const { bytes, truth } = await generate({ scenario, format: 'pcap' });
    const expected = truthFacts(truth);
    expect(expected.length).toBe(scenario.restarts);
    expect(truth.beacons.restarts.flatMap((r) => r.clients.filter((c) => c.backFrame === undefined).map((c) => `${r.ioc} ${c.client}`))).toEqual(notBack);
    const { restarts } = await analyse(bytes);
    expect(foundFacts(restarts)).toEqual(expected);
    // ioc2, on an ephemeral TCP port, came back on another port: seen from its fresh beacons there
    const moved = restarts.filter((r) => r.server !== r.serverAfter);
    expect(moved.map((r) => [r.server.split(':')[0], r.evidence])).toEqual([[truth.iocs[1]!.ip, 'fresh-beacons']]);
  });

  it('demo.pcap: the IOC restart its truth file holds, seen from its fresh beacons (those of before were missed)', async () => {
    const demo = new URL('../../fixtures/', import.meta.url).pathname;
    const truth = JSON.parse(readFileSync(join(demo, 'demo.truth.json'), 'utf8')) as SynthTruth;
    const { restarts } = await analyse(join(demo, 'demo.pcap'));
    expect(foundFacts(restarts)).toEqual(truthFacts(truth));
    expect(restarts.map((r) => [r.evidence, r.beaconBefore])).toEqual([['fresh-beacons', undefined]]);
  });

  it('no beacon: the server closing both its circuits at once is a restart; one circuit closed alone is not', async () => {
    const { circuits, restarts } = await analyse(serverCloseCapture());
    // frames from tshark: FIN 22 and RST 25 from 10.0.0.1:5064, SYN of 10.0.0.9's next circuit 28, FIN 35 from 10.0.0.2:5064
    expect(restarts).toHaveLength(1);
    const r = restarts[0]!;
    expect([r.server, r.serverAfter, r.evidence, r.beaconAfter]).toEqual(['10.0.0.1:5064', '10.0.0.1:5064', 'circuits', undefined]);
    expect(r.closed.map((c) => [c.id, c.closeFrame])).toEqual([
      [1, 22],
      [2, 25],
    ]);
    expect(r.clients.map((c) => [c.host, c.lost.map((l) => l.id), c.back?.id, c.back?.startFrame, c.seconds?.toFixed(6)])).toEqual([
      ['10.0.0.9', [1], 5, 28, '4.000000'],
      ['10.0.0.8', [2], undefined, undefined, undefined],
    ]);
    expect(serverClosed(circuits).map((c) => [c.id, c.closeFrame])).toEqual([
      [1, 22],
      [2, 25],
      [3, 35],
    ]);
    expect(refusedConnections(circuits).map((c) => [c.id, c.endFrame])).toEqual([[4, 27]]);
  });

  // frames from tshark: the RST from 10.0.0.1:5064 in 42, the first FIN from 10.0.0.2:5064 in 45 (the client's in 46 completes the close)
  it('a reset while another circuit of the server stays open is no restart', async () => {
    const { circuits, restarts } = await analyse(circuitCapture());
    expect(restarts).toEqual([]);
    expect(serverClosed(circuits).map((c) => [c.id, c.closer, c.endedBy, c.closeFrame])).toEqual([
      [1, 'server', 'rst', 42],
      [2, 'server', 'fin', 45],
    ]);
  });

  describe.skipIf(!HAVE_SHARED)('real captures', () => {
    // First FIN or RST of each TCP connection (tshark: tcp.flags.fin or tcp.flags.reset, first frame per tcp.stream):
    // all 31 sent by the client host 10.9.1.2, 24 FINs and 7 RSTs; no server closes anything.
    const FLAKY_CLIENT_CLOSES = [37, 61, 88, 125, 149, 164, 167, 170, 190, 226, 245, 256, 278, 302, 329, 349, 384, 412, 435, 455, 477, 482, 502, 520, 540, 560, 575, 606, 626, 656, 663];
    const FLAKY_SERVER_CLOSES = [35, 58, 82, 116, 140, 161, 179, 190, 211, 230, 252, 260, 284, 297, 303, 325, 353, 376, 398, 417, 444, 459, 479, 496, 514, 527, 553, 575, 589, 608, 614];

    it.each([
      ['client', FLAKY_CLIENT_CLOSES],
      ['server', FLAKY_SERVER_CLOSES],
    ])('flaky_connect.%s: every close is the client host\'s, at the frames tshark gives; no restart', async (side, frames) => {
      const { circuits, restarts } = await analyse(join(SHARED, `corpus/scenarios/flaky_connect.${side}.pcap`));
      const closed = circuits.filter((c) => c.closer !== undefined);
      expect(closed.map((c) => c.closeFrame).sort((a, b) => a! - b!)).toEqual(frames);
      expect(closed.every((c) => c.closer === 'client')).toBe(true);
      expect([closed.filter((c) => c.endedBy === 'fin').length, closed.filter((c) => c.endedBy === 'rst').length]).toEqual([24, 7]);
      expect(serverClosed(circuits)).toEqual([]);
      expect(restarts).toEqual([]);
    });
  });
});
