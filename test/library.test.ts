// The package's public entry point, imported by name as a user would (needs the build: npm test runs tsc first).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureParser, Dissector, captureChunks, dissect, epicsToUnixSeconds, formatCommand, type CaEvent, type CaptureSource } from 'cawire';
import { HAVE_SHARED, REAL } from './helpers/shared.js';

describe.skipIf(!HAVE_SHARED)("import { dissect } from 'cawire'", () => {
  it('iterates the typed messages of a capture with their circuit, direction and PV', async () => {
    const d = dissect(join(REAL, 'caput.pcap'));
    const failed: string[] = [];
    let n = 0;
    for await (const ev of d as AsyncIterable<CaEvent>) {
      n++;
      if (ev.type === 'WriteNotifyResponse' && ev.command.status !== 1) {
        failed.push(`${ev.pv} ${ev.direction} ${ev.circuit?.server} ${formatCommand(ev.command)}`);
      }
    }
    expect(n).toBe(354);
    expect(failed).toEqual([
      'TEST:disabled response 127.0.0.1:5064 WriteNotifyResponse(data_type=DBR_STRING, data_count=1, status=ECA_PUTFAIL, ioid=2)',
      'TEST:ao response 127.0.0.1:5064 WriteNotifyResponse(data_type=DBR_STRING, data_count=1, status=ECA_PUTFAIL, ioid=2)',
    ]);
    expect(d.result?.stats.caMessages).toBe(354);
    expect(d.result?.capture.packets).toBe(390);
  });
});

/** Every event of a capture read by captureChunks(path, chunkOptions) into a default Dissector, as a user might. */
async function eventsThroughChunks(path: CaptureSource, chunkOptions: object): Promise<CaEvent[]> {
  const events: CaEvent[] = [];
  const dissector = new Dissector({}, (ev) => events.push(ev));
  const parser = new CaptureParser(dissector);
  for await (const chunk of captureChunks(path, chunkOptions)) parser.push(chunk);
  parser.end();
  dissector.finish();
  return events;
}

describe.skipIf(!HAVE_SHARED)("how long a message's bytes stay valid", () => {
  it('events keep their bytes after the run, whatever captureChunks is asked (it once reused its buffer under a default Dissector)', async () => {
    const path = join(REAL, 'camonitor_fast.pcap'); // 177,820 bytes: three 64 KiB chunks when reused
    const asked = await eventsThroughChunks(path, { reuseBuffer: true });
    const fresh = await eventsThroughChunks(path, {});
    // camonitor_fast.txt: one search per name, and 1211 updates whose DBR_TIME stamps fall in the capture's 11.5 s
    const names = asked.flatMap((ev) => (ev.type === 'SearchRequest' ? [ev.command.name] : [])).sort();
    expect(names).toEqual(['TEST:ai', 'TEST:calc10', 'TEST:calc100', 'TEST:sine']);
    const first = Date.UTC(2026, 10, 23, 8, 54, 51) / 1000;
    const stamps = asked.flatMap((ev) => (ev.type === 'EventAddResponse' ? [epicsToUnixSeconds(ev.command.metadata.secPastEpoch ?? 0, ev.command.metadata.nsec ?? 0)] : []));
    expect(stamps).toHaveLength(1211);
    expect(stamps.filter((t) => t >= first - 1 && t <= first + 13)).toHaveLength(1211);
    expect(asked.map((ev) => formatCommand(ev.command))).toEqual(fresh.map((ev) => formatCommand(ev.command)));
  });
});
