// The package's public entry point, imported by name as a user would (needs the build: npm test runs tsc first).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dissect, formatCommand, type CaEvent } from 'cawire';
import { HAVE_SHARED, REAL } from './helpers/shared.js';

describe.skipIf(!HAVE_SHARED)("import { dissect } from 'cawire'", () => {
  it('iterates the typed messages of a capture with their circuit, direction and PV', async () => {
    const d = dissect(join(REAL, 'caput.pcap'));
    const failed: string[] = [];
    let n = 0;
    for await (const ev of d as AsyncIterable<CaEvent>) {
      n++;
      if (ev.type === 'WriteNotifyResponse' && (ev.command as unknown as { status: number }).status !== 1) {
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
