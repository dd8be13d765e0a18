// Two captures of one synthetic world (synth --vantage) in a test's folder, with
// its truth: a fixed 2 ms up, lognormal 5 ms down, 0.3 s clock offset by default.

import { join } from 'node:path';
import { writeVantageCaptures, type VantageOptions, type VantageTruth } from '../../src/synth/vantage.js';

export function vantageWorld(dir: string, name: string, o: Partial<VantageOptions>): { a: string; b: string; truth: VantageTruth } {
  const [a, b] = [join(dir, `${name}.client.pcap`), join(dir, `${name}.server.pcap`)];
  const truth = writeVantageCaptures(
    {
      scenario: { seed: 3, durationNs: 8e9, rate: 500 },
      up: { kind: 'fixed', medianNs: 2_000_000 },
      down: { kind: 'lognormal', medianNs: 5_000_000, sigma: 0.5 },
      loss: 0.01,
      clockOffset: 0.3,
      nat: false,
      ...o,
    },
    a,
    b,
  );
  return { a, b, truth };
}
