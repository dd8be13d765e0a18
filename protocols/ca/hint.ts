// The end-of-run hint when a capture yields no CA messages, or few: why, and what to try.

import type { ResolvedOptions } from '../../src/dissect/options.js';
import type { DissectStats } from '../../src/dissect/stats.js';

/** CA messages this many times fewer than the packets on unclaimed ports are "few". */
const FEW_RATIO = 10;

/** One line ('' when CA was decoded well enough, or nothing else was seen): the busiest undecoded ports, --ports and EPICS_CA_SERVER_PORT, other protocols seen. */
export function littleDecodedHint(s: DissectStats, o: ResolvedOptions): string {
  if (s.packets === 0 || (s.caMessages > 0 && s.caMessages * FEW_RATIO >= s.otherPorts)) return '';
  const head = s.caMessages === 0 ? 'no CA messages decoded' : `only ${s.caMessages} CA message${s.caMessages === 1 ? '' : 's'} decoded`;
  const why: string[] = [];
  for (const p of Object.values(s.protocols)) {
    if (p.messages > 0) why.push(`${p.label} traffic seen (${p.messages} message${p.messages === 1 ? '' : 's'} on ${p.ports}), which cawire does not decode`);
  }
  const top = s.busiestOtherPorts;
  if (top.length > 0) {
    const ports = top.map((t) => `${t.transport} ${t.port} (${t.packets} packet${t.packets === 1 ? '' : 's'})`).join(', ');
    why.push(`busiest undecoded ports: ${ports}`);
    why.push(`if CA runs on one of them, try --ports ${top[0]!.port} or EPICS_CA_SERVER_PORT=${top[0]!.port} (CA server port now ${o.serverPort}, repeater ${o.repeaterPort})`);
  }
  // Nothing to say (the traffic was all on CA ports, e.g. circuits that carried no whole message): no hint.
  return why.length > 0 ? `${head}: ${why.join('; ')}` : '';
}
