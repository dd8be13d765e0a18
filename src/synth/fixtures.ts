// The project's fixture captures, all made by `cawire synth` and regenerated
// byte for byte by `npm run fixtures` (node dist/src/synth/fixtures.js [DIR]).
//
// demo.pcap is the capture the README runs cawire on: 15 s of three IOCs (one on
// an ephemeral TCP port, one a gateway) and three clients, about 500 messages
// with every command the generator writes, a 10000-element waveform that spans
// many segments (extended header), a name never found, an IOC restart with its
// beacon ramp, missed beacons, ECA_PUTFAIL, FIN and RST endings. The other files
// hold the same traffic in other formats, for the format-invariance test. The
// same demo from the command line:
//   cawire synth fixtures/demo.pcap --seed 665 --iocs 3 --clients 3 --pvs 12 --unfound 1 \
//     --duration 15s --rate 8 --restarts 1 --missed-beacons 0.3

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeSynthCapture, type SynthCaptureOptions } from './capture-stream.js';
import type { ScenarioOptions } from './scenario.js';

export const DEMO_SCENARIO: Partial<ScenarioOptions> = {
  seed: 665,
  iocs: 3,
  clients: 3,
  pvs: 12,
  unfound: 1,
  durationNs: 15e9,
  rate: 8,
  restarts: 1,
  missedBeacons: 0.3,
};

export interface Fixture {
  file: string;
  /** the truth file written beside it, if any */
  truth?: string;
  options: SynthCaptureOptions;
}

export const FIXTURES: readonly Fixture[] = [
  { file: 'demo.pcap', truth: 'demo.truth.json', options: { scenario: DEMO_SCENARIO, format: 'pcap' } },
  { file: 'demo.pcapng', options: { scenario: DEMO_SCENARIO, format: 'pcapng' } },
  { file: 'demo.nano.pcap', options: { scenario: DEMO_SCENARIO, format: 'pcap', precision: 'ns' } },
  { file: 'demo.sll.pcap', options: { scenario: DEMO_SCENARIO, format: 'pcap', link: 'sll' } },
  { file: 'demo.be.pcap', options: { scenario: DEMO_SCENARIO, format: 'pcap', byteOrder: 'be' } },
];

export async function writeFixtures(dir: string): Promise<void> {
  for (const f of FIXTURES) {
    await writeSynthCapture(f.options, join(dir, f.file), f.truth && join(dir, f.truth));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? 'fixtures';
  await writeFixtures(dir);
  process.stderr.write(`wrote ${FIXTURES.map((f) => [f.file, f.truth].filter(Boolean).join(' + ')).join(', ')} in ${dir}/\n`);
}
