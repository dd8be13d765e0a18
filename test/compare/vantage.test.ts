// cawire compare against the truth of `cawire synth --vantage client,server`: one
// world captured at both points, with known delays, loss, clock offset and NAT.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareReport } from '../../src/compare/report.js';
import { runCompare } from '../../src/compare/run.js';
import type { VantageOptions } from '../../src/synth/vantage.js';
import { vantageWorld } from '../helpers/vantage-world.js';

const PORTS = new Set([5064]);
const tmp = mkdtempSync(join(tmpdir(), 'cawire-vantage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const world = (name: string, o: Partial<VantageOptions> = {}) => vantageWorld(tmp, name, o);

async function compare(a: string, b: string, nat: boolean, clockOffset?: number) {
  const run = await runCompare([a, b], { filter: { serverPorts: PORTS, repeaterPort: 5065, nat }, clockOffset });
  return compareReport(run, PORTS, 5064);
}

describe('compare against synth --vantage truth', () => {
  const w = world('plain');

  it('counts what was sent, lost and received, and the delays, with the offset given', async () => {
    const r = await compare(w.a, w.b, false, 0.3);
    expect(w.truth.client_to_server.lost).toBeGreaterThan(0);
    for (const dir of ['client_to_server', 'server_to_client'] as const) {
      expect(r[dir].packets).toBe(w.truth[dir].packets);
      expect(r[dir].lost_packets).toBe(w.truth[dir].lost);
      expect(r[dir].unmatched_received).toBe(0);
      for (const k of ['min', 'p50', 'p90', 'p99', 'max'] as const) expect(Math.abs(r[dir].owd_ms[k] - w.truth[dir].owd_ms[k])).toBeLessThanOrEqual(0.001);
    }
  });

  it('estimates the offset as the fastest trips say: the offset plus half the difference of the least delays', async () => {
    const r = await compare(w.a, w.b, false);
    const { client_to_server: up, server_to_client: down } = w.truth;
    const expected = w.truth.clock_offset_s + (down.owd_ms.min - up.owd_ms.min) / 2000;
    expect(Math.abs(r.clock_offset_s - expected)).toBeLessThan(1e-6);
    expect(r.client_to_server.packets).toBe(up.packets);
    expect(r.server_to_client.lost_packets).toBe(down.lost);
  });

  it('behind an address translator, --nat maps each circuit to its translated one', async () => {
    const n = world('nat', { nat: true });
    expect(Object.keys(n.truth.nat).length).toBeGreaterThan(0);
    // Without --nat nothing matches the circuits (only datagrams from the IOCs to the translated address would).
    const r = await compare(n.a, n.b, true, 0.3);
    expect(r.circuits.length).toBeGreaterThan(0);
    for (const c of r.circuits) {
      expect(c.client_at_b).toBe(n.truth.nat[c.client]);
      expect(c.match_score).toBe(1);
    }
    expect(r.client_to_server.packets).toBe(n.truth.client_to_server.packets);
    expect(r.client_to_server.lost_packets).toBe(n.truth.client_to_server.lost);
    expect(r.server_to_client.lost_packets).toBe(n.truth.server_to_client.lost);
  });
});
