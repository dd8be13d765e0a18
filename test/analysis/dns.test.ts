// The summary's DNS line: queries the CA client hosts sent to port 53 and how many went unanswered.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../src/analysis/runner.js';
import { SummaryAnalysis } from '../../src/analysis/summary.js';
import { HAVE_SHARED, SHARED, SKIP_REASON } from '../helpers/shared.js';

async function dnsOf(file: string) {
  const { part } = await runAnalysis([join(SHARED, 'corpus/scenarios', file)], new SummaryAnalysis());
  return part.dns!;
}

describe.skipIf(!HAVE_SHARED)(`summary DNS line (${HAVE_SHARED ? 'corpus' : SKIP_REASON})`, () => {
  // The .txt files count `udp.dstport == 53` with tshark: 42 and 46. Four of those frames in each capture are the
  // router's ICMP unreachable errors quoting a query (`tshark -Y "udp.dstport==53 && icmp"`: 4 and 4); the
  // queries themselves are `udp.dstport==53 && !icmp`: 38 and 42, none answered (`dns.flags.response==1`: 0).
  it('twopoint_lossy.client: 38 queries by the client host, all unanswered', async () => {
    expect(await dnsOf('twopoint_lossy.client.pcap')).toMatchObject({ queries: 38, unanswered: 38, slow: 0 });
  });

  it('flaky_connect.client: 42 queries, all unanswered; the IOC-side capture has none', async () => {
    const d = await dnsOf('flaky_connect.client.pcap');
    expect(d).toMatchObject({ queries: 42, unanswered: 42, slow: 0 });
    // the summary names the first 10 as examples
    expect(d.frames).toHaveLength(10);
    expect(await dnsOf('flaky_connect.server.pcap')).toMatchObject({ queries: 0, unanswered: 0 });
  });

  it('twopoint_lossy.client: the examples are the queries\' own frames', async () => {
    const d = await dnsOf('twopoint_lossy.client.pcap');
    // tshark -Y "udp.dstport==53 && !icmp" -T fields -e frame.number: 24 25 28 29 403 603 ...
    expect(d.frames.slice(0, 6)).toEqual([24, 25, 28, 29, 403, 603]);
  });
});
