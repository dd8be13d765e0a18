import { describe, expect, it } from 'vitest';
import { defaultTruthPath, parseDistribution, synthOptions } from '../../src/cli/synth.js';
import { parseSize } from '../../src/cli/units.js';
import { SCENARIO_DEFAULTS } from '../../src/synth/scenario.js';

describe('cawire synth arguments', () => {
  it('reads sizes in decimal and binary units', () => {
    expect(['100MB', '1GB', '512KiB', '2MiB', '1.5gb', '2e6'].map(parseSize)).toEqual([100e6, 1e9, 524288, 2097152, 1.5e9, 2e6]);
    expect(() => parseSize('lots')).toThrow('want a size');
  });

  it('reads latency distributions by their median', () => {
    expect(parseDistribution('2ms')).toEqual({ kind: 'fixed', medianNs: 2e6 });
    expect(parseDistribution('exp:250us')).toEqual({ kind: 'exponential', medianNs: 250e3 });
    expect(parseDistribution('lognormal:5ms')).toEqual({ kind: 'lognormal', medianNs: 5e6, sigma: 0.5 });
    expect(parseDistribution('lognormal:5ms:1.2')).toEqual({ kind: 'lognormal', medianNs: 5e6, sigma: 1.2 });
    expect(() => parseDistribution('gamma:5ms')).toThrow('not a latency');
  });

  it('puts the truth file beside the capture', () => {
    expect(['out/demo.pcap', 'a.nano.pcap', 'x.pcapng', 'noext'].map(defaultTruthPath)).toEqual([
      'out/demo.truth.json',
      'a.nano.truth.json',
      'x.truth.json',
      'noext.truth.json',
    ]);
  });

  const base = {
    seed: 1, iocs: 3, clients: 4, pvs: 40, unfound: 3, rate: 1000, format: 'pcap', link: 'ethernet',
    loss: 0, reorder: 0, retransmit: 0, missedBeacons: 0, restarts: 0, mss: 1448, start: 1767225600,
  } as const;

  it('runs 60 s by default, and until the size is reached when only --size is given', () => {
    expect(synthOptions({ ...base }).scenario.durationNs).toBe(60e9);
    expect(synthOptions({ ...base, size: 1e9 })).toMatchObject({ maxBytes: 1e9, scenario: { durationNs: undefined } });
    expect(synthOptions({ ...base, size: 1e9, duration: 10 }).scenario.durationNs).toBe(10e9);
  });

  it('maps formats and latencies to the library options', () => {
    const o = synthOptions({
      ...base,
      nanosecond: true,
      bigEndian: true,
      link: 'sll2',
      latency: { byIoc: { ioc2: { kind: 'fixed', medianNs: 1e6 } } },
    });
    expect(o).toMatchObject({ format: 'pcap', precision: 'ns', byteOrder: 'be', link: 'sll2' });
    expect(o.scenario.latency).toEqual({ ioc2: { kind: 'fixed', medianNs: 1e6 } });
    expect(o.scenario.defaultLatency).toEqual(SCENARIO_DEFAULTS.defaultLatency);
  });

  it('refuses latencies for IOCs the scenario does not have', () => {
    expect(() => synthOptions({ ...base, latency: { byIoc: { ioc4: { kind: 'fixed', medianNs: 1 } } } })).toThrow('the IOCs are ioc1 … ioc3');
  });
});
