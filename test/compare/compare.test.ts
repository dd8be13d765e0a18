// cawire compare on the two-point scenario captures, against the figures of an
// independent matcher (scenarios/twopoint_lossy.txt), and with one capture's
// clock shifted by the project's own capture writer.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/source.js';
import { compareReport, type DirectionTotals } from '../../src/compare/report.js';
import { runCompare } from '../../src/compare/run.js';
import { CaptureWriter } from '../../src/synth/capture-writer.js';
import { HAVE_SHARED, SHARED, SKIP_REASON } from '../helpers/shared.js';

const S = join(SHARED, 'corpus/scenarios');
const PORTS = new Set([5064]);
const FILTER = { serverPorts: PORTS, repeaterPort: 5065, nat: false };

async function compare(a: string, b: string, clockOffset?: number) {
  const run = await runCompare([a, b], { filter: FILTER, clockOffset });
  return compareReport(run, PORTS, 5064);
}

/** Within 1 µs or 1 % of the independent figure (ms, as the .txt rounds it to 3 places: ±0.5 µs more). */
function near(got: number, want: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(Math.max(0.0015, want * 0.01));
}

function expectDelays(t: DirectionTotals, want: { min: number; p50: number; p90: number; max: number }): void {
  near(t.owd_ms.min, want.min);
  near(t.owd_ms.p50, want.p50);
  near(t.owd_ms.p90, want.p90);
  near(t.owd_ms.max, want.max);
}

/** A copy of a capture with every time stamp `shift` seconds later, written by the project's writer (ns). */
async function shifted(path: string, shift: number, dir: string): Promise<string> {
  const writer = new CaptureWriter({ format: 'pcap', precision: 'ns' });
  await readCapture(path, {
    packet: (_f, _l, sec, nsec, data, off, capLen, origLen) => {
      let s = sec + Math.trunc(shift);
      let n = nsec + Math.round((shift % 1) * 1e9);
      if (n >= 1e9) [s, n] = [s + 1, n - 1e9];
      writer.writePacket(s, n, data.subarray(off, off + capLen), origLen);
    },
  });
  const out = join(dir, 'shifted.pcap');
  writeFileSync(out, writer.toBuffer());
  return out;
}

const UP_FACTS = { min: 0.001, p50: 0.006, p90: 0.029, max: 0.069 };
const DOWN_FACTS = { min: 0.001, p50: 1.288, p90: 8.144, max: 10.171 };

describe.skipIf(!HAVE_SHARED)(`compare on twopoint_lossy ${HAVE_SHARED ? '' : SKIP_REASON}`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cawire-compare-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const A = join(S, 'twopoint_lossy.client.pcap');
  const B = join(S, 'twopoint_lossy.server.pcap');

  it('matches and loses what the independent matcher does, with its delays', async () => {
    const r = await compare(A, B);
    expect(r.clock_offset_source).toBe('estimated');
    expect(Math.abs(r.clock_offset_s)).toBeLessThan(1e-6);
    expect(r.client_to_server.packets).toBe(158);
    expect(r.client_to_server.lost_tcp_segments).toBe(3);
    expect(r.client_to_server.lost_datagrams).toBe(0);
    expect(r.client_to_server.lost_packets).toBe(3);
    expect(r.server_to_client.packets).toBe(7201);
    expect(r.server_to_client.lost_tcp_segments).toBe(148);
    expect(r.server_to_client.lost_datagrams).toBe(1);
    expect(r.server_to_client.lost_packets).toBe(149);
    expectDelays(r.client_to_server, UP_FACTS);
    expectDelays(r.server_to_client, DOWN_FACTS);
    // One IOC, and the camonitor, 30 caget and 3 caput circuits (the name not found opens none).
    expect(r.servers.map((s) => s.server)).toEqual(['10.9.2.2:5064']);
    expect(r.servers[0]!.server_to_client.packets).toBe(7201);
    expect(r.circuits).toHaveLength(34);
    // Both captures ran throughout: nothing is put down to a capture not running.
    expect(r.client_to_server.outside_other_capture + r.server_to_client.outside_other_capture).toBe(0);
  });

  it('gives the same delays with the offset given as 0', async () => {
    const r = await compare(A, B, 0);
    expect(r.clock_offset_source).toBe('given');
    expect(r.client_to_server.packets).toBe(158);
    expectDelays(r.client_to_server, UP_FACTS);
    expectDelays(r.server_to_client, DOWN_FACTS);
  });

  it('estimates a shifted clock within 0.1 ms and gives the same delays', async () => {
    const plain = await compare(A, B);
    const r = await compare(A, await shifted(B, 0.25, tmp));
    // B's clock runs 0.25 s ahead: A's minus B's is -0.25 s.
    expect(Math.abs(r.clock_offset_s + 0.25)).toBeLessThan(1e-4);
    expect(r.client_to_server.packets).toBe(158);
    expect(r.server_to_client.packets).toBe(7201);
    expect(r.server_to_client.lost_packets).toBe(149);
    for (const k of ['min', 'p50', 'p90', 'p99', 'max'] as const) {
      expect(Math.abs(r.client_to_server.owd_ms[k] - plain.client_to_server.owd_ms[k])).toBeLessThanOrEqual(0.001);
      expect(Math.abs(r.server_to_client.owd_ms[k] - plain.server_to_client.owd_ms[k])).toBeLessThanOrEqual(0.001);
    }
  });

  it('finds no loss where the router dropped nothing (slow_consumer), and at most the drops on flaky_connect', async () => {
    const slow = await compare(join(S, 'slow_consumer.client.pcap'), join(S, 'slow_consumer.server.pcap'));
    expect(slow.client_to_server.lost_packets + slow.server_to_client.lost_packets).toBe(0);
    expect(slow.client_to_server.unmatched_received + slow.server_to_client.unmatched_received).toBe(0);
    // The router dropped 82 packets client to server and 79 back, pure ACKs and SYNs included.
    const flaky = await compare(join(S, 'flaky_connect.client.pcap'), join(S, 'flaky_connect.server.pcap'));
    expect(flaky.client_to_server.lost_packets).toBeGreaterThan(0);
    expect(flaky.client_to_server.lost_packets).toBeLessThanOrEqual(82);
    expect(flaky.server_to_client.lost_packets).toBeLessThanOrEqual(79);
    // No queue on that router: a delay of a retransmission timeout would be a copy matched to the wrong send.
    expect(flaky.client_to_server.owd_ms.max).toBeLessThan(5);
  });
});
