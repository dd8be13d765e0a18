// What the dissector saw and what it could not decode, for the end-of-run report.

import type { MalformedReason } from '../../protocols/ca/framing.js';

/** What a protocol cawire does not decode was seen carrying, counted by its handler (e.g. the pvAccess stub). */
export interface ProtocolCounts {
  /** its name for people: 'pvAccess' */
  label: string;
  /** where its handler looks for it: 'TCP 5075, UDP 5075/5076' */
  ports: string;
  messages: number;
  /** messages by kind and command code ('app 13': 9, 'ctrl 2': 1 for pvAccess), set at the end */
  byCommand: Record<string, number>;
  /** bytes that did not frame as the protocol */
  malformed: number;
}

export interface DissectStats {
  packets: number;
  /** capture time of the first and last packet (Unix seconds; NaN before any packet) */
  firstTime: number;
  lastTime: number;
  /** the same exact: Unix seconds and nanoseconds (NaN before any packet) */
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  /** frames that are not IPv4 (ARP, IPv6, …) */
  nonIp: number;
  /** frames too short for their link or IP header */
  badFrames: number;
  /** IPv4 packets that are neither TCP nor UDP (ICMP, …) */
  otherProtocol: number;
  /** TCP/UDP packets on ports that are not CA */
  otherPorts: number;
  /** packets cut by the capture's snapshot length */
  cutPackets: number;
  ipFragments: number;
  ipFragmentsDropped: number;
  caMessages: number;
  udpDatagrams: number;
  tcpSegments: number;
  circuits: number;
  /** circuits evicted from the table because it was full */
  circuitsEvicted: number;
  /** circuits dropped because too many were open that the server had not answered (a scan?) */
  unansweredEvicted: number;
  retransmissions: number;
  outOfOrder: number;
  /** holes in TCP streams: bytes the capture lost */
  gaps: number;
  gapBytes: number;
  /** bytes that could not be framed as CA, by reason */
  malformed: Record<MalformedReason, { count: number; bytes: number }>;
  /** ids dropped from per-circuit tables or the search table because they were full */
  idsEvicted: number;
  /** other protocols' handlers' counts, by handler name ('pva') */
  protocols: Record<string, ProtocolCounts>;
  /** the ports of most packets no handler claimed (the lower port of each packet), busiest first, at most 3; set at the end */
  busiestOtherPorts: { transport: 'tcp' | 'udp'; port: number; packets: number }[];
  /** when little or nothing was decoded: why, and what to try (one line; '' otherwise); set at the end */
  littleDecoded: string;
}

export function newStats(): DissectStats {
  const z = () => ({ count: 0, bytes: 0 });
  return {
    packets: 0,
    firstTime: NaN,
    lastTime: NaN,
    firstSec: NaN,
    firstNsec: NaN,
    lastSec: NaN,
    lastNsec: NaN,
    nonIp: 0,
    badFrames: 0,
    otherProtocol: 0,
    otherPorts: 0,
    cutPackets: 0,
    ipFragments: 0,
    ipFragmentsDropped: 0,
    caMessages: 0,
    udpDatagrams: 0,
    tcpSegments: 0,
    circuits: 0,
    circuitsEvicted: 0,
    unansweredEvicted: 0,
    retransmissions: 0,
    outOfOrder: 0,
    gaps: 0,
    gapBytes: 0,
    malformed: { 'bad-header': z(), oversize: z(), resync: z(), overrun: z(), incomplete: z() },
    idsEvicted: 0,
    protocols: {},
    busiestOtherPorts: [],
    littleDecoded: '',
  };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One line naming everything that was not decoded, or '' when nothing was skipped. */
export function skippedSummary(s: DissectStats): string {
  const parts: string[] = [];
  if (s.nonIp) parts.push(`${plural(s.nonIp, 'non-IPv4 frame')}`);
  if (s.badFrames) parts.push(`${plural(s.badFrames, 'frame')} too short for its headers`);
  if (s.otherProtocol) parts.push(`${plural(s.otherProtocol, 'packet')} neither TCP nor UDP`);
  if (s.otherPorts) parts.push(`${plural(s.otherPorts, 'packet')} on other ports`);
  for (const p of Object.values(s.protocols)) {
    if (p.messages) parts.push(`${plural(p.messages, `${p.label} message`)} on ${p.ports} (cawire decodes CA)`);
  }
  if (s.cutPackets) parts.push(`${plural(s.cutPackets, 'packet')} cut by the snapshot length`);
  if (s.ipFragmentsDropped) parts.push(`${plural(s.ipFragmentsDropped, 'IP datagram')} with missing fragments`);
  if (s.gaps) parts.push(`${plural(s.gaps, 'capture gap')} in TCP streams (${s.gapBytes} bytes lost)`);
  const m = s.malformed;
  const bad = m['bad-header'].count + m.overrun.count;
  if (bad) parts.push(`${plural(bad, 'malformed CA message')} (${m['bad-header'].bytes + m.overrun.bytes} bytes)`);
  if (m.resync.count) parts.push(`${m.resync.bytes} bytes skipped to resynchronise`);
  if (m.oversize.count) parts.push(`${plural(m.oversize.count, 'message')} over the size limit (${m.oversize.bytes} bytes)`);
  if (m.incomplete.count) parts.push(`${plural(m.incomplete.count, 'incomplete message')} at a gap or the end (${m.incomplete.bytes} bytes)`);
  if (s.circuitsEvicted) parts.push(`${plural(s.circuitsEvicted, 'circuit')} dropped (table full)`);
  if (s.unansweredEvicted) parts.push(`${plural(s.unansweredEvicted, 'circuit')} the server never answered dropped (too many open at once: a scan?)`);
  if (s.idsEvicted) parts.push(`${plural(s.idsEvicted, 'channel/request id')} forgotten (table full)`);
  return parts.length ? `not decoded: ${parts.join(', ')}` : '';
}
